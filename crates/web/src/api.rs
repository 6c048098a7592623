//! The JSON API of `api.md` (machine clients, `Authorization: Bearer <token>`), the OpenAPI
//! document generated from these handlers, and `/healthz`.

use crate::estrattori::Query;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dominio::Soggetto;
use dominio::politica::{Azione, autorizza};
use serde::{Deserialize, Serialize};
use servizi::ErroreServizio;
use servizi::enti::FiltroEnti;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::Stato;
use crate::errore::ErroreApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "PUSH – Puglia Social Housing", description = "API per i sistemi degli enti e della Regione (v1).", version = "1"),
    paths(
        enti, healthz,
        crate::api_flussi::carica, crate::api_flussi::elenco, crate::api_flussi::dettaglio,
        crate::api_flussi::report, crate::api_flussi::invio, crate::api_flussi::differenze,
        crate::api_flussi::accettazione, crate::api_flussi::rifiuto_flusso, crate::api_flussi::ritiro,
        crate::api_flussi::originale,
        crate::api_monitoraggio::adesione, crate::api_monitoraggio::comunicato,
        crate::api_registro::fabbricati, crate::api_registro::unita, crate::api_registro::storia_unita,
    ),
    components(schemas(
        EnteApi, UltimiFlussi, crate::api_flussi::FlussoApi, crate::api_flussi::DifferenzeApi,
        crate::api_flussi::CorpoRifiuto, crate::api_flussi::CorpoInvio, crate::api_monitoraggio::Adesione, crate::api_registro::RecordRegistro,
    )),
    modifiers(&Sicurezza)
)]
struct DocumentoApi;

struct Sicurezza;
impl utoipa::Modify for Sicurezza {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Response {
    let mut doc = DocumentoApi::openapi();
    doc.servers = None;
    match doc.to_json() {
        Ok(j) => ([(header::CONTENT_TYPE, "application/json")], j).into_response(),
        Err(e) => ErroreApi::Servizio(ErroreServizio::Interno(e.to_string())).into_response(),
    }
}

/// The subject of an API request: a bearer token, or anonymous when there is none.
/// A present but unknown or revoked token is 401.
/// In front of every reserved API route: a caller without credentials gets 401 before any
/// lookup, whatever the path names, so that the answer never tells whether an id exists (it
/// was 401 for an existing flow, 404 for a missing one). A token that is present is checked by
/// [`soggetto_api`] (401 when not valid), and then the policy decides.
pub async fn richiede_credenziali(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return ErroreApi::from(ErroreServizio::Negato(dominio::Negato::NonAutenticato))
            .into_response();
    }
    next.run(req).await
}

pub async fn soggetto_api(st: &Stato, headers: &HeaderMap) -> Result<Soggetto, ErroreApi> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(Soggetto::Anonimo);
    };
    let token = v
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    match st.p.soggetto_da_token(token).await? {
        Some(s) => Ok(s),
        None => Err(ErroreServizio::Negato(dominio::Negato::NonAutenticato).into()),
    }
}

/// Date of the last accepted flow per domain.
#[derive(Serialize, ToSchema)]
pub struct UltimiFlussi {
    patrimonio: Option<String>,
    contabilita: Option<String>,
}

/// An entity of the registry. The public sees `codice`, `denominazione`, `tipo`, `registrato`;
/// the Region sees everything.
#[derive(Serialize, ToSchema)]
pub struct EnteApi {
    codice: String,
    denominazione: String,
    tipo: String,
    registrato: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pilota: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provincia: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registrato_il: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ultimo_flusso_accettato: Option<UltimiFlussi>,
}

#[derive(Deserialize, IntoParams)]
pub struct ParametriLista {
    /// Items per page (default 100, max 10 000).
    limit: Option<u32>,
    /// Opaque cursor from the `Link: rel="next"` header.
    cursor: Option<String>,
}

pub const LIMITE_PREDEFINITO: usize = 100;
pub const LIMITE_MASSIMO: usize = 10_000;

