//! What `patrimonio` adds beside the generic register pages: the map of buildings (a view of
//! its own, next to the lists) and, on a building's page, its cadastral identifiers with the
//! link to the Agenzia delle Entrate's consultation. Everything else about the asset register
//! (lists, records, history, exports, API) is the generic engine's.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Html;
use minijinja::{Value as Mj, context};
use servizi::registro::{TavolaRegistro, Versione};

use super::registro::{BLOCCO, Sfoglia, contesto_filtri, dati_mappa, nomi, tavola};
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
    Rotte::new().route("/area/registro/mappa", get(mappa))
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

/// `GET /area/registro/mappa`: the buildings with coordinates, with the list's filters.
pub async fn mappa(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtri>,
) -> Result<Html<String>, ErrorePagina> {
    let t = tavola("fabbricati")?;
    let filtro = filtro_da(t, &f, BLOCCO).map_err(ErrorePagina::RichiestaNonValida)?;
    let alla_data = filtro.alla_data;
    let mut sf = Sfoglia::new(st.clone(), cx.soggetto().clone(), t, filtro);
    let mut punti = Vec::new();
    let (mut letti, mut senza, mut troncato) = (0usize, 0usize, false);
    'pagine: while let Some(v) = sf.prossima().await? {
        for x in &v {
            letti += 1;
            match coordinate(t, x) {
                Some((lon, lat)) => {
                    if punti.len() >= MAX_PUNTI_MAPPA {
                        troncato = true;
                        break 'pagine;
                    }
                    punti.push((
                        lon,
                        lat,
                        descrizione(t, x),
                        url_dettaglio("fabbricati", &x.ente, &x.chiave, alla_data),
                    ));
                }
                None => senza += 1,
            }
        }
        if letti >= MAX_LETTI_MAPPA {
            troncato = true;
            break;
        }
    }
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
