//! The views of programmes and interventions that the generic register does not give
//! (issue 9, part 2): interventions with their computed keys (`api.md`: amounts disbursed and
//! paid, physical and financial progress, delay, stalled), one intervention with its SAL,
//! disbursements, payments and buildings, the programmes with their totals, and the Region's
//! list of cross-entity conflicts. Records come from the register engine
//! ([`crate::registro`]); the rules are `dominio::intervento`'s.

use std::collections::{BTreeMap, HashMap};

use archivio::{FiltroRegistro, Versione};
use chrono::NaiveDate;
use dominio::intervento::{self, Calcolati, InRitardo, Sal};
use dominio::{Importo, Soggetto};
use flussi::spec::{Tabella, Tipo};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::registro::{TavolaRegistro, tavola_di};
use crate::{ErroreServizio, Esito, Piattaforma};

/// A record as JSON keyed by the spec's field names: money and dates as strings (`api.md`:
/// `"1234.56"`), integers and numbers as numbers, missing values as `null`.
pub fn campi_json(t: &Tabella, campi: &[Option<String>]) -> Map<String, Value> {
    let mut m = Map::new();
    for (c, v) in t.campi.iter().zip(campi) {
        let j = match (v, &c.tipo) {
            (None, _) => Value::Null,
            (Some(x), Tipo::Intero) => x
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(x.clone())),
            (Some(x), Tipo::Numero { .. }) => x
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(x.clone())),
            (Some(x), _) => Value::String(x.clone()),
        };
        m.insert(c.nome.to_string(), j);
    }
    m
}

/// A field of a stored record.
pub(crate) fn campo<'a>(t: &Tabella, v: &'a Versione, nome: &str) -> Option<&'a str> {
    t.indice(nome)
        .and_then(|i| v.campi.get(i))
        .and_then(|x| x.as_deref())
}

pub(crate) fn data(s: Option<&str>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

pub(crate) fn importo(s: Option<&str>) -> Importo {
    s.and_then(|s| Importo::parse(s).ok()).unwrap_or_default()
}

/// When an intervention record starts to be delayed and the day its site's stall is counted
/// from (`dominio::intervento::in_ritardo_dal`, `riferimento_fermo`). The dashboards'
/// aggregates store these days and the lists behind them filter on them: one computation, so
/// that the list a figure links to has as many rows as the figure says.
pub(crate) fn decorrenze(
    t: &Tabella,
    v: &Versione,
    sal: &[Sal],
) -> (Option<InRitardo>, Option<NaiveDate>) {
    (
        intervento::in_ritardo_dal(
            data(campo(t, v, "data_fine_prevista")),
            data(campo(t, v, "data_fine_effettiva")),
        ),
        intervento::riferimento_fermo(
            campo(t, v, "stato").unwrap_or_default(),
            sal,
            data(campo(t, v, "data_inizio_lavori")),
        ),
    )
}

/// The interventions behind one of the dashboard's figures that change with the day: the
/// delayed ones and the stalled sites (`?situazione=in_ritardo|fermo` on the list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Situazione {
    InRitardo,
    Fermo,
}

impl Situazione {
    pub const TUTTE: [Situazione; 2] = [Situazione::InRitardo, Situazione::Fermo];

    /// The query string's value (`in_ritardo`, `fermo`); anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::TUTTE.into_iter().find(|x| x.codice() == s.trim())
    }

    pub fn codice(self) -> &'static str {
        match self {
            Situazione::InRitardo => "in_ritardo",
            Situazione::Fermo => "fermo",
        }
    }

    pub fn etichetta(self) -> &'static str {
        match self {
            Situazione::InRitardo => "In ritardo",
            Situazione::Fermo => "Cantiere fermo",
        }
    }

    /// Whether a record is in this situation on `giorno` (stall threshold `soglia` days).
    fn di(self, t: &Tabella, v: &Versione, sal: &[Sal], giorno: NaiveDate, soglia: u32) -> bool {
        let (ritardo, fermo) = decorrenze(t, v, sal);
        match self {
            Situazione::InRitardo => ritardo.is_some_and(|r| r.il(giorno)),
            Situazione::Fermo => fermo.is_some_and(|d| intervento::fermo_il(d, giorno, soglia)),
        }
    }
}

/// How many register rows a filtered list reads at a time while it looks for a page of
/// interventions in a [`Situazione`].
const LOTTO_SITUAZIONE: i64 = 500;

