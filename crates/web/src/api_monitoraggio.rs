//! The monitoring endpoints of `api.md` («Monitoring»): the adoption figures and the status
//! paragraph, both computed by `servizi::monitoraggio`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::Stato;
use crate::api::soggetto_api;
use crate::errore::ErroreApi;

/// Adoption of the platform by the entities (`api.md`, Monitoring).
#[derive(Serialize, ToSchema)]
pub struct Adesione {
    enti_registrati: usize,
    pilota_totali: usize,
    pilota_registrati: usize,
    non_pilota_registrati: usize,
    pilota_non_registrati: Vec<String>,
    con_flussi: BTreeMap<String, Vec<String>>,
    /// Per domain, the entities with an accepted flow.
    con_flussi_accettati: BTreeMap<String, Vec<String>>,
}

/// `GET /api/v1/monitoraggio/adesione` (Region)
#[utoipa::path(
    get,
    path = "/api/v1/monitoraggio/adesione",
    responses((status = 200, body = Adesione), (status = 401), (status = 403)),
    security(("token" = []))
)]
pub async fn adesione(
    State(st): State<Stato>,
    headers: HeaderMap,
) -> Result<Json<Adesione>, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let a = st.p.adesione(&s).await?;
    Ok(Json(Adesione {
        enti_registrati: a.enti_registrati,
        pilota_totali: a.pilota_totali,
        pilota_registrati: a.pilota_registrati,
        non_pilota_registrati: a.non_pilota_registrati,
        pilota_non_registrati: a.pilota_non_registrati,
        con_flussi: a.con_flussi,
        con_flussi_accettati: a.con_flussi_accettati,
    }))
}

/// `GET /api/v1/monitoraggio/comunicato` (Region): the status paragraph, plain text.
#[utoipa::path(
    get,
    path = "/api/v1/monitoraggio/comunicato",
    responses((status = 200, content_type = "text/plain", body = String), (status = 401), (status = 403)),
    security(("token" = []))
)]
pub async fn comunicato(
    State(st): State<Stato>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let t = st.p.comunicato(&s).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], t))
}

pub fn rotte() -> crate::rotte::Rotte {
    use crate::rotte::{Rotte, get};
    Rotte::new()
        .route("/api/v1/monitoraggio/adesione", get(adesione))
        .route("/api/v1/monitoraggio/comunicato", get(comunicato))
}
