//! Page handlers, one module per area of the site.

pub mod accesso;
pub mod area;
pub mod comunicazioni;
pub mod cruscotto;
pub mod dati_aperti;
pub mod documentazione;
pub mod flussi;
pub mod monitoraggio;
pub mod posta;
pub mod programmi;
pub mod pubbliche;
pub mod referenti;
pub mod registrazioni;
pub mod registro;
pub mod registro_esporta;
pub mod registro_patrimonio;
pub mod token;

use axum::response::Response;

use crate::errore::ErrorePagina;

pub async fn non_trovata() -> Response {
    axum::response::IntoResponse::into_response(ErrorePagina::Servizio(
        servizi::ErroreServizio::NonTrovato,
    ))
}

/// Redirect after a successful POST (303 so the browser GETs the target).
pub fn vai(dove: &str) -> Response {
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(dove))
}
