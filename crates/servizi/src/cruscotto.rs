//! The dashboards' figures (issue 11): the Region's executive dashboard and the public's
//! aggregate figures, exact and "as of a date", from the aggregates the merge keeps.
//!
//! **How they stay exact.** A flow is an entity's whole data of a domain (`Fusione::Istantanea`),
//! so after each acceptance the entity's register of that domain *is* one snapshot. In the
//! same transaction as the merge, [`aggiorna_alla_fusione`] counts that snapshot (SQL `GROUP
//! BY` over the entity's current rows, integer cents) and replaces the entity's aggregate
//! rows: the current ones get `valido_al` = the acceptance day, the new ones `valido_dal` =
//! that day — the same bounds the merge gives the register versions. So on any day D the
//! entity's aggregate rows valid on D count exactly the entity's register versions valid on D,
//! and a dashboard reads a few hundred rows whatever the register's size. Figures that change
//! with the day without a new flow (delayed and stalled interventions) are stored as the day
//! they start (`dominio::intervento::in_ritardo_dal`, `riferimento_fermo`) and counted for D
//! when read, so they too are exact for any D and any stall threshold. Data accepted before
//! migration 0009 (and the demo's) get their aggregates at the next start
//! ([`Piattaforma::prepara_aggregati`]): for each day the entity's register changed, the
//! snapshot as of that day, valid until the next one.
//!
//! The public variant withholds every cell about fewer than [`SOGLIA_SOPPRESSIONE`] units
//! ([`Cella::Soppressa`]), and one more cell where a single withheld cell could be worked out
//! from a published total.

use std::collections::{BTreeMap, HashMap};

use archivio::{Aggregato, FiltroRegistro, NuovoAggregato, Tx};
use chrono::NaiveDate;
use dominio::denaro::{Importo, Percentuale};
use dominio::intervento::{self, InRitardo, Sal};
use dominio::{Azione, Soggetto, politica::autorizza};
use serde::Serialize;

use crate::interventi::{campo, data, decorrenze, importo};
use crate::registro::{TavolaRegistro, tavola_di};
use crate::{ErroreServizio, Esito, Piattaforma};

/// The domains with aggregates.
pub const DOMINI_AGGREGATI: [&str; 2] = ["patrimonio", "contabilita"];

/// Public cells about fewer units (interventions, for financing) than this are withheld.
pub const SOGLIA_SOPPRESSIONE: i64 = 5;

/// The states of occupancy that count as vacant for the vacancy rate.
pub const STATI_SFITTI: [&str; 2] = ["SFITTO_ASSEGNABILE", "SFITTO_DA_RISTRUTTURARE"];

/// A missing enumeration value (e.g. no energy class) is grouped under this key.
pub const NON_INDICATO: &str = "NON_INDICATO";

const SEMPRE: &str = "sempre";

fn tavola(nome: &str) -> Esito<&'static TavolaRegistro> {
    tavola_di(nome).ok_or_else(|| ErroreServizio::Interno(format!("registro {nome} assente")))
}

fn valore(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| NON_INDICATO.to_string())
}

fn riga(misura: &str, chiave: String, numero: i64, importo: i64) -> NuovoAggregato {
    NuovoAggregato {
        misura: misura.into(),
        chiave,
        numero,
        importo,
    }
}