/// `GET /api/v1/enti`: the registry.
#[utoipa::path(
    get,
    path = "/api/v1/enti",
    params(ParametriLista),
    responses(
        (status = 200, description = "Registro degli enti (JSON, o CSV con Accept: text/csv); pagina successiva nell'intestazione Link", body = [EnteApi]),
        (status = 401, description = "Token non valido o revocato"),
    ),
    security((), ("token" = []))
)]
pub async fn enti(
    State(st): State<Stato>,
    headers: HeaderMap,
    Query(q): Query<ParametriLista>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let completo = autorizza(&s, &Azione::VedereRegistroRiservato).is_ok();
    let limite = q.limit.map(|l| l as usize).unwrap_or(LIMITE_PREDEFINITO);
    if limite == 0 || limite > LIMITE_MASSIMO {
        return Err(ErroreApi::RichiestaNonValida(format!(
            "Il parametro limit deve essere tra 1 e {LIMITE_MASSIMO}."
        )));
    }
    let mut tutti = st.p.registro(&FiltroEnti::default()).await?;
    // Stable order by code, so the cursor (the last code of the page) is well defined.
    tutti.sort_by(|a, b| a.codice.cmp(&b.codice));
    let dopo = q.cursor.unwrap_or_default();
    let resto: Vec<_> = tutti
        .into_iter()
        .filter(|e| dopo.is_empty() || e.codice > dopo)
        .collect();
    let successivo = (resto.len() > limite).then(|| resto[limite - 1].codice.clone());
    let ultimi: std::collections::HashMap<(String, String), String> = if completo {
        st.p.ultimi_accettati()
            .await?
            .into_iter()
            .map(|(e, d, il)| ((e, d), dominio::orologio::oggi_a(il).to_string()))
            .collect()
    } else {
        Default::default()
    };
    let ultimo = |e: &str, d: &str| ultimi.get(&(e.to_string(), d.to_string())).cloned();
    let pagina: Vec<EnteApi> = resto
        .into_iter()
        .take(limite)
        .map(|e| EnteApi {
            registrato: e.registrato_il.is_some(),
            pilota: completo.then_some(e.pilota),
            provincia: if completo {
                e.sigla_provincia.clone().or(e.province_competenza.clone())
            } else {
                None
            },
            registrato_il: if completo {
                e.registrato_il.map(|d| d.to_rfc3339())
            } else {
                None
            },
            ultimo_flusso_accettato: completo.then(|| UltimiFlussi {
                patrimonio: ultimo(&e.codice, "patrimonio"),
                contabilita: ultimo(&e.codice, "contabilita"),
            }),
            codice: e.codice,
            denominazione: e.denominazione,
            tipo: e.tipo,
        })
        .collect();
    let csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    let mut r = if csv {
        csv_enti(&pagina, completo)?
    } else {
        axum::Json(pagina).into_response()
    };
    if let Some(c) = successivo {
        let mut url =
            st.p.config
                .base_url
                .join("/api/v1/enti")
                .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("limit", &limite.to_string())
            .append_pair("cursor", &c);
        if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(r)
}

/// The entity list as CSV, through the platform's one CSV writer.
fn csv_enti(righe: &[EnteApi], completo: bool) -> Result<Response, ErroreApi> {
    let mut w = flussi::scrivi_csv::ScrittoreCsv::in_memoria();
    let mut scrivi = || -> std::io::Result<()> {
        w.riga(if completo {
            &[
                "codice",
                "denominazione",
                "tipo",
                "registrato",
                "pilota",
                "provincia",
                "registrato_il",
            ][..]
        } else {
            &["codice", "denominazione", "tipo", "registrato"][..]
        })?;
        for e in righe {
            let mut campi = vec![
                e.codice.clone(),
                e.denominazione.clone(),
                e.tipo.clone(),
                e.registrato.to_string(),
            ];
            if completo {
                campi.push(e.pilota.unwrap_or(false).to_string());
                campi.push(e.provincia.clone().unwrap_or_default());
                campi.push(e.registrato_il.clone().unwrap_or_default());
            }
            w.riga(&campi)?;
        }
        Ok(())
    };
    scrivi().map_err(|e| ErroreServizio::Interno(format!("CSV degli enti: {e}")))?;
    let out = w
        .testo()
        .map_err(|e| ErroreServizio::Interno(format!("CSV degli enti: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// `GET /healthz`: 200 when the database answers and every background worker of this server
/// is alive and showing signs of life; else 503 with the reason in Italian (`dettaglio`).
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Database raggiungibile, esecutori dei lavori attivi"), (status = 503, description = "Database non raggiungibile, o un esecutore dei lavori in background non è attivo")))]
pub async fn healthz(State(st): State<Stato>) -> Response {
    let database = st.p.ping().await;
    if let Err(e) = &database {
        tracing::warn!(errore = %e, "healthz: database non raggiungibile");
    }
    let guasto_lavori = st.p.lavori.guasto();
    if let Some(g) = &guasto_lavori {
        tracing::warn!(guasto = %g, "healthz: esecutori dei lavori");
    }
    let dettaglio = match (&database, &guasto_lavori) {
        (Ok(()), None) => None,
        (Err(_), None) => Some("Database non raggiungibile.".to_string()),
        (Ok(()), Some(g)) => Some(g.clone()),
        (Err(_), Some(g)) => Some(format!("Database non raggiungibile. {g}")),
    };
    let status = if dettaglio.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let corpo = serde_json::json!({
        "stato": if dettaglio.is_none() { "ok" } else { "guasto" },
        "database": if database.is_ok() { "ok" } else { "non raggiungibile" },
        "esecutori": st.p.lavori.stato(),
        "dettaglio": dettaglio,
    });
    (status, axum::Json(corpo)).into_response()
}
