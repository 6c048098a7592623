//! Machine tokens: stored as a hash only.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Archivio, ErroreArchivio, Risultato, Tx, su_pool, su_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct TokenRiga {
    pub id: i64,
    pub ente: String,
    pub aree: String,
    pub nome: String,
    pub creato_il: DateTime<Utc>,
    pub creato_da: String,
    pub revocato_il: Option<DateTime<Utc>>,
    pub revocato_da: Option<String>,
}

const SELEZIONE: &str =
    "SELECT id, ente, aree, nome, creato_il, creato_da, revocato_il, revocato_da FROM token";

impl Archivio {
    /// An active token by its hash.
    pub async fn token_attivo(&self, hash: &str) -> Risultato<Option<TokenRiga>> {
        let sql = format!("{SELEZIONE} WHERE hash = $1 AND revocato_il IS NULL");
        let v = su_pool!(self, p => sqlx::query_as::<_, TokenRiga>(sqlx::AssertSqlSafe(sql.clone())).bind(hash).fetch_optional(p).await)?;
        Ok(v)
    }

    /// Tokens of one entity, or all when `ente` is `None`; newest first.
    pub async fn elenco_token(&self, ente: Option<&str>) -> Risultato<Vec<TokenRiga>> {
        let sql = format!("{SELEZIONE} WHERE ($1 IS NULL OR ente = $1) ORDER BY id DESC");
        let v = su_pool!(self, p => sqlx::query_as::<_, TokenRiga>(sqlx::AssertSqlSafe(sql.clone())).bind(ente).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn token(&self, id: i64) -> Risultato<Option<TokenRiga>> {
        let sql = format!("{SELEZIONE} WHERE id = $1");
        let v = su_pool!(self, p => sqlx::query_as::<_, TokenRiga>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?;
        Ok(v)
    }
}

impl Tx {
    pub async fn crea_token(
        &mut self,
        hash: &str,
        ente: &str,
        aree: &str,
        nome: &str,
        da: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO token (hash, ente, aree, nome, creato_il, creato_da) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(hash).bind(ente).bind(aree).bind(nome).bind(ora).bind(da).fetch_one(c).await)?;
        Ok(id)
    }

    pub async fn revoca_token(&mut self, id: i64, da: &str, ora: DateTime<Utc>) -> Risultato<()> {
        let r = su_tx!(self, c => sqlx::query(
            "UPDATE token SET revocato_il = $2, revocato_da = $3 WHERE id = $1 AND revocato_il IS NULL")
            .bind(id).bind(ora).bind(da).execute(c).await.map(|r| r.rows_affected()))?;
        if r == 0 {
            return Err(ErroreArchivio::NonTrovato);
        }
        Ok(())
    }
}