/// Counts an entity's snapshot of a domain (current with `None`, or as of a day).
async fn calcola(
    tx: &mut Tx,
    ente: &str,
    dominio: &str,
    alla: Option<NaiveDate>,
) -> Esito<Vec<NuovoAggregato>> {
    // Every snapshot stores at least this row: an entity with an empty register still has a
    // snapshot, and the store's "version" of the aggregates changes at each acceptance.
    let mut v = vec![riga("istantanea", String::new(), 1, 0)];
    match dominio {
        "patrimonio" => {
            for (nome, misura) in [("complessi", "complessi"), ("fabbricati", "fabbricati")] {
                let t = tavola(nome)?;
                for g in tx
                    .conta_per_gruppo(&t.tavola, ente, alla, &["comune_istat"], &[], None)
                    .await?
                {
                    v.push(riga(misura, valore(&g.valori[0]), g.numero, 0));
                }
            }
            let t = tavola("unita")?;
            let gruppi = tx
                .conta_per_gruppo(
                    &t.tavola,
                    ente,
                    alla,
                    &[
                        "stato_occupazione",
                        "tipologia",
                        "regime",
                        "classe_energetica",
                    ],
                    &["comune_istat"],
                    None,
                )
                .await?;
            let (mut unita, mut alloggi): (BTreeMap<String, i64>, BTreeMap<String, i64>) =
                Default::default();
            for g in gruppi {
                let [stato, tipologia, regime, classe, comune] = &g.valori[..] else {
                    continue;
                };
                *unita
                    .entry(format!("{}|{}", valore(comune), valore(stato)))
                    .or_default() += g.numero;
                if tipologia.as_deref() == Some("ALLOGGIO") {
                    *alloggi
                        .entry(format!("{}|{}", valore(regime), valore(classe)))
                        .or_default() += g.numero;
                }
            }
            v.extend(unita.into_iter().map(|(k, n)| riga("unita", k, n, 0)));
            v.extend(alloggi.into_iter().map(|(k, n)| riga("alloggi", k, n, 0)));
        }
        "contabilita" => {
            let ti = tavola("interventi")?;
            let ts = tavola("sal")?;
            let mut sal: HashMap<String, Vec<Sal>> = HashMap::new();
            for r in tx.versioni_ente(&ts.tavola, ente, alla).await? {
                let t = ts.tabella;
                if let (Some(cup), Some(numero), Some(d)) = (
                    campo(t, &r, "cup"),
                    campo(t, &r, "numero_sal").and_then(|x| x.parse().ok()),
                    data(campo(t, &r, "data_sal")),
                ) {
                    sal.entry(cup.to_string()).or_default().push(Sal {
                        numero,
                        data: d,
                        percentuale: 0.0,
                    });
                }
            }
            let mut per_stato: BTreeMap<String, (i64, Importo)> = BTreeMap::new();
            let mut ritardi: BTreeMap<String, i64> = BTreeMap::new();
            let mut fermi: BTreeMap<String, i64> = BTreeMap::new();
            let t = ti.tabella;
            for r in tx.versioni_ente(&ti.tavola, ente, alla).await? {
                let stato = campo(t, &r, "stato").unwrap_or_default();
                let programma = campo(t, &r, "codice_programma").unwrap_or_default();
                let e = per_stato.entry(format!("{programma}|{stato}")).or_default();
                e.0 += 1;
                e.1 += importo(campo(t, &r, "importo_finanziato"));
                // The same days as the lists behind the figures (`?situazione=`) filter on.
                let (ritardo, fermo) = decorrenze(
                    t,
                    &r,
                    sal.get(&r.chiave).map(Vec::as_slice).unwrap_or_default(),
                );
                match ritardo {
                    Some(InRitardo::Sempre) => *ritardi.entry(SEMPRE.into()).or_default() += 1,
                    Some(InRitardo::Dal(d)) => *ritardi.entry(d.to_string()).or_default() += 1,
                    None => {}
                }
                if let Some(d) = fermo {
                    *fermi.entry(d.to_string()).or_default() += 1;
                }
            }
            v.extend(
                per_stato
                    .into_iter()
                    .map(|(k, (n, i))| riga("interventi", k, n, i.centesimi())),
            );
            v.extend(ritardi.into_iter().map(|(k, n)| riga("ritardo", k, n, 0)));
            v.extend(fermi.into_iter().map(|(k, n)| riga("fermo", k, n, 0)));
            for (nome, misura) in [("erogazioni", "erogato"), ("pagamenti", "pagato")] {
                let t = tavola(nome)?;
                for g in tx
                    .conta_per_gruppo(
                        &t.tavola,
                        ente,
                        alla,
                        &[],
                        &["codice_programma"],
                        Some("importo"),
                    )
                    .await?
                {
                    v.push(riga(misura, valore(&g.valori[0]), g.numero, g.importo));
                }
            }
        }
        _ => {}
    }
    Ok(v)
}

/// In the merge's transaction, after the register was written: replaces the entity's
/// aggregates of the domain with the new snapshot's, valid from the acceptance day.
pub(crate) async fn aggiorna_alla_fusione(
    tx: &mut Tx,
    ente: &str,
    dominio: &str,
    flusso: i64,
    giorno: NaiveDate,
) -> Esito<()> {
    // Every domain gets at least its marker row (the programme list too: its names, sources
    // and instruments are part of the figures), so the aggregates' version moves.
    let righe = calcola(tx, ente, dominio, None).await?;
    tx.chiudi_aggregati(ente, dominio, giorno).await?;
    tx.inserisci_aggregati(ente, dominio, Some(flusso), giorno, None, &righe)
        .await?;
    Ok(())
}

