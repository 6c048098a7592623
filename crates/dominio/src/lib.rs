//! The PUSH domain: values that parse (a codice fiscale, an e-mail, an entity code),
//! the roles people hold, the one authorization policy, and the audit hash chain.
//!
//! Pure by design: no SQL, no HTTP. The one clock reader is [`orologio`], so that every layer
//! means the same by "today" (Europe/Rome); everything else takes time from the caller.
//! Everything that crosses a boundary is parsed into one of these types first, so the rest
//! of the code never handles a raw string that could be invalid.

pub mod audit;
pub mod codice_fiscale;
pub mod denaro;
pub mod ente;
pub mod errore;
pub mod flusso;
pub mod intervento;
pub mod numeri;
pub mod orologio;
pub mod politica;
pub mod segnaposto;
#[cfg(feature = "sqlx")]
mod sqlx_testo;
pub mod valori;

pub use codice_fiscale::CodiceFiscale;
pub use denaro::{Importo, Percentuale};
pub use ente::{Area, CodiceEnte, TipoEnte};
pub use errore::ErroreDominio;
pub use flusso::{DominioFlusso, StatoFlusso};
pub use politica::{Azione, Incarico, Negato, Ruolo, Soggetto};
pub use valori::{Email, Testo};
