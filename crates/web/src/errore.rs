//! Errors to responses, in one place.
//!
//! Handlers return [`ErrorePagina`] (HTML pages) or [`ErroreApi`] (`application/problem+json`).
//! Both only *describe* the error (status, Italian title and message) in a response extension;
//! [`mappa_errori`] then renders it with the request id, and logs every 5xx with its internal
//! cause. The internal cause never reaches the user.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use dominio::Negato;
use servizi::ErroreServizio;

use crate::Stato;

/// An error description carried by a response until [`mappa_errori`] renders it.
#[derive(Clone, Debug)]
pub struct DescrizioneErrore {
    pub titolo: String,
    pub messaggio: String,
    /// Internal cause, logged, never shown.
    pub causa: Option<String>,
    pub api: bool,
    /// An expected refusal (the validator busy or over its rate): logged as such, never as a
    /// server error even when it is a 503.
    pub atteso: bool,
}

/// Errors of page handlers.
#[derive(Debug, thiserror::Error)]
pub enum ErrorePagina {
    #[error(transparent)]
    Servizio(#[from] ErroreServizio),
    #[error("token CSRF non valido")]
    Csrf,
    #[error("{0}")]
    RichiestaNonValida(String),
    /// The public validator's limits (429 or 503, with `Retry-After`).
    #[error("validatore pubblico: {0:?}")]
    Frenato(crate::freno::Rifiuto),
}

/// Errors of API handlers.
#[derive(Debug, thiserror::Error)]
pub enum ErroreApi {
    #[error(transparent)]
    Servizio(#[from] ErroreServizio),
    #[error("{0}")]
    RichiestaNonValida(String),
    /// An upload over the size limit (413).
    #[error("{0}")]
    TroppoGrande(String),
}

fn risposta(
    status: StatusCode,
    titolo: &str,
    messaggio: String,
    causa: Option<String>,
    api: bool,
) -> Response {
    let mut r = status.into_response();
    r.extensions_mut().insert(DescrizioneErrore {
        titolo: titolo.into(),
        messaggio,
        causa,
        api,
        atteso: false,
    });
    r
}

/// A request axum's extractors refused ([`crate::estrattori`]): whether it is for a page or
/// the API is known only from its path, so [`mappa_errori`] describes it.
#[derive(Clone, Debug)]
pub enum Malformata {
    /// A path parameter that does not parse: no such resource, the same 404 as a missing id.
    NonTrovata,
    /// A query string or body that does not fit (Italian message).
    NonValida {
        status: StatusCode,
        messaggio: String,
    },
}

impl IntoResponse for Malformata {
    fn into_response(self) -> Response {
        let mut r = StatusCode::BAD_REQUEST.into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// Status, title and message of a service error (shared by pages and API).
fn descrivi(e: &ErroreServizio) -> (StatusCode, &'static str, String, Option<String>) {
    match e {
        ErroreServizio::Dominio(d) => (StatusCode::UNPROCESSABLE_ENTITY, "Dati non validi", d.to_string(), None),
        ErroreServizio::Negato(Negato::NonAutenticato) => (
            StatusCode::UNAUTHORIZED,
            "Accesso richiesto",
            "Per questa operazione occorre accedere con SPID o CIE (o con un token valido).".into(),
            None,
        ),
        ErroreServizio::Negato(Negato::Vietato) => (
            StatusCode::FORBIDDEN,
            "Operazione non consentita",
            "Il suo profilo non consente questa operazione. Se ritiene che sia un errore, si rivolga al legale rappresentante del suo ente o alla Regione.".into(),
            None,
        ),
        ErroreServizio::Negato(Negato::NonTrovato) | ErroreServizio::NonTrovato => (
            StatusCode::NOT_FOUND,
            "Pagina non trovata",
            "La risorsa richiesta non esiste o non è disponibile.".into(),
            None,
        ),
        ErroreServizio::Conflitto(m) => (StatusCode::CONFLICT, "Operazione non possibile", m.clone(), None),
        ErroreServizio::Accesso(m) => (StatusCode::BAD_REQUEST, "Accesso non riuscito", m.clone(), None),
        ErroreServizio::Indisponibile(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Servizio temporaneamente non disponibile",
            "La piattaforma non riesce a raggiungere il proprio archivio. Riprovi tra qualche minuto.".into(),
            Some(e.to_string()),
        ),
        ErroreServizio::Occupato { messaggio, .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Servizio momentaneamente occupato",
            messaggio.clone(),
            None,
        ),
        ErroreServizio::Interno(m) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Errore interno",
            "Si è verificato un errore imprevisto. Se si ripete, comunichi all'assistenza il codice della richiesta.".into(),
            Some(m.clone()),
        ),
    }
}

/// A service error as a response; an expected refusal under load carries `Retry-After` and is
/// logged as expected, not as a server error.
fn risposta_servizio(e: &ErroreServizio, api: bool) -> Response {
    let (s, t, m, c) = descrivi(e);
    let mut r = risposta(s, t, m, c, api);
    if let ErroreServizio::Occupato { riprova_s, .. } = e {
        if let Some(d) = r.extensions_mut().get_mut::<DescrizioneErrore>() {
            d.atteso = true;
        }
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*riprova_s));
    }
    r
}

impl IntoResponse for ErrorePagina {
    fn into_response(self) -> Response {
        match self {
            // Anonymous on a reserved page: go to the login page.
            ErrorePagina::Servizio(ErroreServizio::Negato(Negato::NonAutenticato)) => Redirect::to("/accesso").into_response(),
            ErrorePagina::Servizio(e) => risposta_servizio(&e, false),
            ErrorePagina::Csrf => risposta(
                StatusCode::FORBIDDEN,
                "Modulo scaduto",
                "Il modulo non è più valido (è stato aperto troppo tempo fa o da un'altra scheda). Torni indietro, ricarichi la pagina e riprovi.".into(),
                None,
                false,
            ),
            ErrorePagina::RichiestaNonValida(m) => risposta(StatusCode::BAD_REQUEST, "Richiesta non valida", m, None, false),
            ErrorePagina::Frenato(rifiuto) => {
                use crate::freno::Rifiuto;
                let (status, titolo, messaggio, riprova) = match rifiuto {
                    Rifiuto::TroppeRichieste { riprova } => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "Troppi file in poco tempo",
                        format!(
                            "Da questo indirizzo sono arrivati troppi file da controllare nell'ultimo minuto. Attenda {} e riprovi. Gli enti registrati possono caricare i flussi dall'area riservata, senza questo limite.",
                            secondi(riprova.as_secs())
                        ),
                        riprova,
                    ),
                    Rifiuto::Occupato { riprova } => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Validatore occupato",
                        format!(
                            "Il validatore sta già controllando il numero massimo di file. Il suo file non è stato esaminato: riprovi tra {}.",
                            secondi(riprova.as_secs())
                        ),
                        riprova,
                    ),
                };
                let mut r = risposta(status, titolo, messaggio, None, false);
                if let Some(d) = r.extensions_mut().get_mut::<DescrizioneErrore>() {
                    d.atteso = true;
                }
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(riprova.as_secs()));
                r
            }
        }
    }
}

