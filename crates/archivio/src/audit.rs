//! The append-only audit log with its hash chain (see `dominio::audit`).

use chrono::{DateTime, Utc};
use dominio::audit::{Rottura, Verifica, VoceAudit, calcola_hash};

use crate::{Archivio, ErroreArchivio, Risultato, Tx, su_pool, su_tx};

/// An entry to append.
#[derive(Clone, Debug)]
pub struct NuovaVoce<'a> {
    pub attore: &'a str,
    pub ente: Option<&'a str>,
    pub azione: &'a str,
    pub oggetto: String,
    pub dettagli: serde_json::Value,
}

/// Filters for reading the log.
#[derive(Clone, Debug, Default)]
pub struct FiltroAudit {
    pub ente: Option<String>,
    pub attore: Option<String>,
    pub azione: Option<String>,
    pub dal: Option<DateTime<Utc>>,
    pub al: Option<DateTime<Utc>>,
    /// Entries with `seq` below this (for paging backwards from the newest).
    pub prima_di: Option<i64>,
    pub limite: i64,
}

#[derive(sqlx::FromRow)]
struct RigaAudit {
    seq: i64,
    istante: DateTime<Utc>,
    attore: String,
    ente: Option<String>,
    azione: String,
    oggetto: String,
    dettagli: String,
    hash_precedente: String,
    hash: String,
}

impl From<RigaAudit> for VoceAudit {
    fn from(r: RigaAudit) -> Self {
        VoceAudit {
            seq: r.seq,
            istante: r.istante,
            attore: r.attore,
            ente: r.ente,
            azione: r.azione,
            oggetto: r.oggetto,
            dettagli: r.dettagli,
            hash_precedente: r.hash_precedente,
            hash: r.hash,
        }
    }
}

const COLONNE: &str =
    "seq, istante, attore, ente, azione, oggetto, dettagli, hash_precedente, hash";

impl Tx {
    /// Appends an entry. The `UPDATE` of the chain head comes first, so it takes the head's row
    /// lock and concurrent appenders (also from other server instances) queue behind it.
    pub async fn audit(&mut self, v: NuovaVoce<'_>, ora: DateTime<Utc>) -> Risultato<i64> {
        let (seq, prec): (i64, String) = su_tx!(self, c => sqlx::query_as(
            "UPDATE audit_testa SET ultimo_seq = ultimo_seq + 1 WHERE id = 1 RETURNING ultimo_seq, ultimo_hash")
            .fetch_one(c).await)?;
        // PostgreSQL keeps microseconds; truncate so the hash input survives the round trip.
        let ora = DateTime::from_timestamp_micros(ora.timestamp_micros()).unwrap_or(ora);
        let dettagli = v.dettagli.to_string();
        let hash = calcola_hash(
            seq, &ora, v.attore, v.ente, v.azione, &v.oggetto, &dettagli, &prec,
        );
        su_tx!(self, c => sqlx::query(
            "INSERT INTO audit (seq, istante, attore, ente, azione, oggetto, dettagli, hash_precedente, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(seq).bind(ora).bind(v.attore).bind(v.ente).bind(v.azione).bind(&v.oggetto)
            .bind(&dettagli).bind(&prec).bind(&hash).execute(c).await.map(|r| r.rows_affected()))?;
        su_tx!(self, c => sqlx::query("UPDATE audit_testa SET ultimo_hash = $1 WHERE id = 1")
            .bind(&hash).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(seq)
    }
}

impl Archivio {
    /// Entries matching the filter, newest first.
    pub async fn voci_audit(&self, f: &FiltroAudit) -> Risultato<Vec<VoceAudit>> {
        let sql = format!(
            "SELECT {COLONNE} FROM audit WHERE ($1 IS NULL OR ente = $1) AND ($2 IS NULL OR attore = $2) \
             AND ($3 IS NULL OR azione = $3) AND ($4 IS NULL OR istante >= $4) AND ($5 IS NULL OR istante < $5) \
             AND ($6 IS NULL OR seq < $6) ORDER BY seq DESC LIMIT $7"
        );
        let righe = su_pool!(self, p => sqlx::query_as::<_, RigaAudit>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&f.ente).bind(&f.attore).bind(&f.azione).bind(f.dal).bind(f.al).bind(f.prima_di).bind(f.limite)
            .fetch_all(p).await)?;
        Ok(righe.into_iter().map(Into::into).collect())
    }

    /// The distinct action names, for the filter's list.
    pub async fn azioni_audit(&self) -> Risultato<Vec<String>> {
        let v = su_pool!(self, p => sqlx::query_scalar::<_, String>("SELECT DISTINCT azione FROM audit ORDER BY azione").fetch_all(p).await)?;
        Ok(v)
    }

    /// Verifies the whole chain, reading it in pages. `Ok(n)` is the number of entries.
    pub async fn verifica_audit(&self) -> Risultato<Result<i64, Rottura>> {
        let mut verifica = Verifica::default();
        let mut dopo = 0i64;
        let sql = format!("SELECT {COLONNE} FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000");
        loop {
            let righe = su_pool!(self, p => sqlx::query_as::<_, RigaAudit>(sqlx::AssertSqlSafe(sql.clone())).bind(dopo).fetch_all(p).await)?;
            if righe.is_empty() {
                break;
            }
            for r in righe {
                let v: VoceAudit = r.into();
                dopo = v.seq;
                if let Err(rottura) = verifica.voce(&v) {
                    return Ok(Err(rottura));
                }
            }
        }
        let (seq, hash): (i64, String) = su_pool!(self, p => sqlx::query_as(
            "SELECT ultimo_seq, ultimo_hash FROM audit_testa WHERE id = 1").fetch_optional(p).await)?
            .ok_or_else(|| ErroreArchivio::Corrotto("testa della catena di audit assente".into()))?;
        Ok(verifica.fine(seq, &hash))
    }
}
