//! The Region's monitoring pages: the adoption dashboard and its status paragraph, collection
//! campaigns (with the reporting rate as a chart and a table, and their exports), reminders
//! (selection, preview, sending, templates, escalation setting), and the entity's
//! "nothing to report" declaration.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use dominio::politica::{Azione, autorizza};
use minijinja::context;
use serde::Deserialize;
use servizi::ErroreServizio;
use servizi::enti::Rifiuto;
use servizi::monitoraggio::FiltroAdesione;
use servizi::raccolte::{DomandaRaccolta, QuadroRaccolta};
use servizi::solleciti::{DomandaModello, Motivo};

use crate::Stato;
use crate::contesto::{Contesto, Modulo};
use crate::errore::ErrorePagina;
use crate::estrattori::{Path, Query};
use crate::modelli::pagina;

pub fn rotte() -> crate::rotte::Rotte {
    use crate::rotte::{Rotte, get, post};
    Rotte::new()
        .route("/area/monitoraggio", get(cruscotto))
        .route("/area/monitoraggio/comunicato", get(comunicato))
        .route("/area/raccolte", get(raccolte).post(apri_raccolta))
        .route("/area/raccolte/nuova", get(nuova_raccolta))
        .route("/area/raccolte/{id}", get(raccolta))
        .route("/area/raccolte/{id}/esporta.csv", get(esporta_csv))
        .route("/area/raccolte/{id}/esporta.xlsx", get(esporta_xlsx))
        .route(
            "/area/raccolte/{id}/enti/{codice}/nulla",
            post(dichiara_nulla),
        )
        .route("/area/solleciti", get(solleciti).post(invia_solleciti))
        .route("/area/solleciti/anteprima", get(anteprima))
        .route("/area/solleciti/escalazione", post(escalazione))
        .route(
            "/area/solleciti/modelli/{codice}",
            get(modello).post(salva_modello),
        )
}

pub async fn cruscotto(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<FiltroAdesione>,
) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let a = st.p.adesione(s).await?;
    let righe = st.p.righe_adesione(s, &f).await?;
    let tutti = st.p.righe_adesione(s, &FiltroAdesione::default()).await?;
    // By name, as people read them.
    let nomi = |codici: &[String]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = codici
            .iter()
            .map(|c| {
                let n = tutti
                    .iter()
                    .find(|r| &r.codice == c)
                    .map(|r| r.denominazione.clone())
                    .unwrap_or_else(|| c.clone());
                (c.clone(), n)
            })
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let non_registrati = nomi(&a.pilota_non_registrati);
    let con_flussi: Vec<(String, Vec<(String, String)>)> = a
        .con_flussi
        .iter()
        .map(|(d, v)| (d.clone(), nomi(v)))
        .collect();
    let con_accettati: Vec<(String, usize)> = a
        .con_flussi_accettati
        .iter()
        .map(|(d, v)| (d.clone(), v.len()))
        .collect();
    pagina(
        &st,
        &cx,
        "monitoraggio.html",
        context! {
            a, righe, filtro => f, province => flussi::riferimento::sigle_province(), non_registrati, con_flussi, con_accettati,
            totale => tutti.len(),
        },
    )
}

pub async fn comunicato(
    State(st): State<Stato>,
    cx: Contesto,
) -> Result<Html<String>, ErrorePagina> {
    let testo = st.p.comunicato(cx.soggetto()).await?;
    pagina(&st, &cx, "comunicato.html", context! { testo })
}

pub async fn raccolte(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let raccolte = st.p.raccolte(s).await?;
    let tassi = st.p.tassi_enti(s).await?;
    let gestisce = autorizza(s, &Azione::GestireSolleciti).is_ok();
    pagina(
        &st,
        &cx,
        "raccolte.html",
        context! { raccolte, tassi, gestisce },
    )
}

