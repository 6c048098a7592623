//! The outbox (`messaggi`): messages written in the caller's transaction, taken by one sender
//! at a time with a lease, and marked sent or failed.
//!
//! Taking a message is one `UPDATE … WHERE id = (SELECT … LIMIT 1)`: on PostgreSQL the chosen
//! row is locked with `FOR UPDATE SKIP LOCKED`, so two servers never take the same message and
//! never wait for each other; on SQLite the transaction holds the write lock (`BEGIN
//! IMMEDIATE`), which serializes takers. A sender that dies leaves its message `in_invio` until
//! the lease (`scade_il`) expires, and then another takes it again. Every final write checks
//! that the writer still holds the message.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Archivio, Pool, Risultato, Tx, su_pool, su_tx};

/// A message to store in the outbox, one recipient.
#[derive(Clone, Debug)]
pub struct NuovoMessaggio<'a> {
    /// What the message tells (`flusso.inviato`, `sollecito`, …): for the pages and the tests.
    pub tipo: &'a str,
    /// `email` or `pec`.
    pub canale: &'a str,
    pub destinatario: &'a str,
    /// The recipient's codice fiscale, when the message goes to a person.
    pub persona: Option<&'a str>,
    pub ente: Option<&'a str>,
    pub flusso: Option<i64>,
    pub sollecito: Option<i64>,
    pub oggetto: &'a str,
    pub testo: &'a str,
    pub html: &'a str,
    /// The `Message-ID` header, fixed at enqueueing so that a retry sends the same one.
    pub id_messaggio: &'a str,
}

/// A message as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Messaggio {
    pub id: i64,
    pub tipo: String,
    pub canale: String,
    pub destinatario: String,
    pub persona: Option<String>,
    pub ente: Option<String>,
    pub flusso: Option<i64>,
    pub sollecito: Option<i64>,
    pub oggetto: String,
    pub testo: String,
    pub html: String,
    pub id_messaggio: String,
    pub stato: String,
    pub tentativi: i32,
    pub ultimo_errore: Option<String>,
    pub prossimo_tentativo: DateTime<Utc>,
    pub trasporto: Option<String>,
    pub creato_il: DateTime<Utc>,
    pub inviato_il: Option<DateTime<Utc>>,
}

const SELEZIONE: &str = "SELECT id, tipo, canale, destinatario, persona, ente, flusso, sollecito, \
     oggetto, testo, html, id_messaggio, stato, tentativi, ultimo_errore, prossimo_tentativo, \
     trasporto, creato_il, inviato_il FROM messaggi";

/// Which messages to list (all conditions together); newest first.
#[derive(Clone, Debug, Default)]
pub struct FiltroMessaggi {
    pub ente: Option<String>,
    pub persona: Option<String>,
    pub flusso: Option<i64>,
    pub sollecito: Option<i64>,
    pub stato: Option<String>,
    pub tipo: Option<String>,
    /// Only messages with `id` below this (paging backwards).
    pub prima_di: Option<i64>,
    pub limite: i64,
}

/// Counts of the outbox by state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContiPosta {
    pub in_coda: i64,
    pub in_invio: i64,
    pub inviati: i64,
    pub in_errore: i64,
}

impl Tx {
    /// Writes a message in the outbox, due at once; its id.
    pub async fn accoda_messaggio(
        &mut self,
        m: &NuovoMessaggio<'_>,
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO messaggi (tipo, canale, destinatario, persona, ente, flusso, sollecito, \
             oggetto, testo, html, id_messaggio, stato, tentativi, prossimo_tentativo, creato_il) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'in_coda', 0, $12, $12) RETURNING id")
            .bind(m.tipo).bind(m.canale).bind(m.destinatario).bind(m.persona).bind(m.ente)
            .bind(m.flusso).bind(m.sollecito).bind(m.oggetto).bind(m.testo).bind(m.html)
            .bind(m.id_messaggio).bind(ora).fetch_one(c).await)?;
        Ok(id)
    }
}