impl Piattaforma {
    /// At start: when migration 0009 (or a later one) asked for it, recomputes every
    /// aggregate from the register, history included, in one transaction. Otherwise one
    /// cheap read.
    pub async fn prepara_aggregati(&self) -> Esito<()> {
        if !self.db.ricalcolo_aggregati_in_attesa().await? {
            return Ok(());
        }
        let mut tx = self.db.inizia().await?;
        if !tx.ricalcolo_aggregati_richiesto().await? {
            return Ok(());
        }
        tx.azzera_aggregati().await?;
        for dominio in DOMINI_AGGREGATI {
            let spec = flussi::spec::dominio(dominio)
                .ok_or_else(|| ErroreServizio::Interno(format!("dominio {dominio}")))?;
            let tavole: Vec<&TavolaRegistro> = crate::registro::tavole(spec).collect();
            let mut enti: Vec<String> = Vec::new();
            for t in &tavole {
                enti.extend(tx.enti_registro(&t.tavola).await?);
            }
            enti.sort();
            enti.dedup();
            for ente in enti {
                let mut giorni = Vec::new();
                for t in &tavole {
                    giorni.extend(tx.date_registro(&t.tavola, &ente).await?);
                }
                giorni.sort();
                giorni.dedup();
                // Between two consecutive days of change the register stood still: the
                // snapshot as of the first is valid until the second; the last is current.
                for (i, g) in giorni.iter().enumerate() {
                    let fino = giorni.get(i + 1).copied();
                    let righe = calcola(&mut tx, &ente, dominio, Some(*g)).await?;
                    tx.inserisci_aggregati(&ente, dominio, None, *g, fino, &righe)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        // Recomputed rows may reuse the ids of the forgotten ones: forget the cached figures.
        if let Ok(mut v) = self.cruscotti.voci.lock() {
            v.clear();
        }
        tracing::info!("aggregati dei cruscotti ricalcolati dal registro");
        Ok(())
    }

    /// The Region's executive dashboard as of `alla` (today without one): Region staff only.
    pub async fn cruscotto(&self, s: &Soggetto, alla: Option<NaiveDate>) -> Esito<Cruscotto> {
        autorizza(s, &Azione::VedereDatiRegionali)?;
        self.figure(alla).await
    }

    /// The public's figures as of `alla`: no login; small cells withheld.
    pub async fn cruscotto_pubblico(&self, alla: Option<NaiveDate>) -> Esito<CruscottoPubblico> {
        Ok(pubblico(&self.figure(alla).await?))
    }

    async fn figure(&self, alla: Option<NaiveDate>) -> Esito<Cruscotto> {
        let giorno = alla.unwrap_or_else(|| self.orologio.oggi());
        // The figures change only when an acceptance writes aggregates (every acceptance
        // adds rows, so the version moves): a cached day of the same version is exact. One cheap read instead of reading and adding up every row.
        let versione = self.db.versione_aggregati().await?;
        let chiave = (versione, giorno, alla.is_none());
        if let Ok(c) = self.cruscotti.voci.lock()
            && let Some((_, v)) = c.iter().find(|(k, _)| *k == chiave)
        {
            return Ok(v.clone());
        }
        let c = self.figure_dal_registro(giorno, alla).await?;
        if let Ok(mut voci) = self.cruscotti.voci.lock() {
            voci.retain(|(k, _)| k.0 == versione);
            if voci.len() >= 16 {
                voci.remove(0);
            }
            voci.push((chiave, c.clone()));
        }
        Ok(c)
    }

    async fn figure_dal_registro(
        &self,
        giorno: NaiveDate,
        alla: Option<NaiveDate>,
    ) -> Esito<Cruscotto> {
        let righe = self.db.aggregati_al(alla, None).await?;
        let tp = tavola("programmi")?;
        let programmi = self
            .db
            .elenco_registro(
                &tp.tavola,
                &FiltroRegistro {
                    ente: Some("REGIONE".into()),
                    alla_data: alla,
                    limite: 10_000,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(|p| {
                let t = tp.tabella;
                let c = |n: &str| campo(t, &p, n).unwrap_or_default().to_string();
                (
                    p.chiave.clone(),
                    Programma {
                        denominazione: c("denominazione"),
                        fonte: c("fonte"),
                        strumento: c("strumento"),
                        importo: importo(campo(t, &p, "importo_programma")),
                    },
                )
            })
            .collect();
        let enti: HashMap<String, String> = self
            .db
            .enti()
            .await?
            .into_iter()
            .map(|e| (e.codice, e.denominazione))
            .collect();
        Ok(componi(
            giorno,
            &righe,
            &programmi,
            &enti,
            self.config.soglia_fermo_giorni,
        ))
    }
}

/// How a building's units are occupied (the map's colours).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Occupazione {
    /// No vacant unit.
    Occupato,
    /// Some vacant units, fewer than half.
    Parziale,
    /// Half or more of the units vacant.
    Sfitto,
    /// No unit recorded.
    Senza,
}

impl Occupazione {
    pub fn di(unita: i64, sfitte: i64) -> Self {
        if unita <= 0 {
            Occupazione::Senza
        } else if sfitte <= 0 {
            Occupazione::Occupato
        } else if sfitte * 2 >= unita {
            Occupazione::Sfitto
        } else {
            Occupazione::Parziale
        }
    }
    pub fn codice(self) -> &'static str {
        match self {
            Occupazione::Occupato => "occupato",
            Occupazione::Parziale => "parziale",
            Occupazione::Sfitto => "sfitto",
            Occupazione::Senza => "senza",
        }
    }
}

impl Piattaforma {
    /// The occupancy of the given buildings `(ente, codice_fabbricato)` as of `alla`, for
    /// the map: each entity checked against the policy (the owner, the Region).
    pub async fn occupazione_fabbricati(
        &self,
        s: &Soggetto,
        fabbricati: &[(String, String)],
        alla: Option<NaiveDate>,
    ) -> Esito<HashMap<(String, String), Occupazione>> {
        let mut enti: Vec<&str> = fabbricati.iter().map(|(e, _)| e.as_str()).collect();
        enti.sort_unstable();
        enti.dedup();
        for e in enti {
            self.ambito_registro(s, "unita", Some(e))?;
        }
        let t = tavola("unita")?;
        let mut conti: HashMap<(String, String), (i64, i64)> = HashMap::new();
        for (ente, fabbricato, stato, n) in self
            .db
            .conta_figli(&t.tavola, fabbricati, alla, "stato_occupazione")
            .await?
        {
            let c = conti.entry((ente, fabbricato)).or_default();
            c.0 += n;
            if stato.is_some_and(|s| STATI_SFITTI.contains(&s.as_str())) {
                c.1 += n;
            }
        }
        Ok(fabbricati
            .iter()
            .map(|k| {
                let (u, sf) = conti.get(k).copied().unwrap_or_default();
                (k.clone(), Occupazione::di(u, sf))
            })
            .collect())
    }
}

/// The figures of the last days asked (at most 16), all of one aggregates' version.
#[derive(Default)]
pub struct CacheCruscotti {
    voci: std::sync::Mutex<Vec<(ChiaveCache, Cruscotto)>>,
}

/// (aggregates' version, day, current rather than "as of").
type ChiaveCache = ((i64, i64), NaiveDate, bool);

/// A programme as the dashboard needs it.
#[derive(Clone, Debug, Default)]
pub struct Programma {
    pub denominazione: String,
    pub fonte: String,
    pub strumento: String,
    pub importo: Importo,
}

/// The stock of a place or an entity.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RigaStock {
    pub codice: String,
    pub nome: String,
    pub complessi: i64,
    pub fabbricati: i64,
    pub unita: i64,
}

/// A count by a category (occupancy state, regime, energy class, state of works).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Conteggio {
    pub codice: String,
    pub etichetta: String,
    pub numero: i64,
    /// The share of the total, in hundredths of a percent.
    pub quota: Percentuale,
}

/// Financing of a group of interventions (a programme, a source, an instrument).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RigaFinanza {
    pub codice: String,
    pub etichetta: String,
    pub interventi: i64,
    pub finanziato: Importo,
    pub erogato: Importo,
    pub pagato: Importo,
}

