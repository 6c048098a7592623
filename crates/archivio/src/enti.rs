//! Entities and their registration requests.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Archivio, Risultato, Tx, su_pool, su_tx};

/// An entity of the registry.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Ente {
    pub codice: String,
    pub tipo: String,
    pub denominazione: String,
    pub sigla_provincia: Option<String>,
    pub codice_provincia: Option<String>,
    pub codice_catastale: Option<String>,
    pub popolazione: Option<i64>,
    pub comune_sede: Option<String>,
    pub province_competenza: Option<String>,
    pub pilota: bool,
    pub registrato_il: Option<DateTime<Utc>>,
    /// The protocol office's PEC address (IndicePA), where reminders to an entity that has
    /// not registered go.
    pub pec: Option<String>,
}

/// Reference data for an entity, loaded at first start.
#[derive(Clone, Debug)]
pub struct NuovoEnte {
    pub codice: String,
    pub tipo: &'static str,
    pub denominazione: String,
    pub sigla_provincia: Option<String>,
    pub codice_provincia: Option<String>,
    pub codice_catastale: Option<String>,
    pub popolazione: Option<i64>,
    pub comune_sede: Option<String>,
    pub province_competenza: Option<String>,
}

/// A registration request.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Registrazione {
    pub id: i64,
    pub ente: String,
    pub denominazione_ente: String,
    pub cf: String,
    pub nome: String,
    pub pec: String,
    pub telefono: String,
    pub email: String,
    pub stato: String,
    pub motivazione: Option<String>,
    pub richiesta_il: DateTime<Utc>,
    pub decisa_il: Option<DateTime<Utc>>,
    pub decisa_da: Option<String>,
}

const COLONNE_ENTE: &str = "codice, tipo, denominazione, sigla_provincia, codice_provincia, codice_catastale, \
     popolazione, comune_sede, province_competenza, pilota, registrato_il, pec";

const SELEZIONE_REGISTRAZIONE: &str = "SELECT r.id, r.ente, e.denominazione AS denominazione_ente, r.cf, r.nome, r.pec, \
     r.telefono, r.email, r.stato, r.motivazione, r.richiesta_il, r.decisa_il, r.decisa_da \
     FROM registrazioni r JOIN enti e ON e.codice = r.ente";

