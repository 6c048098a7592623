//! The services' error type: what a use case can answer besides success.

use archivio::ErroreArchivio;
use dominio::{ErroreDominio, Negato};

#[derive(Debug, thiserror::Error)]
pub enum ErroreServizio {
    /// Bad input: shown to the user next to the field.
    #[error(transparent)]
    Dominio(#[from] ErroreDominio),
    /// The policy said no.
    #[error("accesso negato")]
    Negato(Negato),
    /// The thing does not exist (or must not be revealed).
    #[error("risorsa non trovata")]
    NonTrovato,
    /// The request conflicts with the current state; the message is Italian and user-facing.
    #[error("{0}")]
    Conflitto(String),
    /// Login with the identity provider failed; the message is user-facing.
    #[error("{0}")]
    Accesso(String),
    /// The database is unreachable: a 503.
    #[error("servizio temporaneamente non disponibile")]
    Indisponibile(#[source] ErroreArchivio),
    /// An expected refusal under load (a budget full, a time limit reached): a 503 with
    /// `Retry-After` (seconds) and the Italian message, not logged as a server error.
    #[error("{messaggio}")]
    Occupato { messaggio: String, riprova_s: u64 },
    /// Anything else: a 500, logged, never shown.
    #[error("errore interno: {0}")]
    Interno(String),
}

impl From<ErroreArchivio> for ErroreServizio {
    fn from(e: ErroreArchivio) -> Self {
        match e {
            ErroreArchivio::NonTrovato => Self::NonTrovato,
            e if e.is_indisponibile() => Self::Indisponibile(e),
            e => Self::Interno(e.to_string()),
        }
    }
}

impl From<Negato> for ErroreServizio {
    fn from(n: Negato) -> Self {
        Self::Negato(n)
    }
}

pub type Esito<T> = Result<T, ErroreServizio>;