impl Tx {
    /// Queues again a message given up (`in_errore`), due at `ora` with its attempts reset.
    pub async fn riaccoda_messaggio(&mut self, id: i64, ora: DateTime<Utc>) -> Risultato<bool> {
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE messaggi SET stato = 'in_coda', tentativi = 0, prossimo_tentativo = $2 \
             WHERE id = $1 AND stato = 'in_errore'")
            .bind(id).bind(ora).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

impl Archivio {
    /// Takes the oldest message that is due (waiting and past its retry time, or taken by a
    /// sender whose lease expired) for `esecutore` until `scade_il`, counting the attempt.
    pub async fn prendi_messaggio(
        &self,
        esecutore: &str,
        ora: DateTime<Utc>,
        scade_il: DateTime<Utc>,
    ) -> Risultato<Option<Messaggio>> {
        const SCELTA: &str = "SELECT id FROM messaggi \
             WHERE (stato = 'in_coda' AND prossimo_tentativo <= $2) OR (stato = 'in_invio' AND scade_il < $2) \
             ORDER BY prossimo_tentativo, id LIMIT 1";
        let aggiorna = |scelta: &str| {
            format!(
                "UPDATE messaggi SET stato = 'in_invio', esecutore = $1, scade_il = $3, tentativi = tentativi + 1 \
                 WHERE id = ({scelta}) RETURNING id, tipo, canale, destinatario, persona, ente, flusso, sollecito, \
                 oggetto, testo, html, id_messaggio, stato, tentativi, ultimo_errore, prossimo_tentativo, \
                 trasporto, creato_il, inviato_il"
            )
        };
        let v = match &self.pool {
            Pool::Pg(p) => {
                let sql = aggiorna(&format!("{SCELTA} FOR UPDATE SKIP LOCKED"));
                sqlx::query_as::<_, Messaggio>(sqlx::AssertSqlSafe(sql))
                    .bind(esecutore)
                    .bind(ora)
                    .bind(scade_il)
                    .fetch_optional(p)
                    .await?
            }
            Pool::Sqlite(p) => {
                let mut t = p.begin_with("BEGIN IMMEDIATE").await?;
                let v = sqlx::query_as::<_, Messaggio>(sqlx::AssertSqlSafe(aggiorna(SCELTA)))
                    .bind(esecutore)
                    .bind(ora)
                    .bind(scade_il)
                    .fetch_optional(&mut *t)
                    .await?;
                t.commit().await?;
                v
            }
        };
        Ok(v)
    }

    /// Marks a message taken by `esecutore` as sent; `false` if it no longer held it.
    pub async fn messaggio_inviato(
        &self,
        id: i64,
        esecutore: &str,
        trasporto: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<bool> {
        let n = su_pool!(self, p => sqlx::query(
            "UPDATE messaggi SET stato = 'inviato', inviato_il = $3, trasporto = $4, ultimo_errore = NULL, \
             esecutore = NULL, scade_il = NULL WHERE id = $1 AND esecutore = $2 AND stato = 'in_invio'")
            .bind(id).bind(esecutore).bind(ora).bind(trasporto).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Records a failed attempt of a message taken by `esecutore`: back in the queue until
    /// `riprova_il`, or given up (`in_errore`) when `riprova_il` is `None`.
    pub async fn messaggio_fallito(
        &self,
        id: i64,
        esecutore: &str,
        errore: &str,
        riprova_il: Option<DateTime<Utc>>,
    ) -> Risultato<bool> {
        let n = match riprova_il {
            Some(quando) => su_pool!(self, p => sqlx::query(
                "UPDATE messaggi SET stato = 'in_coda', ultimo_errore = $3, prossimo_tentativo = $4, \
                 esecutore = NULL, scade_il = NULL WHERE id = $1 AND esecutore = $2 AND stato = 'in_invio'")
                .bind(id).bind(esecutore).bind(errore).bind(quando).execute(p).await.map(|r| r.rows_affected()))?,
            None => su_pool!(self, p => sqlx::query(
                "UPDATE messaggi SET stato = 'in_errore', ultimo_errore = $3, \
                 esecutore = NULL, scade_il = NULL WHERE id = $1 AND esecutore = $2 AND stato = 'in_invio'")
                .bind(id).bind(esecutore).bind(errore).execute(p).await.map(|r| r.rows_affected()))?,
        };
        Ok(n == 1)
    }

    /// Gives a message back to the queue without counting the attempt (shutdown).
    pub async fn rilascia_messaggio(&self, id: i64, esecutore: &str) -> Risultato<()> {
        su_pool!(self, p => sqlx::query(
            "UPDATE messaggi SET stato = 'in_coda', tentativi = tentativi - 1, esecutore = NULL, scade_il = NULL \
             WHERE id = $1 AND esecutore = $2 AND stato = 'in_invio'")
            .bind(id).bind(esecutore).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn messaggio(&self, id: i64) -> Risultato<Option<Messaggio>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, Messaggio>(sqlx::AssertSqlSafe(format!("{SELEZIONE} WHERE id = $1")))
            .bind(id).fetch_optional(p).await)?;
        Ok(v)
    }

    /// Messages matching the filter, newest first.
    pub async fn elenco_messaggi(&self, f: &FiltroMessaggi) -> Risultato<Vec<Messaggio>> {
        // Fixed text: an absent filter binds NULL and matches everything.
        let sql = format!(
            "{SELEZIONE} WHERE ($1 IS NULL OR ente = $1) AND ($2 IS NULL OR persona = $2) \
             AND ($3 IS NULL OR flusso = $3) AND ($4 IS NULL OR sollecito = $4) \
             AND ($5 IS NULL OR stato = $5) AND ($6 IS NULL OR tipo = $6) AND ($7 IS NULL OR id < $7) \
             ORDER BY id DESC LIMIT $8"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Messaggio>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(f.ente.as_deref()).bind(f.persona.as_deref()).bind(f.flusso).bind(f.sollecito)
            .bind(f.stato.as_deref()).bind(f.tipo.as_deref()).bind(f.prima_di).bind(f.limite.clamp(1, 10_000))
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// How many messages are in each state.
    pub async fn conti_posta(&self) -> Risultato<ContiPosta> {
        let righe: Vec<(String, i64)> = su_pool!(self, p => sqlx::query_as(
            "SELECT stato, CAST(COUNT(*) AS BIGINT) FROM messaggi GROUP BY stato").fetch_all(p).await)?;
        let mut c = ContiPosta::default();
        for (s, n) in righe {
            match s.as_str() {
                "in_coda" => c.in_coda = n,
                "in_invio" => c.in_invio = n,
                "inviato" => c.inviati = n,
                _ => c.in_errore += n,
            }
        }
        Ok(c)
    }
}
