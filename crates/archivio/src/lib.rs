//! The store: the only crate that knows SQL.
//!
//! One set of queries serves SQLite and PostgreSQL. The SQL text is shared (with `$1`
//! placeholders, which both accept); the [`su_pool!`] and [`su_tx!`] macros expand each query
//! once per backend so it is type-checked against both drivers. DDL differs, so each backend
//! has its own migrations folder, embedded in the binary.
//!
//! Writes go through a [`Tx`]: the service layer opens one, performs the change and appends the
//! audit entry in the same transaction, then commits. A change without its audit entry cannot be
//! committed by construction of the services.

mod aggregati;
mod audit;
mod carico;
mod comunicazioni;
mod enti;
mod errore;
mod flussi;
mod monitoraggio;
mod persone;
mod posta;
mod registro;
mod sessioni;
mod territorio;
mod token;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use aggregati::{Aggregato, GruppoContato, NuovoAggregato};
pub use audit::{FiltroAudit, NuovaVoce};
pub use carico::{Carico, CaricoFinito, SOGLIA_STATISTICHE};
pub use comunicazioni::{Allegato, Comunicazione, Lettore, NuovaComunicazione};
pub use enti::{Ente, NuovoEnte, Registrazione};
pub use errore::ErroreArchivio;
pub use flussi::{
    Differenza, FiltroFlussi, FiltroSegnalazioni, Flusso, Lavoro, LavoroRiga, NuovoFlusso,
    RigaErrata, SegnalazioneRiga,
};
pub use monitoraggio::{
    FlussoRaccolta, ModelloSollecito, NuovaRaccolta, NuovoSollecito, Obiettivo, Raccolta,
    Sollecito, UltimoFlusso,
};
pub use persone::{IncaricoRiga, Persona};
pub use posta::{ContiPosta, FiltroMessaggi, Messaggio, NuovoMessaggio};
pub use registro::{
    CampiFiglio, FiltroRegistro, NuovaVersione, RICERCA_MINIMA, Ricerca, Tavola, Versione,
    copia_campo,
};

pub use sessioni::{AccessoOidc, Sessione};
pub use territorio::{Centroide, VersioneRegistro};
pub use token::TokenRiga;

pub type Risultato<T> = Result<T, ErroreArchivio>;

/// The database, whichever backend it is.
#[derive(Clone)]
pub struct Archivio {
    pool: Pool,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// Runs `$body` with `$p` bound to the backend's pool; the body is compiled once per backend.
macro_rules! su_pool {
    ($arch:expr, $p:ident => $body:expr) => {
        match &$arch.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Pg($p) => $body,
        }
    };
}
pub(crate) use su_pool;

/// Runs `$body` with `$c` bound to the transaction's connection, once per backend.
macro_rules! su_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::TxInner::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::TxInner::Pg(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use su_tx;

/// A write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: TxInner,
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Which backend a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn da_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

static MIGRAZIONI_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static MIGRAZIONI_PG: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Makes a SQLite file readable by its owner only (mode 0600), creating it empty if `crea`.
/// Best effort: a failure shows up when SQLite opens the file.
fn solo_proprietario(file: &std::path::Path, crea: bool) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if file.as_os_str() == ":memory:" || file.as_os_str().is_empty() {
            return;
        }
        if crea {
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file);
        }
        if file.exists() {
            let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600));
        }
    }
}

impl Archivio {
    /// Connects (creating the SQLite file if missing). Does not migrate.
    pub async fn connetti(url: &str) -> Risultato<Self> {
        let pool = match Backend::da_url(url) {
            Some(Backend::Sqlite) => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(ErroreArchivio::Configurazione)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                let file = opts.get_filename().to_path_buf();
                solo_proprietario(&file, true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(opts)
                    .await
                    .map_err(ErroreArchivio::da_sqlx)?;
                // SQLite gives its journal files the database's mode; older ones are tightened.
                for suffisso in ["", "-wal", "-shm"] {
                    let mut f = file.clone().into_os_string();
                    f.push(suffisso);
                    solo_proprietario(std::path::Path::new(&f), false);
                }
                Pool::Sqlite(pool)
            }
            Some(Backend::Postgres) => {
                let opts =
                    PgConnectOptions::from_str(url).map_err(ErroreArchivio::Configurazione)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(opts)
                    .await
                    .map_err(ErroreArchivio::da_sqlx)?;
                Pool::Pg(pool)
            }
            None => {
                return Err(ErroreArchivio::Configurazione(sqlx::Error::Configuration(
                    "l'indirizzo del database deve iniziare con sqlite: o postgres://".into(),
                )));
            }
        };
        Ok(Self { pool })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Pg(_) => Backend::Postgres,
        }
    }

    /// The most connections the pool opens.
    pub fn connessioni_massime(&self) -> u32 {
        match &self.pool {
            Pool::Sqlite(p) => p.options().get_max_connections(),
            Pool::Pg(p) => p.options().get_max_connections(),
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migra(&self) -> Risultato<()> {
        match &self.pool {
            Pool::Sqlite(p) => MIGRAZIONI_SQLITE.run(p).await?,
            Pool::Pg(p) => MIGRAZIONI_PG.run(p).await?,
        }
        Ok(())
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Risultato<()> {
        su_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`)
    /// so that two writers queue on the busy timeout instead of failing on lock upgrade.
    pub async fn inizia(&self) -> Risultato<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Pg(p) => TxInner::Pg(p.begin().await?),
        };
        Ok(Tx { inner })
    }

    pub async fn chiudi(&self) {
        su_pool!(self, p => p.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Risultato<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}