/// The Region's executive dashboard.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Cruscotto {
    pub alla_data: NaiveDate,
    pub per_provincia: Vec<RigaStock>,
    pub per_comune: Vec<RigaStock>,
    pub per_ente: Vec<RigaStock>,
    pub totale: RigaStock,
    pub per_stato_occupazione: Vec<Conteggio>,
    pub sfitte: i64,
    /// Vacant units over all units.
    pub tasso_sfitto: Percentuale,
    pub alloggi: i64,
    pub alloggi_per_regime: Vec<Conteggio>,
    pub alloggi_per_classe: Vec<Conteggio>,
    pub per_programma: Vec<RigaFinanza>,
    pub per_fonte: Vec<RigaFinanza>,
    pub per_strumento: Vec<RigaFinanza>,
    pub finanza: RigaFinanza,
    pub interventi_per_stato: Vec<Conteggio>,
    pub interventi: i64,
    pub in_ritardo: i64,
    pub fermi: i64,
}

fn etichetta(dominio: &str, tabella: &str, campo: &str, v: &str) -> String {
    if v == NON_INDICATO {
        return "Non indicata".into();
    }
    flussi::spec::dominio(dominio)
        .map(|d| d.etichetta_valore(tabella, campo, v))
        .unwrap_or_else(|| v.to_string())
}

