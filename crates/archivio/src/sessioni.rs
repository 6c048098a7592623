//! Web sessions and pending OpenID Connect logins, kept in the database so that several
//! server instances behave as one.

use chrono::{DateTime, Utc};

use crate::{Archivio, Risultato, Tx, su_pool, su_tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Sessione {
    pub id: String,
    pub cf: String,
    pub metodo: String,
    pub creata_il: DateTime<Utc>,
    pub scade_il: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccessoOidc {
    /// The key: a hash of the `state` sent to the provider and of the starting browser's
    /// secret (see `servizi::oidc`), so that the callback works only in that browser.
    pub stato: String,
    pub verificatore: String,
    pub nonce: String,
    pub creato_il: DateTime<Utc>,
}

impl Archivio {
    /// A session by the hash of its cookie, if not expired.
    pub async fn sessione(&self, id_hash: &str, ora: DateTime<Utc>) -> Risultato<Option<Sessione>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, Sessione>(
            "SELECT id, cf, metodo, creata_il, scade_il FROM sessioni WHERE id = $1 AND scade_il > $2")
            .bind(id_hash).bind(ora).fetch_optional(p).await)?;
        Ok(v)
    }

    pub async fn elimina_sessione(&self, id_hash: &str) -> Risultato<()> {
        su_pool!(self, p => sqlx::query("DELETE FROM sessioni WHERE id = $1").bind(id_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn salva_accesso_oidc(&self, a: &AccessoOidc) -> Risultato<()> {
        su_pool!(self, p => sqlx::query(
            "INSERT INTO accessi_oidc (stato, verificatore, nonce, creato_il) VALUES ($1, $2, $3, $4)")
            .bind(&a.stato).bind(&a.verificatore).bind(&a.nonce).bind(a.creato_il).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes (and deletes) a pending login by its key: a `state` can be used once only.
    pub async fn consuma_accesso_oidc(
        &self,
        stato: &str,
        non_prima_di: DateTime<Utc>,
    ) -> Risultato<Option<AccessoOidc>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, AccessoOidc>(
            "DELETE FROM accessi_oidc WHERE stato = $1 RETURNING stato, verificatore, nonce, creato_il")
            .bind(stato).fetch_optional(p).await)?;
        Ok(v.filter(|a| a.creato_il >= non_prima_di))
    }

    /// Keeps a one-shot message for the session whose cookie hashes to `sessione`.
    pub async fn metti_avviso(
        &self,
        id: &str,
        sessione: &str,
        valore: &str,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        su_pool!(self, p => sqlx::query(
            "INSERT INTO avvisi_sessione (id, sessione, valore, creato_il) VALUES ($1, $2, $3, $4)")
            .bind(id).bind(sessione).bind(valore).bind(ora).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes (and deletes) a message of that session: it can be read once only.
    pub async fn consuma_avviso(
        &self,
        id: &str,
        sessione: &str,
        non_prima_di: DateTime<Utc>,
    ) -> Risultato<Option<String>> {
        let v: Option<(String, DateTime<Utc>)> = su_pool!(self, p => sqlx::query_as(
            "DELETE FROM avvisi_sessione WHERE id = $1 AND sessione = $2 RETURNING valore, creato_il")
            .bind(id).bind(sessione).fetch_optional(p).await)?;
        Ok(v.filter(|(_, t)| *t >= non_prima_di).map(|(v, _)| v))
    }

    /// Removes expired sessions and stale pending logins.
    pub async fn pulisci_sessioni(
        &self,
        ora: DateTime<Utc>,
        accessi_prima_di: DateTime<Utc>,
    ) -> Risultato<()> {
        su_pool!(self, p => sqlx::query("DELETE FROM sessioni WHERE scade_il <= $1").bind(ora).execute(p).await.map(|r| r.rows_affected()))?;
        su_pool!(self, p => sqlx::query("DELETE FROM accessi_oidc WHERE creato_il < $1").bind(accessi_prima_di).execute(p).await.map(|r| r.rows_affected()))?;
        su_pool!(self, p => sqlx::query("DELETE FROM avvisi_sessione WHERE creato_il < $1").bind(accessi_prima_di).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    pub async fn crea_sessione(&mut self, s: &Sessione) -> Risultato<()> {
        su_tx!(self, c => sqlx::query(
            "INSERT INTO sessioni (id, cf, metodo, creata_il, scade_il) VALUES ($1, $2, $3, $4, $5)")
            .bind(&s.id).bind(&s.cf).bind(&s.metodo).bind(s.creata_il).bind(s.scade_il).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
