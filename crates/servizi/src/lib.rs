//! PUSH services: the use cases. Each takes the acting subject, asks the one authorization
//! policy (`dominio::politica::autorizza`), validates input into domain types, and changes the
//! store inside one transaction together with its audit entry.
//!
//! No HTTP here (the web layer maps [`ErroreServizio`] to statuses) and no SQL (the store).

pub mod audit;
pub mod avvisi;
pub mod casuale;
pub mod comunicazioni;
pub mod config;
pub mod cruscotto;
pub mod dati_aperti;
pub mod demo;
pub mod demo_monitoraggio;
pub mod deposito;
pub mod enti;
pub mod errore;
pub mod flussi;
pub mod identita;
pub mod interventi;
pub mod lavori;
pub mod monitoraggio;
pub mod notifiche;
pub mod oidc;
pub mod posta;
mod posta_solleciti;
pub mod raccolte;
pub mod registro;
pub mod riferimento;
pub mod sicurezza;
pub mod solleciti;
pub mod territorio;
pub mod token;

use std::sync::Arc;

use archivio::Archivio;
use dominio::orologio::Orologio;

pub use config::{Config, Modalita, Segreto, Strato, TlsSmtp};
pub use errore::{ErroreServizio, Esito};

/// Everything a use case needs: the store and the configuration.
#[derive(Clone)]
pub struct Piattaforma {
    /// The store: private, so that the web layer and the binary reach it only through the use
    /// cases below (the compiler enforces the layering).
    db: Archivio,
    pub config: Arc<Config>,
    pub oidc: Arc<oidc::ClienteOidc>,
    /// Where flow files live.
    pub deposito: Arc<dyn deposito::Deposito>,
    /// Wakes this server's worker when a job is queued here.
    pub sveglia: Arc<tokio::sync::Notify>,
    /// What "now" is for the flow lifecycle (protocol year, acceptance date, validation's
    /// "today"): the system clock, or a fixed one in tests.
    pub orologio: Orologio,
    /// The health of this server's background workers (`/healthz`).
    pub lavori: Arc<lavori::SaluteLavori>,
    /// Wakes this server's mail sender when a message is queued here (see [`posta`]).
    pub sveglia_posta: Arc<tokio::sync::Notify>,
    /// The register searches' own budget (see [`Config::ricerche_parallele`]).
    ricerche: Arc<tokio::sync::Semaphore>,
    /// Fault injection for the tests of the search's time limit, ignored in production: every
    /// register search runs a statement that only its time limit stops.
    pub prova_ricerca_lenta: Arc<std::sync::atomic::AtomicBool>,
    /// For the benchmark's "before" (bench/ricerca.sh), ignored in production: with
    /// `PUSH_PROVA_RICERCA_SCANSIONE` set, searches read every row instead of the indexes.
    ricerca_scansione: bool,
    /// The public per-Comune aggregate of the register, kept until the next acceptance.
    territorio: Arc<territorio::CacheTerritorio>,
    /// The dashboards' figures of the last days asked, keyed by the aggregates' version.
    cruscotti: Arc<cruscotto::CacheCruscotti>,
}

/// Why the platform could not start; printed as one line by the binary.
#[derive(Debug, thiserror::Error)]
pub enum ErroreAvvio {
    #[error("configurazione: {0}")]
    Config(#[from] config::ErroreConfig),
    #[error("{0}")]
    Archivio(#[from] archivio::ErroreArchivio),
    #[error("dati di riferimento: {0}")]
    Riferimento(String),
    #[error("aggregati dei cruscotti: {0}")]
    Aggregati(String),
}

impl Piattaforma {
    /// Connects to the database, applies migrations and loads the reference data.
    pub async fn avvia(mut config: Config) -> Result<Self, ErroreAvvio> {
        config.prepara()?;
        let db = Archivio::connetti(config.database_url.esponi()).await?;
        db.migra().await?;
        let p = Self::con_archivio(db, config);
        // The register's storage comes from the domains' definitions, not from a migration.
        p.prepara_registro().await?;
        // The dashboards' aggregates of data accepted before they existed (migration 0009).
        p.prepara_aggregati()
            .await
            .map_err(|e| ErroreAvvio::Aggregati(e.to_string()))?;
        p.carica_riferimento().await?;
        Ok(p)
    }

    /// The store, for the integration tests only (feature `prove`, a dev-dependency of the
    /// binary's tests): production code cannot call it.
    #[cfg(feature = "prove")]
    pub fn db(&self) -> &Archivio {
        &self.db
    }

    /// Takes every place of the register searches' budget until the permit is dropped: for
    /// the integration tests only (feature `prove`), to show a full budget without timing.
    #[cfg(feature = "prove")]
    pub async fn occupa_ricerche(&self) -> tokio::sync::OwnedSemaphorePermit {
        let n = u32::try_from(self.ricerche.available_permits()).unwrap_or(u32::MAX);
        self.ricerche
            .clone()
            .acquire_many_owned(n)
            .await
            .expect("semaforo delle ricerche aperto")
    }

    /// A cheap round trip to the database, for `/healthz`.
    pub async fn ping(&self) -> Result<(), archivio::ErroreArchivio> {
        self.db.ping().await
    }

    /// Whether the database holds no data of people and flows yet (the demo may load).
    pub async fn senza_dati(&self) -> Result<bool, archivio::ErroreArchivio> {
        self.db.senza_dati().await
    }

    /// Closes the database's connections (at the end of a command).
    pub async fn chiudi(&self) {
        self.db.chiudi().await
    }

    pub fn con_archivio(db: Archivio, config: Config) -> Self {
        let oidc = Arc::new(oidc::ClienteOidc::new(
            config.oidc.clone(),
            &config.base_url,
        ));
        let deposito = Arc::new(deposito::DepositoFile::new(&config.data_dir));
        let lavori = Arc::new(lavori::SaluteLavori::new(&config));
        let ricerca_scansione = config.modalita != config::Modalita::Produzione
            && std::env::var_os("PUSH_PROVA_RICERCA_SCANSIONE").is_some();
        let ricerche = config
            .ricerche_parallele
            .unwrap_or_else(|| (db.connessioni_massime() / 2).max(1) as usize);
        Self {
            db,
            config: Arc::new(config),
            oidc,
            deposito,
            sveglia: Arc::new(tokio::sync::Notify::new()),
            orologio: Orologio::sistema(),
            lavori,
            sveglia_posta: Arc::new(tokio::sync::Notify::new()),
            ricerche: Arc::new(tokio::sync::Semaphore::new(ricerche)),
            prova_ricerca_lenta: Arc::default(),
            ricerca_scansione,
            territorio: Arc::default(),
            cruscotti: Arc::default(),
        }
    }

    /// Adds the shipped entities that are missing; logs the addition in the audit trail.
    async fn carica_riferimento(&self) -> Result<(), ErroreAvvio> {
        let enti = riferimento::enti().map_err(ErroreAvvio::Riferimento)?;
        if self.db.conta_enti().await? as usize >= enti.len() {
            return Ok(());
        }
        let mut tx = self.db.inizia().await?;
        let n = tx.inserisci_enti(&enti).await?;
        if n > 0 {
            tx.audit(
                archivio::NuovaVoce {
                    attore: audit::SISTEMA,
                    ente: None,
                    azione: "riferimento.caricato",
                    oggetto: "enti".into(),
                    dettagli: serde_json::json!({ "enti_aggiunti": n }),
                },
                ora(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The current instant, from the one clock (`dominio::orologio`).
pub use dominio::orologio::ora;
