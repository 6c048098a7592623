//! The store's error type.

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum ErroreArchivio {
    /// The database cannot be reached (down, pool exhausted, connection lost): a 503.
    #[error("database non raggiungibile: {0}")]
    Indisponibile(#[source] sqlx::Error),
    /// A uniqueness constraint refused the write.
    #[error("conflitto con un dato esistente ({0})")]
    Duplicato(String),
    /// The row to change does not exist or is not in the expected state.
    #[error("dato non trovato")]
    NonTrovato,
    #[error("configurazione del database non valida: {0}")]
    Configurazione(#[source] sqlx::Error),
    #[error("migrazione del database non riuscita: {0}")]
    Migrazione(#[from] sqlx::migrate::MigrateError),
    #[error("errore del database: {0}")]
    Db(#[source] sqlx::Error),
    /// A statement ran past its time limit and was stopped.
    #[error("tempo massimo della richiesta superato")]
    TempoScaduto,
    /// The bulk load of register versions failed in SQLite's C API (the message is SQLite's).
    #[error("scrittura in blocco non riuscita: {0}")]
    Caricamento(String),
    #[error("dato non valido nel database: {0}")]
    Corrotto(String),
}

impl ErroreArchivio {
    pub fn da_sqlx(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Self::Indisponibile(e),
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                Self::Duplicato(d.constraint().unwrap_or("unicità").to_string())
            }
            sqlx::Error::RowNotFound => Self::NonTrovato,
            _ => Self::Db(e),
        }
    }

    pub fn is_indisponibile(&self) -> bool {
        matches!(self, Self::Indisponibile(_))
    }
}

impl From<sqlx::Error> for ErroreArchivio {
    fn from(e: sqlx::Error) -> Self {
        Self::da_sqlx(e)
    }
}
