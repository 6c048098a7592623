//! Reading and verifying the audit log.

pub use archivio::FiltroAudit;
use dominio::audit::{Rottura, VoceAudit};
use dominio::politica::{Azione, Soggetto, autorizza};

use crate::{Esito, Piattaforma};

/// The actor name of changes made by the platform itself (reference data, demo).
pub const SISTEMA: &str = "sistema";
/// The actor name of changes made through the command line on the server.
pub const RIGA_DI_COMANDO: &str = "riga-di-comando";

/// How an actor is named in the log.
pub fn attore(s: &Soggetto) -> String {
    match s {
        Soggetto::Persona { cf, .. } => cf.to_string(),
        Soggetto::Token { id, .. } => format!("token:{id}"),
        Soggetto::Anonimo => "anonimo".into(),
    }
}

impl Piattaforma {
    pub async fn voci_audit(&self, s: &Soggetto, filtro: &FiltroAudit) -> Esito<Vec<VoceAudit>> {
        autorizza(s, &Azione::VedereAudit)?;
        Ok(self.db.voci_audit(filtro).await?)
    }

    pub async fn azioni_audit(&self) -> Esito<Vec<String>> {
        Ok(self.db.azioni_audit().await?)
    }

    /// Verifies the whole chain: `Ok(n)` entries intact, or the first break.
    pub async fn verifica_audit(&self) -> Esito<Result<i64, Rottura>> {
        Ok(self.db.verifica_audit().await?)
    }
}
