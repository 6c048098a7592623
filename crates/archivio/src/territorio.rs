//! Located aggregates of the register for the public GIS collection (`/ogc`, collection
//! `comuni`): per value of a grouping field (a Comune), how many records and the mean of their
//! coordinates; and a cheap marker of the register's state, so that a computed answer can be kept until the next
//! acceptance changes it.

use chrono::NaiveDate;

use crate::registro::{corrotto, nome_sicuro, valida_a};
use crate::{Archivio, Risultato, Tavola, su_pool};

/// One group of located records: its value, how many records, the mean point (none when no
/// record of the group has both coordinates).
#[derive(Clone, Debug, PartialEq)]
pub struct Centroide {
    pub gruppo: String,
    pub numero: i64,
    pub latitudine: Option<f64>,
    pub longitudine: Option<f64>,
}

/// The register's state as far as acceptances go: how many flows were ever accepted (accepted
/// or later superseded) and the highest of their ids. Every acceptance changes it; nothing else
/// changes the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersioneRegistro {
    pub accettati: i64,
    pub ultimo: i64,
}

impl Archivio {
    /// Per value of `gruppo`, the count of the records valid on `alla_data` (today when none)
    /// and the mean of their coordinate fields `lat`/`lon` (canonical decimals).
    pub async fn centroidi(
        &self,
        t: &Tavola,
        gruppo: &str,
        lat: &str,
        lon: &str,
        alla_data: Option<NaiveDate>,
    ) -> Risultato<Vec<Centroide>> {
        for c in [gruppo, lat, lon] {
            if !nome_sicuro(c) || t.indice(c).is_none() {
                return Err(corrotto("campo", c));
            }
        }
        let sql = format!(
            "SELECT r.{gruppo}, COUNT(*), AVG(CAST(r.{lat} AS DOUBLE PRECISION)), \
             AVG(CAST(r.{lon} AS DOUBLE PRECISION)) FROM {} r \
             WHERE {} AND r.{gruppo} IS NOT NULL GROUP BY r.{gruppo} ORDER BY r.{gruppo}",
            t.sql(),
            valida_a("r.", alla_data.map(|_| 1))
        );
        type Riga = (String, i64, Option<f64>, Option<f64>);
        let v: Vec<Riga> = su_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            if let Some(d) = alla_data {
                q = q.bind(d);
            }
            q.fetch_all(p).await
        })?;
        Ok(v.into_iter()
            .map(|(gruppo, numero, latitudine, longitudine)| Centroide {
                gruppo,
                numero,
                latitudine,
                longitudine,
            })
            .collect())
    }

    /// The marker of the register's state (see [`VersioneRegistro`]).
    pub async fn versione_registro(&self) -> Risultato<VersioneRegistro> {
        let (accettati, ultimo): (i64, i64) = su_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM flussi \
             WHERE stato IN ('accettato', 'superato')"
        ).fetch_one(p).await)?;
        Ok(VersioneRegistro { accettati, ultimo })
    }
}