async fn modulo_raccolta(
    st: &Stato,
    cx: &Contesto,
    d: &DomandaRaccolta,
    errori: Vec<(String, String)>,
) -> Result<Html<String>, ErrorePagina> {
    autorizza(cx.soggetto(), &Azione::GestireSolleciti).map_err(ErroreServizio::from)?;
    let errori_map: std::collections::BTreeMap<String, String> = errori.iter().cloned().collect();
    pagina(
        st,
        cx,
        "raccolta_nuova.html",
        context! { domanda => d, errori => errori_map, elenco_errori => errori, province => flussi::riferimento::sigle_province() },
    )
}

pub async fn nuova_raccolta(
    State(st): State<Stato>,
    cx: Contesto,
) -> Result<Html<String>, ErrorePagina> {
    let d = DomandaRaccolta {
        dominio: "patrimonio".into(),
        selezione: "pilota".into(),
        ..Default::default()
    };
    modulo_raccolta(&st, &cx, &d, vec![]).await
}

pub async fn apri_raccolta(
    State(st): State<Stato>,
    Modulo(cx, d): Modulo<DomandaRaccolta>,
) -> Result<Response, ErrorePagina> {
    match st.p.apri_raccolta(cx.soggetto(), &d).await {
        Ok(id) => Ok(super::vai(&format!(
            "/area/raccolte/{id}?esito=raccolta_aperta"
        ))),
        Err(Rifiuto::Campi(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            modulo_raccolta(&st, &cx, &d, e.0).await?,
        )
            .into_response()),
        Err(Rifiuto::Servizio(e)) => Err(e.into()),
    }
}

pub async fn raccolta(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let q = st.p.raccolta(s, id).await?;
    let grafico = crate::grafici::tasso::tasso_nel_tempo(
        "grafico-tasso",
        &format!("Tasso di risposta nel tempo: {}", q.raccolta.titolo),
        &q.serie,
        q.obiettivi,
    );
    let serie: Vec<(String, usize, f64)> = q
        .serie
        .iter()
        .map(|(d, n)| {
            let t = if q.obiettivi == 0 {
                0.0
            } else {
                (*n as f64 * 1000.0 / q.obiettivi as f64).round() / 10.0
            };
            (d.to_string(), *n, t)
        })
        .collect();
    let gestisce = autorizza(s, &Azione::GestireSolleciti).is_ok();
    pagina(
        &st,
        &cx,
        "raccolta.html",
        context! { q, grafico, serie, gestisce },
    )
}

const INTESTAZIONE: [&str; 10] = [
    "ente",
    "denominazione",
    "tipo",
    "pilota",
    "stato",
    "conforme",
    "in_ritardo",
    "flusso",
    "data_risposta",
    "motivo_nulla",
];

