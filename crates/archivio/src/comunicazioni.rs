//! News (*comunicazioni*) published by the Region: the Markdown source as written, its
//! audience, the banner period, the attachments (files in the store, by hash).
//!
//! Who sees what is one query for both backends: a reader is described by whether they are
//! the Region (sees everything), whether they act for some entity (sees `enti`) and which
//! entities (sees the `selezione` naming one of them); the public sees `pubblico` only.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{Archivio, Risultato, Tx, su_pool, su_tx};

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Comunicazione {
    pub id: i64,
    pub titolo: String,
    pub corpo: String,
    pub data: NaiveDate,
    pub pubblico: String,
    pub banner_dal: Option<NaiveDate>,
    pub banner_al: Option<NaiveDate>,
    pub creata_il: DateTime<Utc>,
    pub creata_da: String,
    pub ritirata_il: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Allegato {
    pub id: i64,
    pub comunicazione: i64,
    pub nome: String,
    pub tipo: String,
    pub dimensione: i64,
    pub sha256: String,
}

/// A new piece of news.
pub struct NuovaComunicazione<'a> {
    pub titolo: &'a str,
    pub corpo: &'a str,
    pub data: NaiveDate,
    pub pubblico: &'a str,
    pub banner_dal: Option<NaiveDate>,
    pub banner_al: Option<NaiveDate>,
    pub creata_da: &'a str,
}

/// Who reads: see the module's note.
#[derive(Clone, Debug, Default)]
pub struct Lettore {
    pub regione: bool,
    pub enti: Vec<String>,
}

const COLONNE: &str = "c.id, c.titolo, c.corpo, c.data, c.pubblico, c.banner_dal, c.banner_al, c.creata_il, c.creata_da, c.ritirata_il";

/// The visibility condition; binds `$1` (is the Region), `$2` (acts for some entity), `$3`
/// (the entities, `,`-joined with a leading and trailing comma).
const VISIBILE: &str = "c.ritirata_il IS NULL AND ($1 OR c.pubblico = 'pubblico' OR ($2 AND c.pubblico = 'enti') \
     OR (c.pubblico = 'selezione' AND EXISTS (SELECT 1 FROM comunicazioni_enti ce WHERE ce.comunicazione = c.id \
     AND $3 LIKE ('%,' || ce.ente || ',%'))))";

impl Lettore {
    fn enti_uniti(&self) -> String {
        format!(",{},", self.enti.join(","))
    }
}

impl Tx {
    pub async fn crea_comunicazione(
        &mut self,
        n: &NuovaComunicazione<'_>,
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO comunicazioni (titolo, corpo, data, pubblico, banner_dal, banner_al, creata_il, creata_da) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(n.titolo).bind(n.corpo).bind(n.data).bind(n.pubblico).bind(n.banner_dal).bind(n.banner_al)
            .bind(ora).bind(n.creata_da).fetch_one(c).await)?;
        Ok(id)
    }

    pub async fn destinatario_comunicazione(&mut self, id: i64, ente: &str) -> Risultato<()> {
        su_tx!(self, c => sqlx::query(
            "INSERT INTO comunicazioni_enti (comunicazione, ente) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id).bind(ente).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn allega(
        &mut self,
        id: i64,
        nome: &str,
        tipo: &str,
        dimensione: i64,
        sha256: &str,
    ) -> Risultato<i64> {
        let v: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO comunicazioni_allegati (comunicazione, nome, tipo, dimensione, sha256) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(id).bind(nome).bind(tipo).bind(dimensione).bind(sha256).fetch_one(c).await)?;
        Ok(v)
    }

    /// Withdraws a piece of news; `false` if it was already withdrawn or does not exist.
    pub async fn ritira_comunicazione(&mut self, id: i64, ora: DateTime<Utc>) -> Risultato<bool> {
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE comunicazioni SET ritirata_il = $2 WHERE id = $1 AND ritirata_il IS NULL")
            .bind(id).bind(ora).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

impl Archivio {
    /// The news a reader may see, published by `oggi`, newest first.
    pub async fn comunicazioni_visibili(
        &self,
        l: &Lettore,
        oggi: NaiveDate,
        limite: i64,
    ) -> Risultato<Vec<Comunicazione>> {
        let sql = format!(
            "SELECT {COLONNE} FROM comunicazioni c WHERE {VISIBILE} AND c.data <= $4 ORDER BY c.data DESC, c.id DESC LIMIT $5"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Comunicazione>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(l.regione).bind(!l.enti.is_empty()).bind(l.enti_uniti()).bind(oggi).bind(limite)
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// The banners a reader may see today.
    pub async fn banner_visibili(
        &self,
        l: &Lettore,
        oggi: NaiveDate,
    ) -> Risultato<Vec<Comunicazione>> {
        let sql = format!(
            "SELECT {COLONNE} FROM comunicazioni c WHERE {VISIBILE} AND c.banner_dal IS NOT NULL \
             AND c.banner_dal <= $4 AND (c.banner_al IS NULL OR c.banner_al >= $4) ORDER BY c.banner_dal DESC, c.id DESC LIMIT 3"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Comunicazione>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(l.regione).bind(!l.enti.is_empty()).bind(l.enti_uniti()).bind(oggi)
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// One piece of news if the reader may see it (published or not: the Region sees both).
    pub async fn comunicazione_visibile(
        &self,
        l: &Lettore,
        id: i64,
        oggi: NaiveDate,
    ) -> Risultato<Option<Comunicazione>> {
        let sql = format!(
            "SELECT {COLONNE} FROM comunicazioni c WHERE c.id = $4 AND {VISIBILE} AND ($1 OR c.data <= $5)"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Comunicazione>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(l.regione).bind(!l.enti.is_empty()).bind(l.enti_uniti()).bind(id).bind(oggi)
            .fetch_optional(p).await)?;
        Ok(v)
    }

    /// Every piece of news, withdrawn too (the Region's list).
    pub async fn tutte_comunicazioni(&self, limite: i64) -> Risultato<Vec<Comunicazione>> {
        let sql = format!(
            "SELECT {COLONNE} FROM comunicazioni c ORDER BY c.data DESC, c.id DESC LIMIT $1"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Comunicazione>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(limite).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn allegati_comunicazione(&self, id: i64) -> Risultato<Vec<Allegato>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, Allegato>(
            "SELECT id, comunicazione, nome, tipo, dimensione, sha256 FROM comunicazioni_allegati WHERE comunicazione = $1 ORDER BY id")
            .bind(id).fetch_all(p).await)?;
        Ok(v)
    }

    pub async fn enti_comunicazione(&self, id: i64) -> Risultato<Vec<String>> {
        let v: Vec<String> = su_pool!(self, p => sqlx::query_scalar(
            "SELECT ente FROM comunicazioni_enti WHERE comunicazione = $1 ORDER BY ente")
            .bind(id).fetch_all(p).await)?;
        Ok(v)
    }
}