impl Archivio {
    pub async fn conta_enti(&self) -> Risultato<i64> {
        let n: i64 = su_pool!(self, p => sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM enti").fetch_one(p).await)?;
        Ok(n)
    }

    /// All entities, Region first, then ARCA, then Comuni by name.
    pub async fn enti(&self) -> Risultato<Vec<Ente>> {
        let sql = format!(
            "SELECT {COLONNE_ENTE} FROM enti ORDER BY CASE tipo WHEN 'REGIONE' THEN 0 WHEN 'ARCA' THEN 1 ELSE 2 END, denominazione"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Ente>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn ente(&self, codice: &str) -> Risultato<Option<Ente>> {
        let sql = format!("SELECT {COLONNE_ENTE} FROM enti WHERE codice = $1");
        let v = su_pool!(self, p => sqlx::query_as::<_, Ente>(sqlx::AssertSqlSafe(sql.clone())).bind(codice).fetch_optional(p).await)?;
        Ok(v)
    }

    pub async fn registrazioni(&self, stato: Option<&str>) -> Risultato<Vec<Registrazione>> {
        let sql = format!(
            "{SELEZIONE_REGISTRAZIONE} WHERE ($1 IS NULL OR r.stato = $1) ORDER BY r.richiesta_il DESC, r.id DESC"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Registrazione>(sqlx::AssertSqlSafe(sql.clone())).bind(stato).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn registrazione(&self, id: i64) -> Risultato<Option<Registrazione>> {
        let sql = format!("{SELEZIONE_REGISTRAZIONE} WHERE r.id = $1");
        let v = su_pool!(self, p => sqlx::query_as::<_, Registrazione>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?;
        Ok(v)
    }

    /// The registrations requested by one person (their own view).
    pub async fn registrazioni_di(&self, cf: &str) -> Risultato<Vec<Registrazione>> {
        let sql = format!(
            "{SELEZIONE_REGISTRAZIONE} WHERE r.cf = $1 ORDER BY r.richiesta_il DESC, r.id DESC"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Registrazione>(sqlx::AssertSqlSafe(sql.clone())).bind(cf).fetch_all(p).await)?;
        Ok(v)
    }
}

impl Tx {
    /// Inserts reference entities that are not there yet; returns how many were added.
    pub async fn inserisci_enti(&mut self, enti: &[NuovoEnte]) -> Risultato<u64> {
        let mut n = 0;
        for e in enti {
            let r = su_tx!(self, c => sqlx::query(
                "INSERT INTO enti (codice, tipo, denominazione, sigla_provincia, codice_provincia, codice_catastale, \
                 popolazione, comune_sede, province_competenza, pilota) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE) ON CONFLICT (codice) DO NOTHING")
                .bind(&e.codice).bind(e.tipo).bind(&e.denominazione).bind(&e.sigla_provincia)
                .bind(&e.codice_provincia).bind(&e.codice_catastale).bind(e.popolazione)
                .bind(&e.comune_sede).bind(&e.province_competenza)
                .execute(c).await.map(|r| r.rows_affected()))?;
            n += r;
        }
        Ok(n)
    }

    pub async fn imposta_pilota(&mut self, codice: &str, pilota: bool) -> Risultato<()> {
        let r = su_tx!(self, c => sqlx::query("UPDATE enti SET pilota = $2 WHERE codice = $1")
            .bind(codice).bind(pilota).execute(c).await.map(|r| r.rows_affected()))?;
        if r == 0 {
            return Err(crate::ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn crea_registrazione(
        &mut self,
        ente: &str,
        cf: &str,
        nome: &str,
        pec: &str,
        telefono: &str,
        email: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO registrazioni (ente, cf, nome, pec, telefono, email, stato, richiesta_il) \
             VALUES ($1, $2, $3, $4, $5, $6, 'IN_ATTESA', $7) RETURNING id")
            .bind(ente).bind(cf).bind(nome).bind(pec).bind(telefono).bind(email).bind(ora)
            .fetch_one(c).await)?;
        Ok(id)
    }

    /// Decides a pending registration. `NonTrovato` if it is not pending any more (decided
    /// meanwhile by someone else), so a decision is never applied twice.
    pub async fn decidi_registrazione(
        &mut self,
        id: i64,
        approvata: bool,
        motivazione: Option<&str>,
        da: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        let stato = if approvata { "APPROVATA" } else { "RESPINTA" };
        let r = su_tx!(self, c => sqlx::query(
            "UPDATE registrazioni SET stato = $2, motivazione = $3, decisa_il = $4, decisa_da = $5 \
             WHERE id = $1 AND stato = 'IN_ATTESA'")
            .bind(id).bind(stato).bind(motivazione).bind(ora).bind(da).execute(c).await.map(|r| r.rows_affected()))?;
        if r == 0 {
            return Err(crate::ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    pub async fn segna_registrato(&mut self, ente: &str, ora: DateTime<Utc>) -> Risultato<()> {
        su_tx!(self, c => sqlx::query("UPDATE enti SET registrato_il = $2 WHERE codice = $1")
            .bind(ente).bind(ora).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Archivio {
    /// True when nothing but reference data is stored (no person, no registration, no audit
    /// entry other than the reference-data load).
    pub async fn senza_dati(&self) -> Risultato<bool> {
        let n: i64 = su_pool!(self, p => sqlx::query_scalar(
            "SELECT CAST((SELECT COUNT(*) FROM persone) + (SELECT COUNT(*) FROM registrazioni) + (SELECT COUNT(*) FROM token) + (SELECT COUNT(*) FROM flussi) AS BIGINT)")
            .fetch_one(p).await)?;
        Ok(n == 0)
    }
}

impl Tx {
    /// Removes everything but the reference entities, and restarts the audit chain. Used only
    /// by `push demo --sostituisci`, which the operator asks for explicitly. `tavole` are the
    /// register tables of every domain (generated from the definitions): each is emptied with
    /// its search index, since SQLite reuses the ids of deleted rows and a stale index entry
    /// would match the new row that gets its id.
    pub async fn svuota_dati(&mut self, tavole: &[crate::Tavola]) -> Risultato<()> {
        let postgres = matches!(self.inner, crate::TxInner::Pg(_));
        for t in tavole {
            let mut comandi = vec![format!("DELETE FROM {}", t.sql())];
            if !postgres {
                // A contentless FTS5 table is emptied by its own command, not by DELETE.
                let f = t.nome_ricerca();
                comandi.push(format!("INSERT INTO {f} ({f}) VALUES ('delete-all')"));
                // SQLite reuses the ids: the emptied index holds none of them.
                comandi.push(format!(
                    "UPDATE ricerca_indicizzata SET fino_a = 0 WHERE indice = '{f}'"
                ));
            }
            for sql in comandi {
                su_tx!(self, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
        for sql in [
            "DELETE FROM aggregati",
            "DELETE FROM comunicazioni_allegati",
            "DELETE FROM comunicazioni_enti",
            "DELETE FROM comunicazioni",
            "DELETE FROM messaggi",
            "DELETE FROM avvisi_sessione",
            "DELETE FROM solleciti",
            "DELETE FROM modelli_sollecito",
            "DELETE FROM impostazioni_monitoraggio",
            "DELETE FROM raccolte_enti",
            "DELETE FROM raccolte",
            "DELETE FROM differenze",
            "DELETE FROM righe_errate",
            "DELETE FROM segnalazioni",
            "DELETE FROM lavori",
            "DELETE FROM protocolli",
            "DELETE FROM flussi",
            "DELETE FROM sessioni",
            "DELETE FROM accessi_oidc",
            "DELETE FROM token",
            "DELETE FROM incarichi",
            "DELETE FROM registrazioni",
            "DELETE FROM persone",
            "DELETE FROM audit",
            "UPDATE audit_testa SET ultimo_seq = 0, ultimo_hash = '0000000000000000000000000000000000000000000000000000000000000000'",
            "UPDATE enti SET pilota = FALSE, registrato_il = NULL, pec = NULL",
        ] {
            su_tx!(self, c => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}