/// An intervention with its computed keys.
#[derive(Clone, Debug, Serialize)]
pub struct VoceIntervento {
    pub ente: String,
    pub cup: String,
    pub valido_dal: NaiveDate,
    pub campi: Map<String, Value>,
    pub calcolati: Calcolati,
}

impl VoceIntervento {
    /// The API object: the fields, `ente`, and the computed keys (`api.md`).
    pub fn json(&self) -> Value {
        let mut m = self.campi.clone();
        m.insert("ente".into(), Value::String(self.ente.clone()));
        if let Ok(Value::Object(c)) = serde_json::to_value(&self.calcolati) {
            m.extend(c);
        }
        Value::Object(m)
    }
}

/// One intervention with its child rows (as JSON, by the spec's field names).
#[derive(Clone, Debug, Serialize)]
pub struct SchedaIntervento {
    pub voce: VoceIntervento,
    pub sal: Vec<Map<String, Value>>,
    pub erogazioni: Vec<Map<String, Value>>,
    pub pagamenti: Vec<Map<String, Value>>,
    pub fabbricati: Vec<Map<String, Value>>,
    /// Every version of the intervention record, oldest first.
    pub storia: Vec<Versione>,
}

impl SchedaIntervento {
    pub fn json(&self) -> Value {
        let mut v = self.voce.json();
        if let Value::Object(m) = &mut v {
            let a = |x: &Vec<Map<String, Value>>| {
                Value::Array(x.iter().cloned().map(Value::Object).collect())
            };
            m.insert("sal".into(), a(&self.sal));
            m.insert("erogazioni".into(), a(&self.erogazioni));
            m.insert("pagamenti".into(), a(&self.pagamenti));
            m.insert("fabbricati".into(), a(&self.fabbricati));
        }
        v
    }
}

/// A programme with what its interventions add up to (for the subject: an entity its own).
#[derive(Clone, Debug, Serialize)]
pub struct RigaProgramma {
    pub codice_programma: String,
    pub campi: Map<String, Value>,
    pub interventi: i64,
    pub finanziato: Importo,
    pub erogato: Importo,
    pub pagato: Importo,
}

/// Totals of a group of programmes (by source, by instrument).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totali {
    pub programmi: i64,
    pub importo_programmi: Importo,
    pub interventi: i64,
    pub finanziato: Importo,
    pub erogato: Importo,
    pub pagato: Importo,
}

/// The programmes page: each programme, and totals by source and by instrument.
#[derive(Clone, Debug, Serialize)]
pub struct RiepilogoProgrammi {
    pub programmi: Vec<RigaProgramma>,
    pub per_fonte: Vec<(String, Totali)>,
    pub per_strumento: Vec<(String, Totali)>,
    pub totale: Totali,
}

fn tavola(nome: &str) -> Esito<&'static TavolaRegistro> {
    tavola_di(nome).ok_or_else(|| ErroreServizio::Interno(format!("registro {nome} assente")))
}

