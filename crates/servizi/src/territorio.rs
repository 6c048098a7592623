//! The register on the map, for the public: one point per Comune with counts only (the `comuni`
//! collection of the GIS service, `/ogc`).
//!
//! The counts are the public dashboard's cells (`crate::cruscotto::cruscotto_pubblico`,
//! stock by comune), so the map and the tables withhold the very same cells: nothing about
//! fewer than 5 units, and the complementary cell a province total would give away. A
//! suppressed Comune is listed with its counts `None` (marked) and **without a point**: the
//! mean position of two buildings would show where they are.
//!
//! The point comes from the domains' definitions: the located tables (`Posizione::Coordinate`)
//! grouped by their field of type `Comune`, the mean of their coordinates rounded to three
//! decimals (about 100 m). The reference list of the Comuni has no coordinates, and this point
//! falls where the Comune's housing is, which is what a map of the stock wants.
//!
//! A point is published only over at least [`MINIMO_PUBBLICABILE`] located records: over
//! fewer, the mean would come close to one building's position.
//!
//! Computing the points reads every building valid on the day asked. Answers are kept in
//! memory per day asked (today's included) until an acceptance changes the register
//! ([`archivio::VersioneRegistro`]), at most [`DURATA_CACHE`] and [`VOCI_CACHE`] days, and
//! only one computation runs at a time: anonymous callers asking for ever other days get
//! them one after another, never a server busy with as many scans as they send.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use flussi::spec::Tipo;
use flussi::spec::registro::Posizione;

use crate::registro::{TavolaRegistro, tavole_registro};
use crate::{Esito, Piattaforma};

/// The smallest number of units a public figure may be about.
pub const MINIMO_PUBBLICABILE: i64 = crate::cruscotto::SOGLIA_SOPPRESSIONE;

/// How long the current answer is kept at most, even if no acceptance is seen (a database
/// replaced under a running server).
pub const DURATA_CACHE: Duration = Duration::from_secs(600);

/// One Comune of the public collection.
#[derive(Clone, Debug, PartialEq)]
pub struct ComunePubblico {
    pub istat: String,
    pub nome: String,
    pub provincia: String,
    /// Per count of [`CONTEGGI_PUBBLICI`], its value; `None` when suppressed.
    pub conteggi: Vec<(&'static str, Option<i64>)>,
    /// Whether the counts are suppressed (see the module's documentation).
    pub soppresso: bool,
    /// WGS84 (longitude, latitude); `None` when suppressed or with no coordinates.
    pub punto: Option<(f64, f64)>,
}

/// How many days' answers are kept at most (the oldest computed goes first).
pub const VOCI_CACHE: usize = 32;

/// The answers kept, and the one place to compute a missing one.
pub struct CacheTerritorio {
    voci: Mutex<Vec<VoceCache>>,
    calcolo: tokio::sync::Semaphore,
}

impl Default for CacheTerritorio {
    fn default() -> Self {
        CacheTerritorio {
            voci: Mutex::new(Vec::new()),
            calcolo: tokio::sync::Semaphore::new(1),
        }
    }
}

/// The day asked (`None`: today's register), the register's state the answer was computed
/// for, when, and the answer.
type VoceCache = (
    Option<NaiveDate>,
    archivio::VersioneRegistro,
    Instant,
    Arc<Vec<ComunePubblico>>,
);

impl CacheTerritorio {
    fn cerca(
        &self,
        giorno: Option<NaiveDate>,
        versione: &archivio::VersioneRegistro,
    ) -> Option<Arc<Vec<ComunePubblico>>> {
        let voci = self.voci.lock().ok()?;
        voci.iter()
            .find(|(g, v, quando, _)| {
                *g == giorno && v == versione && quando.elapsed() < DURATA_CACHE
            })
            .map(|(.., dati)| dati.clone())
    }

