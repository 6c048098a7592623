//! axum's `Path`, `Query`, `Json` and `Multipart` extractors, whose refusals go through the one error
//! mapping ([`crate::errore`]) instead of axum's English `text/plain` answers.
//!
//! Handlers import these in place of axum's: same names, same use. A refusal becomes a
//! [`Malformata`], which [`crate::errore::mappa_errori`] renders as the Italian error page, or
//! as `application/problem+json` under `/api/`.

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::errore::Malformata;

/// Path parameters. A parameter that does not parse (`/area/flussi/abc`) is a 404, the same
/// answer as a missing id: no such resource exists.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Malformata))]
pub struct Path<T>(pub T);

/// Query string parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Malformata))]
pub struct Query<T>(pub T);

/// A JSON request body (only an extractor: responses keep using `axum::Json`).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Malformata))]
pub struct Corpo<T>(pub T);

/// `Option<Corpo<T>>`: no `Content-Type` means no body; a body must be valid JSON.
impl<T, S> OptionalFromRequest<S> for Corpo<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Malformata;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let j = <axum::Json<T> as OptionalFromRequest<S>>::from_request(req, state).await?;
        Ok(j.map(|axum::Json(v)| Corpo(v)))
    }
}

/// What a multipart body that cannot be read is told (the page, and the API's upload).
pub const MULTIPART_NON_VALIDO: &str = "Il modulo inviato non è un caricamento di file valido: l'intestazione «Content-Type» deve essere «multipart/form-data» con il suo separatore («boundary»).";

/// A `multipart/form-data` body (axum's `Multipart`, which is no tuple struct to derive `via`).
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = Malformata;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Multipart(
            <axum::extract::Multipart as FromRequest<S>>::from_request(req, state).await?,
        ))
    }
}

impl From<MultipartRejection> for Malformata {
    fn from(_: MultipartRejection) -> Self {
        Malformata::NonValida {
            status: StatusCode::BAD_REQUEST,
            messaggio: MULTIPART_NON_VALIDO.into(),
        }
    }
}

/// The field named in a serde error ("missing field `ente`"), to say which one is missing.
fn campo_mancante(testo: &str) -> Option<&str> {
    let resto = testo.split("missing field `").nth(1)?;
    resto.split('`').next().filter(|c| !c.is_empty())
}

impl From<PathRejection> for Malformata {
    fn from(_: PathRejection) -> Self {
        Malformata::NonTrovata
    }
}

impl From<QueryRejection> for Malformata {
    fn from(r: QueryRejection) -> Self {
        let messaggio = match campo_mancante(&r.body_text()) {
            Some(c) => format!("Nell'indirizzo manca il parametro «{c}», che è obbligatorio."),
            None => "Un parametro dell'indirizzo ha un valore non ammesso: controlli il collegamento o i filtri scelti.".into(),
        };
        Malformata::NonValida {
            status: StatusCode::BAD_REQUEST,
            messaggio,
        }
    }
}

impl From<JsonRejection> for Malformata {
    fn from(r: JsonRejection) -> Self {
        let (status, messaggio) = match &r {
            JsonRejection::MissingJsonContentType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Il corpo della richiesta deve essere JSON, con l'intestazione «Content-Type: application/json».".to_string(),
            ),
            JsonRejection::JsonSyntaxError(_) => (
                StatusCode::BAD_REQUEST,
                "Il corpo della richiesta non è JSON valido.".to_string(),
            ),
            JsonRejection::JsonDataError(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                match campo_mancante(&r.body_text()) {
                    Some(c) => format!("Nel corpo JSON manca il campo «{c}», che è obbligatorio."),
                    None => "Un campo del corpo JSON ha un valore o un tipo non ammesso.".into(),
                },
            ),
            _ => (
                StatusCode::BAD_REQUEST,
                "Il corpo della richiesta non è stato ricevuto per intero o è troppo grande."
                    .to_string(),
            ),
        };
        Malformata::NonValida { status, messaggio }
    }
}

#[cfg(test)]
mod test {
    use super::campo_mancante;

    #[test]
    fn il_campo_mancante_si_legge_dal_messaggio_di_serde() {
        assert_eq!(
            campo_mancante("Failed to deserialize query string: missing field `ente`"),
            Some("ente")
        );
        assert_eq!(campo_mancante("invalid digit found in string"), None);
    }
}