impl IntoResponse for ErroreApi {
    fn into_response(self) -> Response {
        match self {
            ErroreApi::Servizio(e) => risposta_servizio(&e, true),
            ErroreApi::RichiestaNonValida(m) => risposta(
                StatusCode::BAD_REQUEST,
                "Richiesta non valida",
                m,
                None,
                true,
            ),
            ErroreApi::TroppoGrande(m) => risposta(
                StatusCode::PAYLOAD_TOO_LARGE,
                "File troppo grande",
                m,
                None,
                true,
            ),
        }
    }
}

/// Whether a path answers machines (`application/problem+json` errors) rather than people
/// (an Italian page): the API, the GIS service and the open-data files.
pub fn percorso_api(p: &str) -> bool {
    p.starts_with("/api/") || p == "/ogc" || p.starts_with("/ogc/") || p.starts_with("/opendata/")
}

/// The refusal of a request to the public data by its brake ([`crate::freno::limita_pubblico`]):
/// 429 or 503 with `Retry-After`, logged as expected.
pub fn frenato_pubblico(rifiuto: crate::freno::Rifiuto, api: bool) -> Response {
    use crate::freno::Rifiuto;
    let (status, titolo, messaggio, riprova) = match rifiuto {
        Rifiuto::TroppeRichieste { riprova } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Troppe richieste in poco tempo",
            format!(
                "Da questo indirizzo sono arrivate troppe richieste di dati pubblici nell'ultimo minuto. Attenda {} e riprovi.",
                secondi(riprova.as_secs())
            ),
            riprova,
        ),
        Rifiuto::Occupato { riprova } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Servizio occupato",
            format!(
                "Il server sta già rispondendo al numero massimo di richieste di dati pubblici: riprovi tra {}.",
                secondi(riprova.as_secs())
            ),
            riprova,
        ),
    };
    let mut r = risposta(status, titolo, messaggio, None, api);
    if let Some(d) = r.extensions_mut().get_mut::<DescrizioneErrore>() {
        d.atteso = true;
    }
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(riprova.as_secs()));
    r
}

/// «1 secondo», «30 secondi».
fn secondi(n: u64) -> String {
    if n == 1 {
        "1 secondo".into()
    } else {
        format!("{n} secondi")
    }
}