    fn conserva(
        &self,
        giorno: Option<NaiveDate>,
        versione: archivio::VersioneRegistro,
        dati: Arc<Vec<ComunePubblico>>,
    ) {
        if let Ok(mut voci) = self.voci.lock() {
            voci.retain(|(g, v, quando, _)| {
                *g != giorno && *v == versione && quando.elapsed() < DURATA_CACHE
            });
            if voci.len() >= VOCI_CACHE {
                voci.remove(0);
            }
            voci.push((giorno, versione, Instant::now(), dati));
        }
    }
}

/// The located tables with a Comune field, and the tables located through each.
fn tavole_localizzate() -> Vec<(
    &'static TavolaRegistro,
    &'static str,
    Vec<&'static TavolaRegistro>,
)> {
    let tutte = tavole_registro();
    tutte
        .iter()
        .filter(|t| matches!(t.def.posizione, Some(Posizione::Coordinate { .. })))
        .filter_map(|t| {
            let comune = t
                .tabella
                .campi
                .iter()
                .find(|c| matches!(c.tipo, Tipo::Comune))?
                .nome;
            let figli = tutte
                .iter()
                .filter(|f| {
                    matches!(f.def.posizione, Some(Posizione::DelGenitore))
                        && f.def.genitore.is_some_and(|g| g.tabella == t.tabella.nome)
                })
                .collect();
            Some((t, comune, figli))
        })
        .collect()
}

/// The names of the counts of the public collection, in order.
pub const CONTEGGI_PUBBLICI: [&str; 3] = ["complessi", "fabbricati", "unita"];

fn arrotonda(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Piattaforma {
    /// The public `comuni` collection as of `alla_data` (today's register when `None`), sorted
    /// by ISTAT code. Anyone may read it: it holds counts only, with small cells suppressed.
    pub async fn comuni_pubblici(
        &self,
        alla_data: Option<NaiveDate>,
    ) -> Esito<Arc<Vec<ComunePubblico>>> {
        let versione = self.db.versione_registro().await?;
        if let Some(dati) = self.territorio.cerca(alla_data, &versione) {
            return Ok(dati);
        }
        // One computation at a time; whoever waited finds the answer another just kept.
        let _turno = self
            .territorio
            .calcolo
            .acquire()
            .await
            .map_err(|e| crate::ErroreServizio::Interno(e.to_string()))?;
        if let Some(dati) = self.territorio.cerca(alla_data, &versione) {
            return Ok(dati);
        }
        let dati = Arc::new(self.calcola_comuni(alla_data).await?);
        self.territorio.conserva(alla_data, versione, dati.clone());
        Ok(dati)
    }

    async fn calcola_comuni(&self, alla_data: Option<NaiveDate>) -> Esito<Vec<ComunePubblico>> {
        // Where each Comune's housing is: the mean of its located records' coordinates.
        let mut somme: BTreeMap<String, (f64, f64, i64)> = BTreeMap::new();
        for (t, comune, _) in tavole_localizzate() {
            let Some(Posizione::Coordinate {
                latitudine,
                longitudine,
            }) = t.def.posizione
            else {
                continue;
            };
            for c in self
                .db
                .centroidi(&t.tavola, comune, latitudine, longitudine, alla_data)
                .await?
            {
                if let (Some(lat), Some(lon)) = (c.latitudine, c.longitudine) {
                    // Weighted by the records counted, so that two tables add up.
                    let s = somme.entry(c.gruppo).or_default();
                    s.0 += lat * c.numero as f64;
                    s.1 += lon * c.numero as f64;
                    s.2 += c.numero;
                }
            }
        }
        // The counts are the public dashboard's cells, so that the map and the tables suppress
        // the same cells (a figure withheld in one must not be published in the other).
        let pubblico = self.cruscotto_pubblico(alla_data).await?;
        let mut v: Vec<ComunePubblico> = pubblico
            .per_comune
            .iter()
            .map(|c| {
                let soppresso =
                    c.unita.soppressa() || c.fabbricati.soppressa() || c.complessi.soppressa();
                let punto = somme
                    .get(&c.codice)
                    .filter(|s| s.2 >= MINIMO_PUBBLICABILE && !soppresso)
                    .map(|s| {
                        let n = s.2 as f64;
                        (arrotonda(s.1 / n), arrotonda(s.0 / n))
                    });
                ComunePubblico {
                    istat: c.codice.clone(),
                    nome: c.nome.clone(),
                    provincia: c.provincia.clone(),
                    conteggi: vec![
                        ("complessi", c.complessi.valore().copied()),
                        ("fabbricati", c.fabbricati.valore().copied()),
                        ("unita", c.unita.valore().copied()),
                    ],
                    soppresso,
                    punto,
                }
            })
            .collect();
        v.sort_by(|a, b| a.istat.cmp(&b.istat));
        Ok(v)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// The public collection's points follow the definitions: buildings are located and
    /// grouped by their Comune.
    #[test]
    fn conteggi_dalle_definizioni() {
        let v = tavole_localizzate();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].1, "comune_istat");
    }

    #[test]
    fn arrotondato_a_cento_metri() {
        assert_eq!(arrotonda(41.123_456), 41.123);
        assert_eq!(arrotonda(16.871_95), 16.872);
    }
}