impl Piattaforma {
    /// Computes the keys of the given intervention records, reading their children in one
    /// query per child table (as valid on `alla_data`, or current).
    async fn con_calcolati(
        &self,
        righe: Vec<Versione>,
        alla_data: Option<NaiveDate>,
    ) -> Esito<Vec<VoceIntervento>> {
        let ti = tavola("interventi")?;
        let coppie: Vec<(String, String)> = righe
            .iter()
            .map(|v| (v.ente.clone(), v.chiave.clone()))
            .collect();
        let (te, tp) = (tavola("erogazioni")?, tavola("pagamenti")?);
        let sal = self.sal_di(&coppie, alla_data).await?;
        // Only the two fields the sums need (not every field of every child).
        let somme = |righe: Vec<archivio::CampiFiglio>| {
            let mut m: HashMap<(String, String), Vec<Importo>> = HashMap::new();
            for r in righe {
                if let [Some(cup), imp] = &r.valori[..] {
                    m.entry((r.ente, cup.clone()))
                        .or_default()
                        .push(importo(imp.as_deref()));
                }
            }
            m
        };
        let importi = ["cup", "importo"];
        let mut erogazioni = somme(
            self.db
                .campi_dei_figli(&te.tavola, &coppie, alla_data, &importi)
                .await?,
        );
        let mut pagamenti = somme(
            self.db
                .campi_dei_figli(&tp.tavola, &coppie, alla_data, &importi)
                .await?,
        );
        let oggi = alla_data.unwrap_or_else(|| self.orologio.oggi());
        let soglia = self.config.soglia_fermo_giorni;
        let t = ti.tabella;
        Ok(righe
            .into_iter()
            .map(|v| {
                let k = (v.ente.clone(), v.chiave.clone());
                let i = intervento::Intervento {
                    stato: campo(t, &v, "stato").unwrap_or_default(),
                    importo_finanziato: importo(campo(t, &v, "importo_finanziato")),
                    data_inizio_lavori: data(campo(t, &v, "data_inizio_lavori")),
                    data_fine_prevista: data(campo(t, &v, "data_fine_prevista")),
                    data_fine_effettiva: data(campo(t, &v, "data_fine_effettiva")),
                };
                let calcolati = intervento::calcola(
                    &i,
                    sal.get(&k).map(Vec::as_slice).unwrap_or_default(),
                    erogazioni.remove(&k).unwrap_or_default(),
                    pagamenti.remove(&k).unwrap_or_default(),
                    oggi,
                    soglia,
                );
                VoceIntervento {
                    ente: v.ente.clone(),
                    cup: v.chiave.clone(),
                    valido_dal: v.valido_dal,
                    campi: campi_json(t, &v.campi),
                    calcolati,
                }
            })
            .collect())
    }

    /// The SAL of the given interventions (entity, CUP), as valid on `alla_data` or current.
    async fn sal_di(
        &self,
        coppie: &[(String, String)],
        alla_data: Option<NaiveDate>,
    ) -> Esito<HashMap<(String, String), Vec<Sal>>> {
        let ts = tavola("sal")?;
        let mut sal: HashMap<(String, String), Vec<Sal>> = HashMap::new();
        let campi = ["cup", "numero_sal", "data_sal", "percentuale_avanzamento"];
        for r in self
            .db
            .campi_dei_figli(&ts.tavola, coppie, alla_data, &campi)
            .await?
        {
            let [cup, numero, d, percentuale] = &r.valori[..] else {
                continue;
            };
            if let (Some(cup), Some(numero), Some(d)) = (
                cup,
                numero.as_deref().and_then(|x| x.parse().ok()),
                data(d.as_deref()),
            ) {
                sal.entry((r.ente, cup.clone())).or_default().push(Sal {
                    numero,
                    data: d,
                    percentuale: percentuale
                        .as_deref()
                        .and_then(|x| x.parse().ok())
                        .unwrap_or(0.0),
                });
            }
        }
        Ok(sal)
    }

    /// A page of interventions with their computed keys (filters, search, sort, keyset and
    /// "as of" as every register list).
    pub async fn elenco_interventi(
        &self,
        s: &Soggetto,
        filtro: FiltroRegistro,
    ) -> Esito<Vec<VoceIntervento>> {
        let alla_data = filtro.alla_data;
        let (_, righe) = self.elenco_registro(s, "interventi", filtro).await?;
        self.con_calcolati(righe, alla_data).await
    }