fn conteggi(
    m: &BTreeMap<String, i64>,
    ordine: &[&str],
    etichettatura: impl Fn(&str) -> String,
) -> Vec<Conteggio> {
    let totale: i64 = m.values().sum();
    let pos = |k: &str| ordine.iter().position(|x| *x == k).unwrap_or(usize::MAX);
    let mut v: Vec<Conteggio> = m
        .iter()
        .map(|(k, n)| Conteggio {
            codice: k.clone(),
            etichetta: etichettatura(k),
            numero: *n,
            quota: Percentuale::di(*n, totale).unwrap_or_default(),
        })
        .collect();
    v.sort_by(|a, b| (pos(&a.codice), &a.codice).cmp(&(pos(&b.codice), &b.codice)));
    v
}

fn finanza_somma(t: &mut RigaFinanza, r: &RigaFinanza) {
    t.interventi += r.interventi;
    t.finanziato += r.finanziato;
    t.erogato += r.erogato;
    t.pagato += r.pagato;
}

/// Puts the stored rows together into the dashboard (pure: tested on hand-made rows).
pub fn componi(
    giorno: NaiveDate,
    righe: &[Aggregato],
    programmi: &BTreeMap<String, Programma>,
    enti: &HashMap<String, String>,
    soglia_fermo: u32,
) -> Cruscotto {
    use flussi::spec::{contabilita, patrimonio};
    let mut c = Cruscotto {
        alla_data: giorno,
        ..Default::default()
    };
    let (mut comuni, mut per_ente): (BTreeMap<String, RigaStock>, BTreeMap<String, RigaStock>) =
        Default::default();
    let mut stati: BTreeMap<String, i64> = BTreeMap::new();
    let mut regimi: BTreeMap<String, i64> = BTreeMap::new();
    let mut classi: BTreeMap<String, i64> = BTreeMap::new();
    let mut stati_int: BTreeMap<String, i64> = BTreeMap::new();
    let mut finanza: BTreeMap<String, RigaFinanza> = BTreeMap::new();
    for r in righe {
        let (primo, secondo) = r.chiave.split_once('|').unwrap_or((&r.chiave, ""));
        let mut stock = |f: &dyn Fn(&mut RigaStock)| {
            f(comuni.entry(primo.to_string()).or_default());
            f(per_ente.entry(r.ente.clone()).or_default());
            f(&mut c.totale);
        };
        match r.misura.as_str() {
            "complessi" => stock(&|s| s.complessi += r.numero),
            "fabbricati" => stock(&|s| s.fabbricati += r.numero),
            "unita" => {
                stock(&|s| s.unita += r.numero);
                *stati.entry(secondo.to_string()).or_default() += r.numero;
            }
            "alloggi" => {
                c.alloggi += r.numero;
                *regimi.entry(primo.to_string()).or_default() += r.numero;
                *classi.entry(secondo.to_string()).or_default() += r.numero;
            }
            "interventi" => {
                c.interventi += r.numero;
                *stati_int.entry(secondo.to_string()).or_default() += r.numero;
                let f = finanza.entry(primo.to_string()).or_default();
                f.interventi += r.numero;
                f.finanziato += Importo::da_centesimi(r.importo);
            }
            "erogato" => {
                finanza.entry(r.chiave.clone()).or_default().erogato +=
                    Importo::da_centesimi(r.importo)
            }
            "pagato" => {
                finanza.entry(r.chiave.clone()).or_default().pagato +=
                    Importo::da_centesimi(r.importo)
            }
            "ritardo" => {
                let dal = if r.chiave == SEMPRE {
                    Some(InRitardo::Sempre)
                } else {
                    r.chiave.parse().ok().map(InRitardo::Dal)
                };
                if dal.is_some_and(|d| d.il(giorno)) {
                    c.in_ritardo += r.numero;
                }
            }
            "fermo"
                if r.chiave
                    .parse()
                    .is_ok_and(|d| intervento::fermo_il(d, giorno, soglia_fermo)) =>
            {
                c.fermi += r.numero;
            }
            _ => {}
        }
    }
    // Places: comuni by name, provinces by code; a code outside the reference data shows as is.
    let mut province: BTreeMap<String, RigaStock> = BTreeMap::new();
    for (codice, s) in comuni {
        let (nome, provincia) = match flussi::riferimento::comune(&codice) {
            Some(x) => (x.nome.clone(), x.sigla_provincia.clone()),
            None => (codice.clone(), NON_INDICATO.to_string()),
        };
        let p = province.entry(provincia.clone()).or_default();
        p.codice = provincia;
        p.complessi += s.complessi;
        p.fabbricati += s.fabbricati;
        p.unita += s.unita;
        c.per_comune.push(RigaStock { codice, nome, ..s });
    }
    c.per_comune
        .sort_by(|a, b| (&a.nome, &a.codice).cmp(&(&b.nome, &b.codice)));
    c.per_provincia = province
        .into_values()
        .map(|mut p| {
            p.nome = nome_provincia(&p.codice);
            p
        })
        .collect();
    c.per_ente = per_ente
        .into_iter()
        .map(|(codice, s)| RigaStock {
            nome: enti.get(&codice).cloned().unwrap_or_else(|| codice.clone()),
            codice,
            ..s
        })
        .collect();
    c.per_ente
        .sort_by(|a, b| b.unita.cmp(&a.unita).then(a.nome.cmp(&b.nome)));
    c.totale.codice = "TOTALE".into();
    c.totale.nome = "Puglia".into();
    c.per_stato_occupazione = conteggi(&stati, patrimonio::STATI_OCCUPAZIONE, |k| {
        etichetta("patrimonio", "unita", "stato_occupazione", k)
    });
    c.sfitte = STATI_SFITTI
        .iter()
        .map(|s| stati.get(*s).copied().unwrap_or(0))
        .sum();
    c.tasso_sfitto = Percentuale::di(c.sfitte, c.totale.unita).unwrap_or_default();
    c.alloggi_per_regime = conteggi(&regimi, patrimonio::REGIMI, |k| {
        etichetta("patrimonio", "unita", "regime", k)
    });
    c.alloggi_per_classe = conteggi(&classi, patrimonio::CLASSI_ENERGETICHE, |k| {
        etichetta("patrimonio", "unita", "classe_energetica", k)
    });
    c.interventi_per_stato = conteggi(&stati_int, contabilita::STATI, |k| {
        etichetta("contabilita", "interventi", "stato", k)
    });
    // Programmes in the Region's list order (by code), then any code the list lacks on that day.
    let (mut fonti, mut strumenti): (BTreeMap<String, RigaFinanza>, BTreeMap<String, RigaFinanza>) =
        Default::default();
    for (codice, mut f) in finanza {
        let p = programmi.get(&codice).cloned().unwrap_or_default();
        f.codice = codice.clone();
        f.etichetta = if p.denominazione.is_empty() {
            codice.clone()
        } else {
            p.denominazione.clone()
        };
        for (mappa, k, campo) in [
            (&mut fonti, &p.fonte, "fonte"),
            (&mut strumenti, &p.strumento, "strumento"),
        ] {
            let k = if k.is_empty() {
                NON_INDICATO
            } else {
                k.as_str()
            };
            let t = mappa.entry(k.to_string()).or_insert_with(|| RigaFinanza {
                codice: k.to_string(),
                etichetta: etichetta("programmi", "programmi", campo, k),
                ..Default::default()
            });
            finanza_somma(t, &f);
        }
        finanza_somma(&mut c.finanza, &f);
        c.per_programma.push(f);
    }
    c.per_fonte = fonti.into_values().collect();
    c.per_strumento = strumenti.into_values().collect();
    c.finanza.codice = "TOTALE".into();
    c.finanza.etichetta = "Totale".into();
    c
}