/// A request body that came too slowly (see [`crate::tempo_corpo`]): 408, and the connection
/// closes, since the rest of the body is still on its way and will not be read.
pub fn corpo_scaduto(api: bool) -> Response {
    let mut r = risposta(
        StatusCode::REQUEST_TIMEOUT,
        "Invio troppo lento",
        "Il file o il modulo è arrivato troppo lentamente e l'invio è stato interrotto: nulla è stato conservato. Controlli la connessione e riprovi.".into(),
        None,
        api,
    );
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// A handler panicked: what `CatchPanicLayer` answers, rendered by [`mappa_errori`] (which
/// knows whether the request was for the API).
pub fn panico(causa: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let causa = causa
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| causa.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panico".into());
    let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    r.extensions_mut().insert(Panico(causa));
    r
}

/// The cause of a caught panic, carried to [`mappa_errori`].
#[derive(Clone)]
struct Panico(String);

/// Drops the client's `X-Request-Id`, so that the id in logs and pages is always ours.
pub async fn togli_id_cliente(mut req: Request) -> Request {
    req.headers_mut().remove("x-request-id");
    req
}

/// Renders the error descriptions left by handlers, and logs 5xx with the request id.
pub async fn mappa_errori(State(st): State<Stato>, req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let metodo = req.method().clone();
    let percorso = req.uri().path().to_string();
    let mut r = next.run(req).await;
    if let Some(Panico(causa)) = r.extensions_mut().remove::<Panico>() {
        let (status, titolo, messaggio, causa) =
            descrivi(&ErroreServizio::Interno(format!("panico: {causa}")));
        r.extensions_mut().insert(DescrizioneErrore {
            titolo: titolo.into(),
            messaggio,
            causa,
            api: percorso_api(&percorso),
            atteso: false,
        });
        *r.status_mut() = status;
    }
    if let Some(m) = r.extensions_mut().remove::<Malformata>() {
        let (status, titolo, messaggio) = match m {
            Malformata::NonTrovata => {
                let (s, t, m, _) = descrivi(&ErroreServizio::NonTrovato);
                (s, t, m)
            }
            Malformata::NonValida { status, messaggio } => {
                (status, "Richiesta non valida", messaggio)
            }
        };
        r.extensions_mut().insert(DescrizioneErrore {
            titolo: titolo.into(),
            messaggio,
            causa: None,
            api: percorso_api(&percorso),
            atteso: false,
        });
        *r.status_mut() = status;
    }
    let Some(d) = r.extensions_mut().remove::<DescrizioneErrore>() else {
        if r.status().is_server_error() {
            tracing::error!(request_id = %id, %metodo, %percorso, status = r.status().as_u16(), "risposta 5xx");
        }
        return r;
    };
    let status = r.status();
    if d.atteso {
        tracing::warn!(request_id = %id, %metodo, %percorso, status = status.as_u16(), "richiesta rifiutata: {}", d.titolo);
    } else if status.is_server_error() {
        tracing::error!(request_id = %id, %metodo, %percorso, status = status.as_u16(), causa = d.causa.as_deref().unwrap_or("-"), "errore del server");
    }
    let mut nuova = if d.api {
        let corpo = serde_json::json!({
            "type": "about:blank",
            "title": d.titolo,
            "status": status.as_u16(),
            "detail": d.messaggio,
            "request_id": id,
        });
        let mut n = (status, corpo.to_string()).into_response();
        n.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        n
    } else {
        let html =
            crate::modelli::pagina_errore(&st, status.as_u16(), &d.titolo, &d.messaggio, &id);
        (status, axum::response::Html(html)).into_response()
    };
    if status == StatusCode::UNAUTHORIZED && d.api {
        nuova
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    for nome in [header::RETRY_AFTER, header::CONNECTION] {
        if let Some(v) = r.headers().get(&nome) {
            nuova.headers_mut().insert(nome, v.clone());
        }
    }
    // Keep the cookies a handler or inner middleware set.
    for c in r.headers().get_all(header::SET_COOKIE) {
        nuova.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    nuova
}

/// The tracing span of a request: method, path and request id (never headers or bodies, which
/// may carry tokens or cookies).
pub fn span_richiesta(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("richiesta", metodo = %req.method(), percorso = %req.uri().path(), request_id = %id)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::freno::Rifiuto;
    use std::time::Duration;

    fn descrizione(r: Response) -> DescrizioneErrore {
        r.extensions()
            .get::<DescrizioneErrore>()
            .cloned()
            .expect("descrizione")
    }

    /// The validator's refusals are expected: logged as refusals, not as server errors.
    #[test]
    fn i_rifiuti_del_validatore_sono_attesi_gli_errori_interni_no() {
        let riprova = Duration::from_secs(30);
        for rifiuto in [
            Rifiuto::Occupato { riprova },
            Rifiuto::TroppeRichieste { riprova },
        ] {
            let d = descrizione(ErrorePagina::Frenato(rifiuto).into_response());
            assert!(d.atteso, "{}", d.titolo);
        }
        let d = descrizione(
            ErrorePagina::Servizio(ErroreServizio::Interno("guasto".into())).into_response(),
        );
        assert!(!d.atteso, "{}", d.titolo);
    }
}
