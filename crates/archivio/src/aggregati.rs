//! The dashboards' aggregates (`aggregati`, migration 0009): per entity and domain, counts and
//! integer-cent sums of one accepted snapshot of its register, valid over the same interval as
//! the register versions that snapshot made current. The merge replaces an entity's rows in its
//! own transaction (close the current ones on the acceptance day, insert the new ones), so "as
//! of D" here is the same day's register, counted. What is counted is the services' business
//! (`servizi::cruscotto`); this module only groups, sums and stores.

use chrono::NaiveDate;
use sqlx::Row;

use crate::flussi::Segnaposti;
use crate::registro::{
    Par, Tavola, Versione, corrotto, dei_genitori, leggi_versione, nome_sicuro, valida_a,
};
use crate::{Archivio, Risultato, Tx, TxInner, su_pool, su_tx};

/// One stored aggregate row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Aggregato {
    pub ente: String,
    pub dominio: String,
    pub misura: String,
    pub chiave: String,
    pub numero: i64,
    /// Integer cents.
    pub importo: i64,
}

/// A row to store for an entity's snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NuovoAggregato {
    pub misura: String,
    pub chiave: String,
    pub numero: i64,
    pub importo: i64,
}

/// A group of register rows: the grouped values (the table's fields, then its parent's), how
/// many rows, and the integer-cent sum of the money field asked for (0 without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GruppoContato {
    pub valori: Vec<Option<String>>,
    pub numero: i64,
    pub importo: i64,
}

fn tipo_intero(postgres: bool) -> &'static str {
    if postgres { "BIGINT" } else { "INTEGER" }
}