/// The province's name from its two-letter code (the shipped reference data,
/// `flussi::riferimento`); a code outside it (a comune missing from the ISTAT list) is
/// "Non indicata".
pub fn nome_provincia(sigla: &str) -> String {
    flussi::riferimento::provincia(sigla)
        .map(|p| p.nome.clone())
        .unwrap_or_else(|| "Non indicata".into())
}

/// A public figure: a value, or withheld because it is about too few units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cella<T> {
    Valore(T),
    Soppressa,
}

impl<T> Cella<T> {
    pub fn valore(&self) -> Option<&T> {
        match self {
            Cella::Valore(v) => Some(v),
            Cella::Soppressa => None,
        }
    }
    pub fn soppressa(&self) -> bool {
        matches!(self, Cella::Soppressa)
    }
}

/// The stock of a place, published.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StockPubblico {
    pub codice: String,
    pub nome: String,
    /// The province's code (for a comune: its province; for a province: itself).
    pub provincia: String,
    pub complessi: Cella<i64>,
    pub fabbricati: Cella<i64>,
    pub unita: Cella<i64>,
}

/// An occupancy state's count and share of all units, published.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct QuotaPubblica {
    pub codice: String,
    pub etichetta: String,
    pub unita: Cella<i64>,
    pub quota: Cella<Percentuale>,
}