    /// A page of the interventions that are in `situazione` on the list's day (`alla_data`,
    /// or today), among those the filter selects for the subject: the list behind the
    /// dashboard's delayed and stalled figures, decided by the same [`decorrenze`] as the
    /// aggregates, so its rows are exactly the figure's. Being computed, the condition cannot
    /// be a `WHERE`: the register's keyset pages are read [`LOTTO_SITUAZIONE`] rows at a time
    /// until `filtro.limite` rows qualify or the list ends; the cursor of the next page is the
    /// last row returned, as for any list. A stalled site is in progress, so for
    /// [`Situazione::Fermo`] the state is a condition of the query.
    pub async fn elenco_interventi_in(
        &self,
        s: &Soggetto,
        mut filtro: FiltroRegistro,
        situazione: Situazione,
    ) -> Esito<Vec<VoceIntervento>> {
        let ti = tavola("interventi")?;
        let t = ti.tabella;
        let alla_data = filtro.alla_data;
        let giorno = alla_data.unwrap_or_else(|| self.orologio.oggi());
        let soglia = self.config.soglia_fermo_giorni;
        let voluti = usize::try_from(filtro.limite.max(1)).unwrap_or(1);
        if situazione == Situazione::Fermo {
            filtro
                .uguale
                .push(("stato".into(), intervento::STATO_LAVORI_IN_CORSO.into()));
        }
        filtro.limite = LOTTO_SITUAZIONE;
        let mut scelti: Vec<Versione> = Vec::new();
        loop {
            let (_, righe) = self
                .elenco_registro(s, "interventi", filtro.clone())
                .await?;
            let finite = (righe.len() as i64) < LOTTO_SITUAZIONE;
            let Some(ultima) = righe.last() else {
                break;
            };
            // The next batch starts after this one's last row (sort value, entity, key).
            let ordine = filtro
                .ordina
                .as_deref()
                .filter(|c| *c != "chiave")
                .and_then(|c| campo(t, ultima, c))
                .unwrap_or_default()
                .to_string();
            filtro.dopo = Some((ordine, ultima.ente.clone(), ultima.chiave.clone()));
            let sal = if situazione == Situazione::Fermo {
                let coppie: Vec<(String, String)> = righe
                    .iter()
                    .map(|v| (v.ente.clone(), v.chiave.clone()))
                    .collect();
                self.sal_di(&coppie, alla_data).await?
            } else {
                HashMap::new()
            };
            for v in righe {
                let k = (v.ente.clone(), v.chiave.clone());
                let sal = sal.get(&k).map(Vec::as_slice).unwrap_or_default();
                if situazione.di(t, &v, sal, giorno, soglia) {
                    scelti.push(v);
                    if scelti.len() >= voluti {
                        break;
                    }
                }
            }
            if finite || scelti.len() >= voluti {
                break;
            }
        }
        self.con_calcolati(scelti, alla_data).await
    }