impl Tx {
    /// Groups an entity's register rows valid on `alla` (current with `None`) by some of the
    /// table's fields and some of its parent's (the parent as valid on the same day; a row
    /// whose parent is missing groups under NULL), counting them and summing a money field as
    /// integer cents (canonical `1234.56` without the dot: exact on both backends).
    pub async fn conta_per_gruppo(
        &mut self,
        t: &Tavola,
        ente: &str,
        alla: Option<NaiveDate>,
        campi: &[&str],
        campi_genitore: &[&str],
        importo: Option<&str>,
    ) -> Risultato<Vec<GruppoContato>> {
        if let Some(c) = campi
            .iter()
            .chain(importo.iter())
            .find(|c| t.indice(c).is_none())
        {
            return Err(corrotto("campo", c));
        }
        if let Some(c) = campi_genitore.iter().find(|c| !nome_sicuro(c)) {
            return Err(corrotto("campo", c));
        }
        let data = alla.map(|_| 2);
        let mut colonne: Vec<String> = campi.iter().map(|c| format!("r.{c}")).collect();
        let mut da = format!("{} r", t.sql());
        if !campi_genitore.is_empty() {
            let Some((tg, campo)) = &t.genitore else {
                return Err(corrotto("genitore", t.nome()));
            };
            da.push_str(&format!(
                " LEFT JOIN {tg} b ON b.ente = r.ente AND b.chiave = r.{campo} AND {}",
                valida_a("b.", data)
            ));
            colonne.extend(campi_genitore.iter().map(|c| format!("b.{c}")));
        }
        let ti = tipo_intero(self.is_postgres());
        let somma = match importo {
            Some(i) => {
                format!("CAST(COALESCE(SUM(CAST(REPLACE(r.{i}, '.', '') AS {ti})), 0) AS {ti})")
            }
            None => format!("CAST(0 AS {ti})"),
        };
        let gruppo = if colonne.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", colonne.join(", "))
        };
        let mut sel = colonne.clone();
        sel.push(format!("CAST(COUNT(*) AS {ti})"));
        sel.push(somma);
        let sql = format!(
            "SELECT {} FROM {da} WHERE r.ente = $1 AND {}{gruppo}",
            sel.join(", "),
            valida_a("r.", data)
        );
        let n = colonne.len();
        let v: Vec<GruppoContato> = su_tx!(self, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(ente);
            if let Some(d) = alla {
                q = q.bind(d);
            }
            let righe = q.fetch_all(c).await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                let mut valori = Vec::with_capacity(n);
                for i in 0..n {
                    valori.push(r.try_get::<Option<String>, _>(i)?);
                }
                v.push(GruppoContato { valori, numero: r.try_get(n)?, importo: r.try_get(n + 1)? });
            }
            Ok::<_, sqlx::Error>(v)
        })?;
        // An empty table still answers one row with COUNT 0 when nothing is grouped.
        Ok(v.into_iter().filter(|g| g.numero > 0).collect())
    }

    /// An entity's versions of a table valid on `alla` (current with `None`), by key.
    pub async fn versioni_ente(
        &mut self,
        t: &Tavola,
        ente: &str,
        alla: Option<NaiveDate>,
    ) -> Risultato<Vec<Versione>> {
        let sql = format!(
            "SELECT {} FROM {} r WHERE r.ente = $1 AND {} ORDER BY r.chiave",
            t.colonne("r."),
            t.sql(),
            valida_a("r.", alla.map(|_| 2))
        );
        let n = t.campi().len();
        let v = su_tx!(self, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(ente);
            if let Some(d) = alla {
                q = q.bind(d);
            }
            let righe = q.fetch_all(c).await?;
            righe.iter().map(|r| leggi_versione(r, n)).collect::<Result<Vec<_>, _>>()
        })?;
        Ok(v)
    }

    /// The days on which an entity's register of this table changed (every `valido_dal` and
    /// `valido_al`), in order: between two of them the register stood still.
    pub async fn date_registro(&mut self, t: &Tavola, ente: &str) -> Risultato<Vec<NaiveDate>> {
        let sql = format!(
            "SELECT valido_dal FROM {t} WHERE ente = $1 UNION SELECT valido_al FROM {t} WHERE ente = $1 AND valido_al IS NOT NULL",
            t = t.sql()
        );
        let mut v: Vec<NaiveDate> = su_tx!(self, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(ente).fetch_all(c).await)?;
        v.sort();
        v.dedup();
        Ok(v)
    }

    /// The entities with any version (current or past) in this table.
    pub async fn enti_registro(&mut self, t: &Tavola) -> Risultato<Vec<String>> {
        let sql = format!("SELECT DISTINCT ente FROM {} ORDER BY ente", t.sql());
        let v: Vec<String> = su_tx!(self, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).fetch_all(c).await)?;
        Ok(v)
    }

    /// Closes an entity's current aggregates of a domain on `data` (a new snapshot follows).
    pub async fn chiudi_aggregati(
        &mut self,
        ente: &str,
        dominio: &str,
        data: NaiveDate,
    ) -> Risultato<u64> {
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE aggregati SET valido_al = $3 WHERE ente = $1 AND dominio = $2 AND valido_al IS NULL")
            .bind(ente).bind(dominio).bind(data).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Stores an entity's snapshot of a domain, valid from `dal` (to `al`, or current).
    pub async fn inserisci_aggregati(
        &mut self,
        ente: &str,
        dominio: &str,
        flusso: Option<i64>,
        dal: NaiveDate,
        al: Option<NaiveDate>,
        righe: &[NuovoAggregato],
    ) -> Risultato<()> {
        for blocco in righe.chunks(1000) {
            let mut p = Segnaposti::new(self.is_postgres());
            let mut sql = String::from(
                "INSERT INTO aggregati (ente, dominio, flusso, valido_dal, valido_al, misura, chiave, numero, importo) VALUES ",
            );
            p.righe(&mut sql, blocco.len(), 9);
            su_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for r in blocco {
                    q = q
                        .bind(ente)
                        .bind(dominio)
                        .bind(flusso)
                        .bind(dal)
                        .bind(al)
                        .bind(r.misura.as_str())
                        .bind(r.chiave.as_str())
                        .bind(r.numero)
                        .bind(r.importo);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Whether a recomputation of every aggregate is pending (migration 0009 asks for one).
    /// On PostgreSQL it first locks the aggregates against every merge until commit, so the
    /// recomputation and a concurrent acceptance queue instead of interleaving (on SQLite the
    /// write transaction already excludes every other writer).
    pub async fn ricalcolo_aggregati_richiesto(&mut self) -> Risultato<bool> {
        if let TxInner::Pg(c) = &mut self.inner {
            sqlx::query("LOCK TABLE aggregati IN EXCLUSIVE MODE")
                .execute(&mut **c)
                .await?;
        }
        let n: i64 = su_tx!(self, c => sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM aggregati_ricalcolo").fetch_one(c).await)?;
        Ok(n > 0)
    }

    /// Forgets every aggregate and the pending request (the recomputation writes them anew).
    pub async fn azzera_aggregati(&mut self) -> Risultato<()> {
        su_tx!(self, c => sqlx::query("DELETE FROM aggregati").execute(&mut *c).await.map(|_| ()))?;
        su_tx!(self, c => sqlx::query("DELETE FROM aggregati_ricalcolo").execute(c).await.map(|_| ()))?;
        Ok(())
    }
}

impl Archivio {
    /// The children of the given `(ente, parent key)` pairs valid on `alla` (current with
    /// `None`), counted by one of their fields: `(ente, parent key, value, count)` — the
    /// units of a map's buildings by occupancy, in one query per 500 buildings.
    pub async fn conta_figli(
        &self,
        t: &Tavola,
        coppie: &[(String, String)],
        alla: Option<NaiveDate>,
        campo: &str,
    ) -> Risultato<Vec<(String, String, Option<String>, i64)>> {
        let Some((_, genitore)) = &t.genitore else {
            return Err(corrotto("genitore", t.nome()));
        };
        if t.indice(campo).is_none() {
            return Err(corrotto("campo", campo));
        }
        let ti = tipo_intero(self.is_postgres());
        let mut out = Vec::new();
        for blocco in coppie.chunks(500) {
            let (par, dove) = dei_genitori(blocco, genitore, alla);
            let sql = format!(
                "SELECT r.ente, r.{genitore}, r.{campo}, CAST(COUNT(*) AS {ti}) FROM {} r WHERE {dove} GROUP BY r.ente, r.{genitore}, r.{campo}",
                t.sql(),
            );
            let v: Vec<(String, String, Option<String>, i64)> = su_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for x in par.iter() {
                    q = match x {
                        Par::T(s) => q.bind(s.clone()),
                        Par::D(d) => q.bind(*d),
                        Par::F(f) => q.bind(*f),
                    };
                }
                q.fetch_all(p).await
            })?;
            out.extend(v);
        }
        Ok(out)
    }

    /// Every entity's aggregates valid on `alla` (current with `None`), or one entity's.
    pub async fn aggregati_al(
        &self,
        alla: Option<NaiveDate>,
        ente: Option<&str>,
    ) -> Risultato<Vec<Aggregato>> {
        let mut par = Vec::new();
        let data = alla.map(|d| {
            par.push(Par::D(d));
            par.len()
        });
        let mut sql = format!(
            "SELECT ente, dominio, misura, chiave, numero, importo FROM aggregati r WHERE {}",
            valida_a("r.", data)
        );
        if let Some(e) = ente {
            par.push(Par::T(e.to_string()));
            sql.push_str(&format!(" AND r.ente = ${}", par.len()));
        }
        let v: Vec<Aggregato> = su_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for x in par.iter() {
                q = match x {
                    Par::T(s) => q.bind(s.clone()),
                    Par::D(d) => q.bind(*d),
                    Par::F(f) => q.bind(*f),
                };
            }
            q.fetch_all(p).await
        })?;
        Ok(v)
    }

    /// Whether a recomputation of every aggregate is pending (a read: a start that finds none
    /// takes no write lock).
    pub async fn ricalcolo_aggregati_in_attesa(&self) -> Risultato<bool> {
        let n: i64 = su_pool!(self, p => sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM aggregati_ricalcolo").fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Asks the next start to recompute every aggregate from the register (after a change of
    /// what is counted; the tests, to check that recomputing gives the same figures).
    pub async fn richiedi_ricalcolo_aggregati(&self) -> Risultato<()> {
        su_pool!(self, p => sqlx::query("INSERT INTO aggregati_ricalcolo (richiesto) VALUES (1)").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// (rows, highest id) of the aggregates: changes whenever an acceptance commits (every
    /// snapshot stores at least one row). The highest id alone would not do on PostgreSQL:
    /// two merges take their ids in one order and may commit in the other, so the second
    /// commit can leave the highest id as it was; it always adds rows.
    pub async fn versione_aggregati(&self) -> Risultato<(i64, i64)> {
        let v: (i64, i64) = su_pool!(self, p => sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM aggregati").fetch_one(p).await)?;
        Ok(v)
    }
}