/// A programme's financing, published.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FinanzaPubblica {
    pub codice: String,
    pub etichetta: String,
    pub interventi: Cella<i64>,
    pub finanziato: Cella<Importo>,
    pub erogato: Cella<Importo>,
    pub pagato: Cella<Importo>,
}

/// The public's figures: no entity, no record, small cells withheld.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CruscottoPubblico {
    pub alla_data: NaiveDate,
    pub per_provincia: Vec<StockPubblico>,
    pub per_comune: Vec<StockPubblico>,
    /// All units of the region (never small unless the register is nearly empty).
    pub unita: Cella<i64>,
    pub occupazione: Vec<QuotaPubblica>,
    pub per_programma: Vec<FinanzaPubblica>,
}

/// Which of these counts are withheld, when their total is published: see
/// [`da_sopprimere_in`].
pub fn da_sopprimere(numeri: &[i64]) -> Vec<bool> {
    da_sopprimere_in(numeri, false)
}

/// Which counts of a group are withheld: each under the threshold but not zero (an empty
/// cell is about no unit, and withholding it would, by the rule that follows, withhold the
/// only non-empty province of a young register with it); then, since the group's
/// total can be worked out (published, or from the level above), more until what is withheld
/// cannot be told by difference: at least two cells, adding up to the threshold or more
/// (`[100, 2, 2]` withholds all three: the two small ones would add up to 4). The cells added
/// are the smallest non-zero ones. When the group's total is itself withheld
/// (`totale_soppresso`), at least one cell is withheld too, or the published ones would add
/// up to it.
pub fn da_sopprimere_in(numeri: &[i64], totale_soppresso: bool) -> Vec<bool> {
    let mut s: Vec<bool> = numeri
        .iter()
        .map(|n| *n > 0 && *n < SOGLIA_SOPPRESSIONE)
        .collect();
    loop {
        let quanti = s.iter().filter(|x| **x).count();
        let somma: i64 = numeri
            .iter()
            .zip(&s)
            .filter(|(_, x)| **x)
            .map(|(n, _)| n)
            .sum();
        let basta = if quanti == 0 {
            !totale_soppresso
        } else {
            quanti >= 2 && somma >= SOGLIA_SOPPRESSIONE
        };
        let prossima = numeri
            .iter()
            .enumerate()
            .filter(|(i, n)| !s[*i] && **n > 0)
            .min_by_key(|(_, n)| **n)
            .map(|(i, _)| i);
        match prossima {
            Some(i) if !basta => s[i] = true,
            _ => return s,
        }
    }
}

fn cella<T>(soppressa: bool, v: T) -> Cella<T> {
    if soppressa {
        Cella::Soppressa
    } else {
        Cella::Valore(v)
    }
}

fn stock_pubblico(r: &RigaStock, provincia: &str, soppressa: bool) -> StockPubblico {
    StockPubblico {
        codice: r.codice.clone(),
        nome: r.nome.clone(),
        provincia: provincia.to_string(),
        complessi: cella(soppressa, r.complessi),
        fabbricati: cella(soppressa, r.fabbricati),
        unita: cella(soppressa, r.unita),
    }
}

