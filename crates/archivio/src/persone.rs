//! People and their roles (*incarichi*): Region staff, legal representatives, referents.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Archivio, ErroreArchivio, Risultato, Tx, su_pool, su_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Persona {
    pub cf: String,
    pub nome: String,
    pub email: Option<String>,
    pub creata_il: DateTime<Utc>,
    pub ultimo_accesso: Option<DateTime<Utc>>,
}

/// A role as stored, active or revoked.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct IncaricoRiga {
    pub id: i64,
    pub cf: String,
    pub nome: String,
    pub ente: String,
    pub denominazione_ente: String,
    pub ruolo: String,
    pub aree: String,
    pub email: Option<String>,
    pub conferito_il: DateTime<Utc>,
    pub conferito_da: String,
    pub revocato_il: Option<DateTime<Utc>>,
    pub revocato_da: Option<String>,
    pub motivo_revoca: Option<String>,
}

/// Most codici fiscali [`Archivio::nomi_persone`] looks up at once.
pub const MAX_NOMI: usize = 500;

const SELEZIONE_INCARICO: &str = "SELECT i.id, i.cf, p.nome, i.ente, e.denominazione AS denominazione_ente, i.ruolo, i.aree, \
     i.email, i.conferito_il, i.conferito_da, i.revocato_il, i.revocato_da, i.motivo_revoca \
     FROM incarichi i JOIN persone p ON p.cf = i.cf JOIN enti e ON e.codice = i.ente";

impl Archivio {
    pub async fn persona(&self, cf: &str) -> Risultato<Option<Persona>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, Persona>(
            "SELECT cf, nome, email, creata_il, ultimo_accesso FROM persone WHERE cf = $1")
            .bind(cf).fetch_optional(p).await)?;
        Ok(v)
    }

    /// The names of the people with these codici fiscali, as (cf, nome); unknown codes are
    /// left out. For the codes on one page (an audit page, a receipt): at most
    /// [`MAX_NOMI`] codes are looked up, the rest are left out.
    pub async fn nomi_persone(&self, cf: &[String]) -> Risultato<Vec<(String, String)>> {
        let cf = &cf[..cf.len().min(MAX_NOMI)];
        if cf.is_empty() {
            return Ok(Vec::new());
        }
        let segnaposto = (1..=cf.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT cf, nome FROM persone WHERE cf IN ({segnaposto})");
        let v = su_pool!(self, p => {
            let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql.clone()));
            for c in cf {
                q = q.bind(c);
            }
            q.fetch_all(p).await
        })?;
        Ok(v)
    }

    /// The active roles of a person. Read on every request, so a revocation is effective on
    /// the next one.
    pub async fn incarichi_attivi(&self, cf: &str) -> Risultato<Vec<IncaricoRiga>> {
        let sql =
            format!("{SELEZIONE_INCARICO} WHERE i.cf = $1 AND i.revocato_il IS NULL ORDER BY i.id");
        let v = su_pool!(self, p => sqlx::query_as::<_, IncaricoRiga>(sqlx::AssertSqlSafe(sql.clone())).bind(cf).fetch_all(p).await)?;
        Ok(v)
    }

    /// All roles of an entity, active first, newest first.
    pub async fn incarichi_ente(&self, ente: &str) -> Risultato<Vec<IncaricoRiga>> {
        let sql = format!(
            "{SELEZIONE_INCARICO} WHERE i.ente = $1 ORDER BY CASE WHEN i.revocato_il IS NULL THEN 0 ELSE 1 END, i.id DESC"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, IncaricoRiga>(sqlx::AssertSqlSafe(sql.clone())).bind(ente).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn incarico(&self, id: i64) -> Risultato<Option<IncaricoRiga>> {
        let sql = format!("{SELEZIONE_INCARICO} WHERE i.id = $1");
        let v = su_pool!(self, p => sqlx::query_as::<_, IncaricoRiga>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?;
        Ok(v)
    }

    /// People who hold at least one active role, for the development login's picker.
    pub async fn persone_con_incarichi(&self) -> Risultato<Vec<IncaricoRiga>> {
        let sql = format!(
            "{SELEZIONE_INCARICO} WHERE i.revocato_il IS NULL ORDER BY i.ente, i.ruolo, p.nome"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, IncaricoRiga>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn persone(&self) -> Risultato<Vec<Persona>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, Persona>(
            "SELECT cf, nome, email, creata_il, ultimo_accesso FROM persone ORDER BY nome")
            .fetch_all(p).await)?;
        Ok(v)
    }
}

impl Tx {
    /// Creates the person or updates name and e-mail when given.
    pub async fn salva_persona(
        &mut self,
        cf: &str,
        nome: &str,
        email: Option<&str>,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        su_tx!(self, c => sqlx::query(
            "INSERT INTO persone (cf, nome, email, creata_il) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (cf) DO UPDATE SET nome = CASE WHEN excluded.nome = '' THEN persone.nome ELSE excluded.nome END, \
             email = COALESCE(excluded.email, persone.email)")
            .bind(cf).bind(nome).bind(email).bind(ora).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn segna_accesso(&mut self, cf: &str, ora: DateTime<Utc>) -> Risultato<()> {
        su_tx!(self, c => sqlx::query("UPDATE persone SET ultimo_accesso = $2 WHERE cf = $1")
            .bind(cf).bind(ora).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn conferisci_incarico(
        &mut self,
        cf: &str,
        ente: &str,
        ruolo: &str,
        aree: &str,
        email: Option<&str>,
        da: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO incarichi (cf, ente, ruolo, aree, email, conferito_il, conferito_da) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(cf).bind(ente).bind(ruolo).bind(aree).bind(email).bind(ora).bind(da)
            .fetch_one(c).await)?;
        Ok(id)
    }

    /// Revokes an active role of the given entity; `NonTrovato` if there is none.
    pub async fn revoca_incarico(
        &mut self,
        id: i64,
        ente: &str,
        da: &str,
        motivo: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        let r = su_tx!(self, c => sqlx::query(
            "UPDATE incarichi SET revocato_il = $3, revocato_da = $4, motivo_revoca = $5 \
             WHERE id = $1 AND ente = $2 AND revocato_il IS NULL")
            .bind(id).bind(ente).bind(ora).bind(da).bind(motivo).execute(c).await.map(|r| r.rows_affected()))?;
        if r == 0 {
            return Err(ErroreArchivio::NonTrovato);
        }
        Ok(())
    }
}
