//! `GET /api/v1/programmi/interventi` and `…/interventi/{cup}` (`api.md`): interventions with
//! their financing totals and progress. Each item has the fields of the `interventi` table,
//! `ente`, and the computed keys; money is a string with a dot and two decimals. The detail
//! adds the arrays `sal`, `erogazioni`, `pagamenti`, `fabbricati`. Lists page by keyset
//! (`?limit=`, `?cursor=`, next page in `Link: rel="next"`); `Accept: text/csv` gives CSV.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::NaiveDate;
use serde::Deserialize;
use servizi::ErroreServizio;
use servizi::interventi::VoceIntervento;

use crate::Stato;
use crate::api::{LIMITE_MASSIMO, LIMITE_PREDEFINITO, soggetto_api};
use crate::errore::ErroreApi;
use crate::estrattori::{Path, Query};
use crate::rotte::{Rotte, get};

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/api/v1/programmi/interventi", get(interventi))
        .route("/api/v1/programmi/interventi/{cup}", get(intervento))
}

/// Filters of the interventions list.
#[derive(Debug, Default, Deserialize)]
pub struct ParametriInterventi {
    pub ente: Option<String>,
    pub codice_programma: Option<String>,
    pub stato: Option<String>,
    pub comune_istat: Option<String>,
    pub tipo_intervento: Option<String>,
    pub alla_data: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn non_valida(m: impl Into<String>) -> ErroreApi {
    ErroreApi::RichiestaNonValida(m.into())
}

/// `YYYY-MM-DD`, or a 400 in Italian.
pub fn leggi_data(s: Option<&str>) -> Result<Option<NaiveDate>, ErroreApi> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| non_valida("Il parametro alla_data deve essere una data AAAA-MM-GG.")),
    }
}

/// The keyset cursor: the (entity, CUP) of the last item, opaque to clients.
pub fn codifica_cursore(ente: &str, cup: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ente}\n{cup}"))
}

pub fn decodifica_cursore(c: &str) -> Option<(String, String)> {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .ok()?;
    let s = String::from_utf8(b).ok()?;
    let (e, k) = s.split_once('\n')?;
    Some((e.to_string(), k.to_string()))
}

/// The register filter of the list's parameters (checked: unknown values simply match
/// nothing, a bad date or cursor is a 400).
pub fn filtro(
    q: &ParametriInterventi,
    limite: i64,
) -> Result<servizi::registro::FiltroRegistro, ErroreApi> {
    let mut uguale = Vec::new();
    for (campo, v) in [
        ("codice_programma", &q.codice_programma),
        ("stato", &q.stato),
        ("comune_istat", &q.comune_istat),
        ("tipo_intervento", &q.tipo_intervento),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let v = if campo == "stato" || campo == "tipo_intervento" {
                v.to_uppercase()
            } else {
                v.to_string()
            };
            uguale.push((campo.to_string(), v));
        }
    }
    let dopo = match q.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
        None => None,
        Some(c) => {
            let (e, k) = decodifica_cursore(c)
                .ok_or_else(|| non_valida("Il parametro cursor non è valido."))?;
            Some((String::new(), e, k))
        }
    };
    Ok(servizi::registro::FiltroRegistro {
        ente: q.ente.clone().filter(|e| !e.trim().is_empty()),
        uguale,
        alla_data: leggi_data(q.alla_data.as_deref())?,
        dopo,
        limite,
        ..Default::default()
    })
}

/// The CSV columns: the fields, `ente`, the computed keys.
const CALCOLATI: [&str; 6] = [
    "importo_erogato",
    "importo_pagato",
    "avanzamento_fisico",
    "avanzamento_finanziario",
    "ritardo_giorni",
    "fermo",
];

fn csv(v: &[VoceIntervento]) -> Result<Vec<u8>, ErroreApi> {
    let t = flussi::spec::contabilita::dominio()
        .tabella("interventi")
        .ok_or_else(|| ErroreServizio::Interno("tabella interventi".into()))?;
    let mut w = flussi::scrivi_csv::ScrittoreCsv::in_memoria();
    let mut intestazione: Vec<&str> = vec!["ente"];
    intestazione.extend(t.campi.iter().map(|c| c.nome));
    intestazione.extend(CALCOLATI);
    let errore = |e: std::io::Error| ErroreServizio::Interno(e.to_string());
    w.riga(intestazione.iter()).map_err(errore)?;
    for x in v {
        let j = x.json();
        let cella = |k: &str| match &j[k] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(b) => if *b { "SI" } else { "NO" }.to_string(),
            altro => altro.to_string(),
        };
        let riga: Vec<String> = intestazione.iter().map(|k| cella(k)).collect();
        w.riga(riga.iter()).map_err(errore)?;
    }
    Ok(w.finisci().map_err(errore)?)
}

fn vuole_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"))
}

/// `GET /api/v1/programmi/interventi`.
async fn interventi(
    State(st): State<Stato>,
    headers: HeaderMap,
    Query(q): Query<ParametriInterventi>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let limite = match q.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => LIMITE_PREDEFINITO,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=LIMITE_MASSIMO).contains(&n) => n,
            _ => {
                return Err(non_valida(format!(
                    "Il parametro limit deve essere un numero intero tra 1 e {LIMITE_MASSIMO}."
                )));
            }
        },
    };
    let chiesti = (limite + 1).min(LIMITE_MASSIMO);
    let f = filtro(&q, chiesti as i64)?;
    let mut v = st.p.elenco_interventi(&s, f).await?;
    let altre = v.len() > limite || (chiesti == limite && v.len() == limite);
    v.truncate(limite);
    let mut r = if vuole_csv(&headers) {
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv(&v)?,
        )
            .into_response()
    } else {
        axum::Json(v.iter().map(VoceIntervento::json).collect::<Vec<_>>()).into_response()
    };
    if altre && let Some(u) = v.last() {
        let mut url =
            st.p.config
                .base_url
                .join("/api/v1/programmi/interventi")
                .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        {
            let mut p = url.query_pairs_mut();
            for (k, x) in [
                ("ente", &q.ente),
                ("codice_programma", &q.codice_programma),
                ("stato", &q.stato),
                ("comune_istat", &q.comune_istat),
                ("tipo_intervento", &q.tipo_intervento),
                ("alla_data", &q.alla_data),
            ] {
                if let Some(x) = x.as_deref().filter(|x| !x.is_empty()) {
                    p.append_pair(k, x);
                }
            }
            p.append_pair("limit", &limite.to_string());
            p.append_pair("cursor", &codifica_cursore(&u.ente, &u.cup));
        }
        if let Ok(h) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            r.headers_mut().insert(header::LINK, h);
        }
    }
    Ok(r)
}

/// Parameters of one intervention.
#[derive(Debug, Default, Deserialize)]
pub struct ParametriIntervento {
    /// Which entity's record, when two declare the same CUP (the Region).
    pub ente: Option<String>,
    pub alla_data: Option<String>,
}

/// `GET /api/v1/programmi/interventi/{cup}`.
async fn intervento(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(cup): Path<String>,
    Query(q): Query<ParametriIntervento>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let alla_data = leggi_data(q.alla_data.as_deref())?;
    let ente = q.ente.as_deref().filter(|e| !e.trim().is_empty());
    let scheda =
        st.p.scheda_intervento(&s, ente, cup.trim(), alla_data)
            .await?;
    Ok(axum::Json(scheda.json()).into_response())
}
