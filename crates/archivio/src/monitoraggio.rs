//! Monitoring: the state of each entity's flows per domain, collection campaigns
//! (*raccolte*) and their targets, reminder templates and the log of reminders sent.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{Archivio, Risultato, Tx, su_pool, su_tx};

/// The newest flow of an entity in a domain (any state), for the adoption dashboard.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct UltimoFlusso {
    pub ente: String,
    pub dominio: String,
    pub stato: String,
    pub caricato_il: DateTime<Utc>,
}

/// A collection campaign.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Raccolta {
    pub id: i64,
    pub titolo: String,
    pub dominio: String,
    pub aperta_il: DateTime<Utc>,
    pub aperta_da: String,
    pub scadenza: NaiveDate,
    pub chiusura: NaiveDate,
    pub selezione: String,
}

/// A new campaign.
#[derive(Clone, Debug)]
pub struct NuovaRaccolta<'a> {
    pub titolo: &'a str,
    pub dominio: &'a str,
    pub scadenza: NaiveDate,
    pub chiusura: NaiveDate,
    pub selezione: &'a str,
    pub aperta_da: &'a str,
}

/// A campaign's target entity, with its "nothing to report" declaration if any.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Obiettivo {
    pub raccolta: i64,
    pub ente: String,
    pub denominazione: String,
    pub tipo: String,
    pub pilota: bool,
    pub registrato_il: Option<DateTime<Utc>>,
    pub nulla_il: Option<DateTime<Utc>>,
    pub nulla_da: Option<String>,
    pub nulla_motivo: Option<String>,
}

/// A flow that may count for a campaign (its domain, uploaded after it opened).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct FlussoRaccolta {
    pub id: i64,
    pub ente: String,
    pub stato: String,
    pub caricato_il: DateTime<Utc>,
    pub inviato_il: Option<DateTime<Utc>>,
    pub esito_il: Option<DateTime<Utc>>,
}

/// A stored reminder template.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ModelloSollecito {
    pub codice: String,
    pub titolo: String,
    pub oggetto: String,
    pub corpo: String,
    pub modificato_il: DateTime<Utc>,
    pub modificato_da: String,
}

/// A reminder sent (or attempted) to one entity.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Sollecito {
    pub id: i64,
    pub ente: String,
    pub denominazione: String,
    pub motivo: String,
    pub raccolta: Option<i64>,
    pub modello: String,
    pub canale: String,
    pub destinatari: String,
    pub oggetto: String,
    pub corpo: String,
    pub errore: Option<String>,
    pub inviato_il: DateTime<Utc>,
    pub inviato_da: String,
    pub escalation_di: Option<i64>,
    pub escalato_il: Option<DateTime<Utc>>,
    pub esito_escalation: Option<String>,
}

/// A reminder to record.
#[derive(Clone, Debug)]
pub struct NuovoSollecito<'a> {
    pub ente: &'a str,
    pub motivo: &'a str,
    pub raccolta: Option<i64>,
    pub modello: &'a str,
    pub canale: &'a str,
    pub destinatari: &'a str,
    pub oggetto: &'a str,
    pub corpo: &'a str,
    pub errore: Option<&'a str>,
    pub inviato_da: &'a str,
    pub escalation_di: Option<i64>,
}

const SELEZIONE_RACCOLTA: &str =
    "SELECT id, titolo, dominio, aperta_il, aperta_da, scadenza, chiusura, selezione FROM raccolte";

const SELEZIONE_OBIETTIVO: &str = "SELECT t.raccolta, t.ente, e.denominazione, e.tipo, e.pilota, e.registrato_il, \
     t.nulla_il, t.nulla_da, t.nulla_motivo FROM raccolte_enti t JOIN enti e ON e.codice = t.ente";

const SELEZIONE_SOLLECITO: &str = "SELECT s.id, s.ente, e.denominazione, s.motivo, s.raccolta, s.modello, s.canale, \
     s.destinatari, s.oggetto, s.corpo, s.errore, s.inviato_il, s.inviato_da, \
     s.escalation_di, s.escalato_il, s.esito_escalation FROM solleciti s JOIN enti e ON e.codice = s.ente";

