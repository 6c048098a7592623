//! Time bounds on request bodies, for every route: a pause between two pieces of a body longer
//! than `attesa_corpo_s`, or a body not received whole within its total time, ends the request
//! with 408.
//!
//! hyper's header timeout (see [`crate::ascolto`]) stops once the headers are in: a client
//! trickling one byte of the body every few seconds held its request — a `.part` file, or one of
//! the public validator's few places — for as long as it liked. The idle timeout alone does not
//! catch such a client (every byte resets it), hence also a total per body: short for forms,
//! the validator and API calls, long for the flow uploads, which may be hundreds of megabytes
//! on an office line.
//!
//! The timers are tower-http's ([`TimeoutBody`] between frames, [`DeadlineBody`] from the end
//! of the headers); the handler sees a failed body read and gives up, dropping what it held
//! (temporary files remove themselves, a validator place is released). Whatever the handler
//! then answers, this layer answers 408 instead: the cause is the slow client, not the input.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use tower_http::timeout::{DeadlineBody, TimeoutBody, TimeoutError};

/// The routes whose `POST` receives a whole flow (up to the upload limit): they get the long
/// total time.
const CARICAMENTI: [&str; 2] = ["/area/flussi", "/api/v1/flussi"];

/// The time bounds of request bodies, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct TempiCorpo {
    /// Longest pause between two pieces of a body.
    pub pausa: Duration,
    /// Longest time to receive a whole body, except flow uploads.
    pub durata: Duration,
    /// Longest time to receive a whole flow upload.
    pub durata_caricamento: Duration,
}

impl TempiCorpo {
    pub fn da_config(c: &servizi::Config) -> Self {
        Self {
            pausa: Duration::from_secs(c.attesa_corpo_s),
            durata: Duration::from_secs(c.durata_corpo_s),
            durata_caricamento: Duration::from_secs(c.durata_caricamento_s),
        }
    }
}

/// Wraps the request body in the two timers, and turns the response of a request whose body
/// timed out into the Italian 408 (page or problem+json).
pub async fn limita(State(t): State<TempiCorpo>, req: Request, next: Next) -> Response {
    let caricamento = req.method() == Method::POST
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|m| CARICAMENTI.contains(&m.as_str()));
    let durata = if caricamento {
        t.durata_caricamento
    } else {
        t.durata
    };
    let api = req.uri().path().starts_with("/api/");
    let scaduto = Arc::new(AtomicBool::new(false));
    let segnale = scaduto.clone();
    let req = req.map(|corpo| {
        Body::new(
            DeadlineBody::new(durata, TimeoutBody::new(t.pausa, corpo)).map_err(move |e| {
                if e.is::<TimeoutError>() {
                    segnale.store(true, Ordering::Relaxed);
                }
                e
            }),
        )
    });
    let r = next.run(req).await;
    if scaduto.load(Ordering::Relaxed) {
        return crate::errore::corpo_scaduto(api);
    }
    r
}