    /// One intervention by CUP, with its children and history. The Region names the entity
    /// when two declare the same CUP (without, the first by entity code); an entity sees only
    /// its own (another's is "not found").
    pub async fn scheda_intervento(
        &self,
        s: &Soggetto,
        ente: Option<&str>,
        cup: &str,
        alla_data: Option<NaiveDate>,
    ) -> Esito<SchedaIntervento> {
        let filtro = FiltroRegistro {
            ente: ente.map(str::to_string),
            uguale: vec![("cup".into(), cup.to_string())],
            alla_data,
            limite: 1,
            ..Default::default()
        };
        let (_, righe) = self
            .elenco_registro(s, "interventi", filtro)
            .await
            .map_err(|e| match e {
                ErroreServizio::Negato(dominio::Negato::Vietato) => ErroreServizio::NonTrovato,
                e => e,
            })?;
        let Some(riga) = righe.into_iter().next() else {
            return Err(ErroreServizio::NonTrovato);
        };
        let (ente, chiave) = (riga.ente.clone(), riga.chiave.clone());
        let voce = self
            .con_calcolati(vec![riga], alla_data)
            .await?
            .pop()
            .ok_or(ErroreServizio::NonTrovato)?;
        let coppie = [(ente.clone(), chiave.clone())];
        let figli = |t: &'static TavolaRegistro, v: Vec<Versione>| {
            v.iter()
                .map(|x| campi_json(t.tabella, &x.campi))
                .collect::<Vec<_>>()
        };
        let mut leggi = BTreeMap::new();
        for nome in ["sal", "erogazioni", "pagamenti", "interventi_fabbricati"] {
            let t = tavola(nome)?;
            let mut v = self.db.figli(&t.tavola, &coppie, alla_data).await?;
            // In the order people read them: by number or date.
            let ordine = match nome {
                "sal" => "numero_sal",
                "erogazioni" => "data_erogazione",
                "pagamenti" => "data_mandato",
                _ => "codice_fabbricato",
            };
            let i = t.tabella.indice(ordine);
            v.sort_by(|a, b| {
                let k = |x: &Versione| {
                    let s = i.and_then(|i| x.campi[i].clone()).unwrap_or_default();
                    // Numbers sort as numbers.
                    (s.len(), s)
                };
                if nome == "sal" {
                    k(a).cmp(&k(b))
                } else {
                    k(a).1.cmp(&k(b).1)
                }
            });
            leggi.insert(nome, figli(t, v));
        }
        let (_, storia) = self
            .storia_registro(s, "interventi", &ente, &chiave)
            .await?;
        let mut prendi = |n: &str| leggi.remove(n).unwrap_or_default();
        Ok(SchedaIntervento {
            voce,
            sal: prendi("sal"),
            erogazioni: prendi("erogazioni"),
            pagamenti: prendi("pagamenti"),
            fabbricati: prendi("interventi_fabbricati"),
            storia,
        })
    }

    /// The programmes with their interventions' totals (the subject's scope: an entity its
    /// own interventions, the Region all), and totals by source and instrument.
    pub async fn riepilogo_programmi(
        &self,
        s: &Soggetto,
        alla_data: Option<NaiveDate>,
    ) -> Esito<RiepilogoProgrammi> {
        let ente = self.ambito_registro(s, "interventi", None)?;
        let tp = tavola("programmi")?;
        let (ti, te, tg) = (
            tavola("interventi")?,
            tavola("erogazioni")?,
            tavola("pagamenti")?,
        );
        let e = ente.as_deref();
        let per = |v: Vec<(Option<String>, i64, i64)>| -> HashMap<String, (i64, Importo)> {
            v.into_iter()
                .map(|(k, n, c)| (k.unwrap_or_default(), (n, Importo::da_centesimi(c))))
                .collect()
        };
        let finanziati = per(self
            .db
            .somme_per_gruppo(
                &ti.tavola,
                "codice_programma",
                "importo_finanziato",
                false,
                e,
                alla_data,
            )
            .await?);
        let erogati = per(self
            .db
            .somme_per_gruppo(
                &te.tavola,
                "codice_programma",
                "importo",
                true,
                e,
                alla_data,
            )
            .await?);
        let pagati = per(self
            .db
            .somme_per_gruppo(
                &tg.tavola,
                "codice_programma",
                "importo",
                true,
                e,
                alla_data,
            )
            .await?);
        // The programme list is the Region's, readable by whoever reads interventions.
        let programmi = self
            .db
            .elenco_registro(
                &tp.tavola,
                &FiltroRegistro {
                    ente: Some("REGIONE".into()),
                    alla_data,
                    limite: 10_000,
                    ..Default::default()
                },
            )
            .await?;
        let mut righe = Vec::new();
        let (mut per_fonte, mut per_strumento): (
            BTreeMap<String, Totali>,
            BTreeMap<String, Totali>,
        ) = Default::default();
        let mut totale = Totali::default();
        for p in programmi {
            let campi = campi_json(tp.tabella, &p.campi);
            let (n, fin) = finanziati.get(&p.chiave).copied().unwrap_or_default();
            let r = RigaProgramma {
                codice_programma: p.chiave.clone(),
                interventi: n,
                finanziato: fin,
                erogato: erogati.get(&p.chiave).map(|x| x.1).unwrap_or_default(),
                pagato: pagati.get(&p.chiave).map(|x| x.1).unwrap_or_default(),
                campi,
            };
            let importo_programma = importo(campo(tp.tabella, &p, "importo_programma"));
            for (mappa, chiave) in [
                (&mut per_fonte, campo(tp.tabella, &p, "fonte")),
                (&mut per_strumento, campo(tp.tabella, &p, "strumento")),
            ] {
                let t = mappa
                    .entry(chiave.unwrap_or_default().to_string())
                    .or_default();
                aggiungi(t, &r, importo_programma);
            }
            aggiungi(&mut totale, &r, importo_programma);
            righe.push(r);
        }
        Ok(RiepilogoProgrammi {
            programmi: righe,
            per_fonte: per_fonte.into_iter().collect(),
            per_strumento: per_strumento.into_iter().collect(),
            totale,
        })
    }

    /// The Region's list of cross-entity conflicts of a register table with a cross-entity
    /// key (`unita`: the same cadastral unit; `interventi`: the same CUP).
    pub async fn conflitti(&self, s: &Soggetto, tabella: &str) -> Esito<Vec<Versione>> {
        dominio::politica::autorizza(s, &dominio::Azione::VedereDatiRegionali)?;
        let t = tavola(tabella)?;
        Ok(self.db.incroci_condivisi(&t.tavola, 1_000).await?)
    }
}

fn aggiungi(t: &mut Totali, r: &RigaProgramma, importo_programma: Importo) {
    t.programmi += 1;
    t.importo_programmi += importo_programma;
    t.interventi += r.interventi;
    t.finanziato += r.finanziato;
    t.erogato += r.erogato;
    t.pagato += r.pagato;
}