impl Archivio {
    /// The newest flow of each entity in each domain.
    pub async fn ultimi_flussi(&self) -> Risultato<Vec<UltimoFlusso>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, UltimoFlusso>(
            "SELECT f.ente, f.dominio, f.stato, f.caricato_il FROM flussi f \
             WHERE f.id = (SELECT MAX(g.id) FROM flussi g WHERE g.ente = f.ente AND g.dominio = f.dominio) \
             ORDER BY f.ente, f.dominio")
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// The PEC address of an entity: the one of its approved registration, else the
    /// registry's (the protocol office's, known before registration).
    pub async fn pec_ente(&self, ente: &str) -> Risultato<Option<String>> {
        let v: Option<Option<String>> = su_pool!(self, p => sqlx::query_scalar(
            "SELECT COALESCE((SELECT r.pec FROM registrazioni r WHERE r.ente = e.codice AND r.stato = 'APPROVATA' \
             ORDER BY r.id DESC LIMIT 1), e.pec) FROM enti e WHERE e.codice = $1")
            .bind(ente).fetch_optional(p).await)?;
        Ok(v.flatten().filter(|s| !s.trim().is_empty()))
    }

    /// Campaigns, newest first.
    pub async fn raccolte(&self) -> Risultato<Vec<Raccolta>> {
        let sql = format!("{SELEZIONE_RACCOLTA} ORDER BY id DESC");
        let v = su_pool!(self, p => sqlx::query_as::<_, Raccolta>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn raccolta(&self, id: i64) -> Risultato<Option<Raccolta>> {
        let sql = format!("{SELEZIONE_RACCOLTA} WHERE id = $1");
        let v = su_pool!(self, p => sqlx::query_as::<_, Raccolta>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?;
        Ok(v)
    }

    /// The targets of one campaign (`Some`) or of all campaigns, by entity name.
    pub async fn obiettivi(&self, raccolta: Option<i64>) -> Risultato<Vec<Obiettivo>> {
        let sql = format!(
            "{SELEZIONE_OBIETTIVO} WHERE ($1 IS NULL OR t.raccolta = $1) ORDER BY t.raccolta, e.denominazione"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Obiettivo>(sqlx::AssertSqlSafe(sql.clone())).bind(raccolta).fetch_all(p).await)?;
        Ok(v)
    }

    /// The campaigns that target one entity.
    pub async fn obiettivi_ente(&self, ente: &str) -> Risultato<Vec<Obiettivo>> {
        let sql = format!("{SELEZIONE_OBIETTIVO} WHERE t.ente = $1 ORDER BY t.raccolta DESC");
        let v = su_pool!(self, p => sqlx::query_as::<_, Obiettivo>(sqlx::AssertSqlSafe(sql.clone())).bind(ente).fetch_all(p).await)?;
        Ok(v)
    }

    /// The flows of a campaign's targets in its domain uploaded after it opened, oldest first.
    pub async fn flussi_raccolta(&self, r: &Raccolta) -> Risultato<Vec<FlussoRaccolta>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, FlussoRaccolta>(
            "SELECT f.id, f.ente, f.stato, f.caricato_il, f.inviato_il, f.esito_il FROM flussi f \
             JOIN raccolte_enti t ON t.ente = f.ente AND t.raccolta = $1 \
             WHERE f.dominio = $2 AND f.caricato_il >= $3 ORDER BY f.id")
            .bind(r.id).bind(&r.dominio).bind(r.aperta_il).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn modelli_sollecito(&self) -> Risultato<Vec<ModelloSollecito>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, ModelloSollecito>(
            "SELECT codice, titolo, oggetto, corpo, modificato_il, modificato_da FROM modelli_sollecito ORDER BY codice")
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// The reminders of one entity (`Some`) or of all, newest first, at most `limite`.
    pub async fn solleciti(&self, ente: Option<&str>, limite: i64) -> Risultato<Vec<Sollecito>> {
        let sql = format!(
            "{SELEZIONE_SOLLECITO} WHERE ($1 IS NULL OR s.ente = $1) ORDER BY s.id DESC LIMIT $2"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Sollecito>(sqlx::AssertSqlSafe(sql.clone())).bind(ente).bind(limite).fetch_all(p).await)?;
        Ok(v)
    }

    /// E-mail reminders sent before `prima_di` and not escalated yet.
    pub async fn solleciti_da_escalare(
        &self,
        prima_di: DateTime<Utc>,
    ) -> Risultato<Vec<Sollecito>> {
        let sql = format!(
            "{SELEZIONE_SOLLECITO} WHERE s.canale = 'email' AND s.escalato_il IS NULL AND s.errore IS NULL \
             AND s.inviato_il < $1 ORDER BY s.id LIMIT 500"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Sollecito>(sqlx::AssertSqlSafe(sql.clone())).bind(prima_di).fetch_all(p).await)?;
        Ok(v)
    }
}

impl Archivio {
    /// The days after which an unanswered reminder is escalated, if the Region set them.
    pub async fn giorni_escalazione(&self) -> Risultato<Option<i64>> {
        let v: Option<i64> = su_pool!(self, p => sqlx::query_scalar(
            "SELECT giorni_escalazione FROM impostazioni_monitoraggio WHERE id = 1")
            .fetch_optional(p).await)?;
        Ok(v)
    }
}

impl Tx {
    pub async fn imposta_giorni_escalazione(
        &mut self,
        giorni: i64,
        da: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        su_tx!(self, c => sqlx::query(
            "INSERT INTO impostazioni_monitoraggio (id, giorni_escalazione, modificato_il, modificato_da) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET giorni_escalazione = excluded.giorni_escalazione, \
             modificato_il = excluded.modificato_il, modificato_da = excluded.modificato_da")
            .bind(giorni).bind(ora).bind(da).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets the registry's PEC address of an entity.
    pub async fn imposta_pec_ente(&mut self, ente: &str, pec: Option<&str>) -> Risultato<()> {
        let r = su_tx!(self, c => sqlx::query("UPDATE enti SET pec = $2 WHERE codice = $1")
            .bind(ente).bind(pec).execute(c).await.map(|r| r.rows_affected()))?;
        if r == 0 {
            return Err(crate::ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    /// Opens a campaign for these targets; returns its id.
    pub async fn crea_raccolta(
        &mut self,
        n: &NuovaRaccolta<'_>,
        enti: &[String],
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO raccolte (titolo, dominio, aperta_il, aperta_da, scadenza, chiusura, selezione) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(n.titolo).bind(n.dominio).bind(ora).bind(n.aperta_da).bind(n.scadenza)
            .bind(n.chiusura).bind(n.selezione).fetch_one(c).await)?;
        for e in enti {
            su_tx!(self, c => sqlx::query("INSERT INTO raccolte_enti (raccolta, ente) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id).bind(e).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(id)
    }

    /// Records "nothing to report"; `NonTrovato` if the entity is not a target or already
    /// declared it.
    pub async fn dichiara_nulla(
        &mut self,
        raccolta: i64,
        ente: &str,
        motivo: &str,
        da: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        let r = su_tx!(self, c => sqlx::query(
            "UPDATE raccolte_enti SET nulla_il = $3, nulla_da = $4, nulla_motivo = $5 \
             WHERE raccolta = $1 AND ente = $2 AND nulla_il IS NULL")
            .bind(raccolta).bind(ente).bind(ora).bind(da).bind(motivo)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if r == 0 {
            return Err(crate::ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    pub async fn salva_modello_sollecito(&mut self, m: &ModelloSollecito) -> Risultato<()> {
        su_tx!(self, c => sqlx::query(
            "INSERT INTO modelli_sollecito (codice, titolo, oggetto, corpo, modificato_il, modificato_da) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (codice) DO UPDATE SET titolo = excluded.titolo, \
             oggetto = excluded.oggetto, corpo = excluded.corpo, modificato_il = excluded.modificato_il, \
             modificato_da = excluded.modificato_da")
            .bind(&m.codice).bind(&m.titolo).bind(&m.oggetto).bind(&m.corpo).bind(m.modificato_il)
            .bind(&m.modificato_da).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn inserisci_sollecito(
        &mut self,
        n: &NuovoSollecito<'_>,
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO solleciti (ente, motivo, raccolta, modello, canale, destinatari, oggetto, corpo, \
             errore, inviato_il, inviato_da, escalation_di) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
            .bind(n.ente).bind(n.motivo).bind(n.raccolta).bind(n.modello).bind(n.canale)
            .bind(n.destinatari).bind(n.oggetto).bind(n.corpo).bind(n.errore)
            .bind(ora).bind(n.inviato_da).bind(n.escalation_di).fetch_one(c).await)?;
        Ok(id)
    }

    /// Claims a reminder for escalation: true for exactly one caller, however many servers
    /// try at once (the row is updated only while `escalato_il` is empty).
    pub async fn segna_escalato(
        &mut self,
        id: i64,
        esito: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<bool> {
        let r = su_tx!(self, c => sqlx::query(
            "UPDATE solleciti SET escalato_il = $2, esito_escalation = $3 WHERE id = $1 AND escalato_il IS NULL")
            .bind(id).bind(ora).bind(esito).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(r == 1)
    }
}