/// What a stock row's suppression counts: its units, but at least 1 when it has buildings or
/// complexes without units (a row about one building is small, not empty; only an empty row
/// is published as zero).
fn misura(r: &RigaStock) -> i64 {
    if r.unita == 0 && (r.fabbricati > 0 || r.complessi > 0) {
        1
    } else {
        r.unita
    }
}

/// The public variant of a dashboard.
pub fn pubblico(c: &Cruscotto) -> CruscottoPubblico {
    let unita_totali = c.totale.unita;
    let sp = da_sopprimere(&c.per_provincia.iter().map(misura).collect::<Vec<_>>());
    let province_soppresse: std::collections::BTreeSet<&str> = c
        .per_provincia
        .iter()
        .zip(&sp)
        .filter(|(_, s)| **s)
        .map(|(p, _)| p.codice.as_str())
        .collect();
    let per_provincia = c
        .per_provincia
        .iter()
        .zip(sp.iter().copied())
        .map(|(p, s)| stock_pubblico(p, &p.codice, s))
        .collect();
    // Comuni: withheld within their province; a withheld province withholds some of its
    // comuni too, or they would add up to it (and, through the region's total, to the small
    // province it protects).
    let mut per_comune = Vec::new();
    let mut per_prov: BTreeMap<String, Vec<&RigaStock>> = BTreeMap::new();
    for r in &c.per_comune {
        let p = flussi::riferimento::comune(&r.codice)
            .map(|x| x.sigla_provincia.clone())
            .unwrap_or_else(|| NON_INDICATO.into());
        per_prov.entry(p).or_default().push(r);
    }
    for (p, v) in &per_prov {
        let s = da_sopprimere_in(
            &v.iter().map(|r| misura(r)).collect::<Vec<_>>(),
            province_soppresse.contains(p.as_str()),
        );
        per_comune.extend(v.iter().zip(s).map(|(r, s)| stock_pubblico(r, p, s)));
    }
    per_comune.sort_by(|a: &StockPubblico, b| (&a.nome, &a.codice).cmp(&(&b.nome, &b.codice)));
    let so = da_sopprimere(
        &c.per_stato_occupazione
            .iter()
            .map(|q| q.numero)
            .collect::<Vec<_>>(),
    );
    let occupazione = c
        .per_stato_occupazione
        .iter()
        .zip(so)
        .map(|(q, s)| QuotaPubblica {
            codice: q.codice.clone(),
            etichetta: q.etichetta.clone(),
            unita: cella(s, q.numero),
            quota: cella(s, q.quota),
        })
        .collect();
    let sf = da_sopprimere(
        &c.per_programma
            .iter()
            .map(|f| f.interventi)
            .collect::<Vec<_>>(),
    );
    let per_programma = c
        .per_programma
        .iter()
        .zip(sf)
        .map(|(f, s)| FinanzaPubblica {
            codice: f.codice.clone(),
            etichetta: f.etichetta.clone(),
            interventi: cella(s, f.interventi),
            finanziato: cella(s, f.finanziato),
            erogato: cella(s, f.erogato),
            pagato: cella(s, f.pagato),
        })
        .collect();
    CruscottoPubblico {
        alla_data: c.alla_data,
        per_provincia,
        per_comune,
        unita: cella(unita_totali < SOGLIA_SOPPRESSIONE, unita_totali),
        occupazione,
        per_programma,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn soppressione_primaria_e_complementare() {
        assert_eq!(da_sopprimere(&[10, 4, 7, 20]), [false, true, true, false]);
        assert_eq!(da_sopprimere(&[10, 4, 3, 20]), [false, true, true, false]);
        assert_eq!(da_sopprimere(&[10, 12]), [false, false]);
        // The only cell: nothing to protect it from but itself.
        assert_eq!(da_sopprimere(&[3]), [true]);
        assert_eq!(da_sopprimere(&[5, 6]), [false, false]);
        // Two small cells would add up to fewer than 5: one more is withheld.
        assert_eq!(da_sopprimere(&[100, 2, 2]), [true, true, true]);
        assert_eq!(da_sopprimere(&[100, 0, 3]), [true, false, true]);
        assert_eq!(da_sopprimere(&[0, 0, 90]), [false, false, false]);
        assert_eq!(da_sopprimere(&[100, 2, 2, 50]), [false, true, true, true]);
        // A withheld total withholds two of its cells, though none is small.
        assert_eq!(da_sopprimere_in(&[12, 8, 30], true), [true, true, false]);
        assert_eq!(da_sopprimere_in(&[12, 8, 30], false), [false, false, false]);
    }
}
