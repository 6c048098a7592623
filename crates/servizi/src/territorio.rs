//! The register on the map, for the public: one point per Comune with counts only (the `comuni`
//! collection of the GIS service, `/ogc`). Everything comes from the domains' definitions: the
//! located tables (`Posizione::Coordinate`) are grouped by their field of type `Comune`, and the
//! tables located through them (`Posizione::DelGenitore`: the units of a building) are counted
//! per Comune of their parent.
//!
//! Public means the small-cell rule: nothing about fewer than [`MINIMO_PUBBLICABILE`] units. A
//! Comune whose units are fewer is listed with its counts suppressed (`None`, marked so) and
//! without a point: the mean position of two buildings would show where they are.
//!
//! The point is the mean of the Comune's located records' coordinates, rounded to three
//! decimals (about 100 m): the reference data of the Comuni has no coordinates, and this point
//! falls where the Comune's housing is, which is what a map of the stock wants.
//!
//! Computing the current answer reads every current building and unit; it is kept in memory
//! until an acceptance changes the register ([`archivio::VersioneRegistro`]), at most
//! [`DURATA_CACHE`], so anonymous callers cannot make the server redo it at will.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use flussi::spec::Tipo;
use flussi::spec::registro::Posizione;

use crate::registro::{TavolaRegistro, tavole_registro};
use crate::{Esito, Piattaforma};

/// The smallest number of units a public figure may be about.
pub const MINIMO_PUBBLICABILE: i64 = 5;

/// How long the current answer is kept at most, even if no acceptance is seen (a database
/// replaced under a running server).
pub const DURATA_CACHE: Duration = Duration::from_secs(600);

/// One Comune of the public collection.
#[derive(Clone, Debug, PartialEq)]
pub struct ComunePubblico {
    pub istat: String,
    pub nome: String,
    pub provincia: String,
    /// Per counted table (`fabbricati`, `unita`), the count; `None` when suppressed.
    pub conteggi: Vec<(&'static str, Option<i64>)>,
    /// Whether the counts are suppressed (fewer than [`MINIMO_PUBBLICABILE`] units).
    pub soppresso: bool,
    /// WGS84 (longitude, latitude); `None` when suppressed or with no coordinates.
    pub punto: Option<(f64, f64)>,
}

/// The answer kept for the current register.
#[derive(Default)]
pub struct CacheTerritorio {
    voce: Mutex<Option<VoceCache>>,
}

/// The register's state an answer was computed for, when, and the answer.
type VoceCache = (
    archivio::VersioneRegistro,
    Instant,
    Arc<Vec<ComunePubblico>>,
);

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

/// The names of the counts of the public collection, in order (the located tables, then the
/// tables located through them).
pub fn conteggi_pubblici() -> Vec<&'static str> {
    let mut v = Vec::new();
    for (t, _, figli) in tavole_localizzate() {
        v.push(t.tabella.nome);
        v.extend(figli.iter().map(|f| f.tabella.nome));
    }
    v
}

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
        if alla_data.is_some() {
            return Ok(Arc::new(self.calcola_comuni(alla_data).await?));
        }
        let versione = self.db.versione_registro().await?;
        if let Ok(c) = self.territorio.voce.lock()
            && let Some((v, quando, dati)) = c.as_ref()
            && *v == versione
            && quando.elapsed() < DURATA_CACHE
        {
            return Ok(dati.clone());
        }
        let dati = Arc::new(self.calcola_comuni(None).await?);
        if let Ok(mut c) = self.territorio.voce.lock() {
            *c = Some((versione, Instant::now(), dati.clone()));
        }
        Ok(dati)
    }

    async fn calcola_comuni(&self, alla_data: Option<NaiveDate>) -> Esito<Vec<ComunePubblico>> {
        struct Grezzo {
            conteggi: BTreeMap<&'static str, i64>,
            unita: i64,
            somma: (f64, f64, i64),
        }
        let mut per_comune: BTreeMap<String, Grezzo> = BTreeMap::new();
        let nuovo = || Grezzo {
            conteggi: BTreeMap::new(),
            unita: 0,
            somma: (0.0, 0.0, 0),
        };
        for (t, comune, figli) in tavole_localizzate() {
            let Some(Posizione::Coordinate {
                latitudine,
                longitudine,
            }) = t.def.posizione
            else {
                continue;
            };
            let centri = self
                .db
                .centroidi(&t.tavola, comune, latitudine, longitudine, alla_data)
                .await?;
            for c in centri {
                let g = per_comune.entry(c.gruppo).or_insert_with(nuovo);
                g.conteggi.insert(t.tabella.nome, c.numero);
                if figli.is_empty() {
                    g.unita += c.numero;
                }
                if let (Some(lat), Some(lon)) = (c.latitudine, c.longitudine) {
                    // Means weighted by the records counted, so that two tables add up.
                    g.somma.0 += lat * c.numero as f64;
                    g.somma.1 += lon * c.numero as f64;
                    g.somma.2 += c.numero;
                }
            }
            for f in figli {
                for (gruppo, n) in self
                    .db
                    .conteggi_per_genitore(&f.tavola, comune, alla_data)
                    .await?
                {
                    let g = per_comune.entry(gruppo).or_insert_with(nuovo);
                    g.conteggi.insert(f.tabella.nome, n);
                    g.unita += n;
                }
            }
        }
        let nomi = conteggi_pubblici();
        Ok(per_comune
            .into_iter()
            .map(|(istat, g)| {
                let soppresso = g.unita < MINIMO_PUBBLICABILE;
                let rif = flussi::riferimento::comune(&istat);
                ComunePubblico {
                    nome: rif.map(|c| c.nome.clone()).unwrap_or_default(),
                    provincia: rif.map(|c| c.sigla_provincia.clone()).unwrap_or_default(),
                    conteggi: nomi
                        .iter()
                        .map(|n| {
                            let v = g.conteggi.get(n).copied().unwrap_or(0);
                            (*n, (!soppresso).then_some(v))
                        })
                        .collect(),
                    soppresso,
                    punto: (!soppresso && g.somma.2 > 0).then(|| {
                        let n = g.somma.2 as f64;
                        (arrotonda(g.somma.1 / n), arrotonda(g.somma.0 / n))
                    }),
                    istat,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// The public collection follows the definitions: buildings are located and grouped by
    /// their Comune, units are counted through their building.
    #[test]
    fn conteggi_dalle_definizioni() {
        assert_eq!(conteggi_pubblici(), vec!["fabbricati", "unita"]);
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