fn celle(q: &QuadroRaccolta) -> Vec<Vec<String>> {
    let si_no = |b: bool| if b { "SI" } else { "NO" }.to_string();
    q.righe
        .iter()
        .map(|r| {
            vec![
                r.ente.clone(),
                r.denominazione.clone(),
                r.tipo.clone(),
                si_no(r.pilota),
                r.etichetta.to_string(),
                si_no(r.conforme),
                si_no(r.in_ritardo),
                r.flusso.map(|f| f.to_string()).unwrap_or_default(),
                r.risposto_il
                    .map(|t| dominio::orologio::oggi_a(t).to_string())
                    .unwrap_or_default(),
                r.nulla_motivo.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

fn allegato(tipo: &'static str, nome: String, corpo: Vec<u8>) -> Response {
    let mut r = corpo.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(tipo));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{nome}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// The campaign's targets as CSV, through the platform's one CSV writer (entity names and
/// reasons are typed by people: a formula among them must reach the spreadsheet as text).
pub async fn esporta_csv(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Response, ErrorePagina> {
    let q = st.p.raccolta(cx.soggetto(), id).await?;
    let mut w = flussi::scrivi_csv::ScrittoreCsv::in_memoria();
    let testo = (|| {
        w.riga(INTESTAZIONE)?;
        for c in celle(&q) {
            w.riga(&c)?;
        }
        w.testo()
    })()
    .map_err(|e| ErroreServizio::Interno(format!("esportazione CSV: {e}")))?;
    Ok(allegato(
        "text/csv; charset=utf-8",
        format!("raccolta-{id}.csv"),
        testo.into_bytes(),
    ))
}

pub async fn esporta_xlsx(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Response, ErrorePagina> {
    let q = st.p.raccolta(cx.soggetto(), id).await?;
    let righe = celle(&q);
    let byte = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let e = |x: rust_xlsxwriter::XlsxError| format!("esportazione XLSX: {x}");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("raccolta").map_err(e)?;
        for (c, t) in INTESTAZIONE.iter().enumerate() {
            ws.write_string(0, c as u16, *t).map_err(e)?;
        }
        for (r, riga) in righe.iter().enumerate() {
            for (c, t) in riga.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, t).map_err(e)?;
            }
        }
        wb.save_to_buffer().map_err(e)
    })
    .await
    .map_err(|e| ErroreServizio::Interno(e.to_string()))?
    .map_err(ErroreServizio::Interno)?;
    Ok(allegato(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("raccolta-{id}.xlsx"),
        byte,
    ))
}

#[derive(Deserialize)]
pub struct Nulla {
    #[serde(default)]
    motivo: String,
}

pub async fn dichiara_nulla(
    State(st): State<Stato>,
    Path((id, codice)): Path<(i64, String)>,
    Modulo(cx, m): Modulo<Nulla>,
) -> Result<Response, ErrorePagina> {
    let c = dominio::CodiceEnte::parse(&codice).map_err(|_| ErroreServizio::NonTrovato)?;
    match st.p.dichiara_nulla(cx.soggetto(), id, &c, &m.motivo).await {
        Ok(()) => Ok(super::vai(&format!("/enti/{c}?esito=nulla_dichiarato"))),
        Err(ErroreServizio::Dominio(_)) => Ok(super::vai(&format!(
            "/enti/{c}?esito=nulla_motivo#raccolte"
        ))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct SceltaSolleciti {
    #[serde(default)]
    motivo: String,
    raccolta: Option<i64>,
}

fn motivo(m: &str) -> Motivo {
    Motivo::parse(m).unwrap_or(Motivo::PilotaNonRegistrato)
}

pub async fn solleciti(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<SceltaSolleciti>,
) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let m = motivo(&q.motivo);
    let raccolte = st.p.raccolte(s).await?;
    let raccolta = match m {
        Motivo::InRitardo => q
            .raccolta
            .or_else(|| raccolte.first().map(|r| r.raccolta.id)),
        _ => None,
    };
    let candidati = if m == Motivo::InRitardo && raccolta.is_none() {
        vec![]
    } else {
        st.p.candidati_sollecito(s, m, raccolta).await?
    };
    let modelli = st.p.modelli_sollecito(s).await?;
    let registro = st.p.solleciti(s, None).await?;
    let giorni = st.p.giorni_escalazione().await?;
    let gestisce = autorizza(s, &Azione::GestireSolleciti).is_ok();
    let motivi: Vec<(&str, &str)> = [
        Motivo::PilotaNonRegistrato,
        Motivo::SenzaFlussoAccettato,
        Motivo::InRitardo,
    ]
    .iter()
    .map(|m| (m.as_str(), m.etichetta()))
    .collect();
    pagina(
        &st,
        &cx,
        "solleciti.html",
        context! {
            motivo => m.as_str(), motivi, raccolta, raccolte, candidati, modelli, registro, giorni,
            gestisce,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct SceltaAnteprima {
    #[serde(default)]
    motivo: String,
    raccolta: Option<i64>,
    #[serde(default)]
    enti: Vec<String>,
}

pub async fn anteprima(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<SceltaAnteprima>,
) -> Result<Html<String>, ErrorePagina> {
    let m = motivo(&q.motivo);
    let anteprime =
        st.p.anteprima_solleciti(cx.soggetto(), m, q.raccolta, &q.enti)
            .await?;
    let gestisce = autorizza(cx.soggetto(), &Azione::GestireSolleciti).is_ok();
    pagina(
        &st,
        &cx,
        "solleciti_anteprima.html",
        context! { anteprime, motivo => m.as_str(), etichetta => m.etichetta(), raccolta => q.raccolta, gestisce },
    )
}

#[derive(Deserialize)]
pub struct Invio {
    #[serde(default)]
    motivo: String,
    raccolta: Option<i64>,
    #[serde(default)]
    enti: Vec<String>,
}

pub async fn invia_solleciti(
    State(st): State<Stato>,
    Modulo(cx, d): Modulo<Invio>,
) -> Result<Response, ErrorePagina> {
    let m = motivo(&d.motivo);
    let dove = |esito: &str| {
        let mut u = format!("/area/solleciti?motivo={}", m.as_str());
        if let Some(r) = d.raccolta {
            u.push_str(&format!("&raccolta={r}"));
        }
        u.push_str(&format!("&esito={esito}"));
        u
    };
    match st
        .p
        .invia_solleciti(cx.soggetto(), m, d.raccolta, &d.enti)
        .await
    {
        Ok(n) => Ok(super::vai(&dove(&format!("solleciti_inviati_{n}")))),
        Err(ErroreServizio::Dominio(_)) => Ok(super::vai(&dove("nessun_ente"))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Giorni {
    #[serde(default)]
    giorni: String,
}

pub async fn escalazione(
    State(st): State<Stato>,
    Modulo(cx, g): Modulo<Giorni>,
) -> Result<Response, ErrorePagina> {
    match st
        .p
        .imposta_giorni_escalazione(cx.soggetto(), &g.giorni)
        .await
    {
        Ok(()) => Ok(super::vai("/area/solleciti?esito=escalazione_impostata")),
        Err(ErroreServizio::Dominio(_)) => {
            Ok(super::vai("/area/solleciti?esito=escalazione_non_valida"))
        }
        Err(e) => Err(e.into()),
    }
}

async fn mostra_modello(
    st: &Stato,
    cx: &Contesto,
    codice: &str,
    d: Option<&DomandaModello>,
    errori: Vec<(String, String)>,
) -> Result<Html<String>, ErrorePagina> {
    let m =
        st.p.modelli_sollecito(cx.soggetto())
            .await?
            .into_iter()
            .find(|m| m.codice == codice)
            .ok_or(ErroreServizio::NonTrovato)?;
    let d = d.cloned().unwrap_or(DomandaModello {
        oggetto: m.oggetto.clone(),
        corpo: m.corpo.clone(),
    });
    let errori_map: std::collections::BTreeMap<String, String> = errori.iter().cloned().collect();
    let gestisce = autorizza(cx.soggetto(), &Azione::GestireSolleciti).is_ok();
    pagina(
        st,
        cx,
        "modello_sollecito.html",
        context! {
            modello => m, domanda => d, errori => errori_map, elenco_errori => errori,
            segnaposto => dominio::segnaposto::SEGNAPOSTO, gestisce,
        },
    )
}

pub async fn modello(
    State(st): State<Stato>,
    cx: Contesto,
    Path(codice): Path<String>,
) -> Result<Html<String>, ErrorePagina> {
    mostra_modello(&st, &cx, &codice, None, vec![]).await
}

pub async fn salva_modello(
    State(st): State<Stato>,
    Path(codice): Path<String>,
    Modulo(cx, d): Modulo<DomandaModello>,
) -> Result<Response, ErrorePagina> {
    match st
        .p
        .salva_modello_sollecito(cx.soggetto(), &codice, &d)
        .await
    {
        Ok(()) => Ok(super::vai("/area/solleciti?esito=modello_salvato#modelli")),
        Err(Rifiuto::Campi(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            mostra_modello(&st, &cx, &codice, Some(&d), e.0).await?,
        )
            .into_response()),
        Err(Rifiuto::Servizio(e)) => Err(e.into()),
    }
}
