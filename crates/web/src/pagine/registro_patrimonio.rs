//! What `patrimonio` adds beside the generic register pages: the map of buildings (a view of
//! its own, next to the lists) and, on a building's page, its cadastral identifiers with the
//! link to the Agenzia delle Entrate's consultation. Everything else about the asset register
//! (lists, records, history, exports, API) is the generic engine's.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Value as Mj, context};
use servizi::registro::{TavolaRegistro, Versione};

use super::registro::{BLOCCO, Sfoglia, contesto_filtri, dati_mappa, dati_mappa_con, nomi, tavola};
use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::estrattori::Query;
use crate::modelli::pagina;
use crate::registro::{Filtri, coordinate, descrizione, filtro_da, url_dettaglio, valore};
use crate::rotte::{Rotte, get};

/// Most buildings shown on the map page.
const MAX_PUNTI_MAPPA: usize = 5_000;
/// Most rows read to find the map's buildings with coordinates.
const MAX_LETTI_MAPPA: usize = 200_000;

/// Agenzia delle Entrate: the public cadastral consultation service.
const CONSULTAZIONE_CATASTO: &str = "https://www.agenziaentrate.gov.it/portale/web/guest/schede/fabbricatiterreni/consultazione-catastale";

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/area/registro/mappa", get(mappa))
        .route("/area/registro/mappa.json", get(mappa_json))
}

/// The views `patrimonio` adds beside its lists: (label, path).
pub(crate) fn viste(t: &TavolaRegistro) -> Vec<(&'static str, &'static str)> {
    if t.dominio.nome == "patrimonio" {
        vec![("Mappa dei fabbricati", "/area/registro/mappa")]
    } else {
        Vec::new()
    }
}

/// What a building's page adds: its cadastral identifiers (`None` for other tables).
pub(crate) fn scheda(
    t: &TavolaRegistro,
    v: &Versione,
    comuni: &HashMap<String, String>,
) -> Option<Mj> {
    if t.tabella.nome != "fabbricati" {
        return None;
    }
    let (foglio, particella) = (valore(t, v, "foglio"), valore(t, v, "particella"));
    if foglio.is_none() && particella.is_none() {
        return None;
    }
    let comune = valore(t, v, "comune_istat").unwrap_or("");
    Some(context! {
        catasto => context! {
            foglio, particella, comune,
            comune_nome => comuni.get(comune),
            url => CONSULTAZIONE_CATASTO,
        }
    })
}

/// The buildings of a map: the list's filters, at most [`MAX_PUNTI_MAPPA`] with coordinates.
struct PuntiMappa {
    punti: Vec<(f64, f64, String, String)>,
    chiavi: Vec<(String, String)>,
    senza: usize,
    troncato: bool,
    alla_data: Option<chrono::NaiveDate>,
}

async fn punti_mappa(st: &Stato, cx: &Contesto, f: &Filtri) -> Result<PuntiMappa, ErrorePagina> {
    let t = tavola("fabbricati")?;
    let filtro = filtro_da(t, f, BLOCCO).map_err(ErrorePagina::RichiestaNonValida)?;
    let alla_data = filtro.alla_data;
    let mut sf = Sfoglia::new(st.clone(), cx.soggetto().clone(), t, filtro);
    let mut m = PuntiMappa {
        punti: Vec::new(),
        chiavi: Vec::new(),
        senza: 0,
        troncato: false,
        alla_data,
    };
    let mut letti = 0usize;
    'pagine: while let Some(v) = sf.prossima().await? {
        for x in &v {
            letti += 1;
            match coordinate(t, x) {
                Some((lon, lat)) => {
                    if m.punti.len() >= MAX_PUNTI_MAPPA {
                        m.troncato = true;
                        break 'pagine;
                    }
                    m.punti.push((
                        lon,
                        lat,
                        descrizione(t, x),
                        url_dettaglio("fabbricati", &x.ente, &x.chiave, alla_data),
                    ));
                    m.chiavi.push((x.ente.clone(), x.chiave.clone()));
                }
                None => m.senza += 1,
            }
        }
        if letti >= MAX_LETTI_MAPPA {
            m.troncato = true;
            break;
        }
    }
    Ok(m)
}

/// `GET /area/registro/mappa.json`: the map's data with each building coloured by the
/// occupancy of its units (the dashboard loads it after the page, so the page stays light).
pub async fn mappa_json(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtri>,
) -> Result<Response, ErrorePagina> {
    let m = punti_mappa(&st, &cx, &f).await?;
    let occ =
        st.p.occupazione_fabbricati(cx.soggetto(), &m.chiavi, m.alla_data)
            .await?;
    let codici: Vec<&str> = m
        .chiavi
        .iter()
        .map(|k| occ.get(k).map_or("senza", |o| o.codice()))
        .collect();
    let mut frase = format!(
        "{} fabbricati sulla mappa",
        crate::formati::intero(m.punti.len() as i64)
    );
    if m.senza > 0 {
        frase.push_str(&format!(
            "; {} senza coordinate non sono mostrati",
            crate::formati::intero(m.senza as i64)
        ));
    }
    frase.push('.');
    if m.troncato {
        frase.push_str(&format!(
            " La mappa mostra al massimo {} fabbricati: restringa i filtri nella mappa del registro per vedere gli altri.",
            crate::formati::intero(MAX_PUNTI_MAPPA as i64)
        ));
    }
    let corpo = dati_mappa_con(&st, &m.punti, &codici, &frase);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        corpo,
    )
        .into_response())
}

/// `GET /area/registro/mappa`: the buildings with coordinates, with the list's filters.
pub async fn mappa(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtri>,
) -> Result<Html<String>, ErrorePagina> {
    let t = tavola("fabbricati")?;
    let PuntiMappa {
        punti,
        senza,
        troncato,
        ..
    } = punti_mappa(&st, &cx, &f).await?;
    let nomi = nomi(&st).await?;
    let filtri = contesto_filtri(&cx, t, &f, &nomi);
    pagina(
        &st,
        &cx,
        "registro_mappa.html",
        context! {
            tabella => "fabbricati",
            mappa => dati_mappa(&st, &punti),
            n_punti => punti.len(),
            senza_coordinate => senza,
            troncato,
            max_punti => MAX_PUNTI_MAPPA,
            ..filtri
        },
    )
}
