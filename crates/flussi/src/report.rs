//! The validation report (`validazione.md` §3–5): issues in table/row/field order, at most
//! 10 000 kept (then `troncato`), counts always complete; JSON, CSV and Italian text output.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::lettori::firma::Firma;
use crate::spec::Gravita;

/// Most issues a report lists.
pub const MAX_SEGNALAZIONI: usize = 10_000;

/// One issue.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Segnalazione {
    pub tabella: Option<String>,
    pub riga: Option<u64>,
    pub campo: Option<String>,
    pub valore: Option<String>,
    pub codice: String,
    pub gravita: Gravita,
    pub messaggio: String,
}

/// Where an issue sorts: (table position, row, field position), then arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Posizione {
    pub tabella: usize,
    pub riga: u64,
    pub campo: usize,
}

struct Voce {
    pos: Posizione,
    seq: u64,
    s: Segnalazione,
}
impl PartialEq for Voce {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Voce {}
impl PartialOrd for Voce {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Voce {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.pos, self.seq).cmp(&(o.pos, o.seq))
    }
}

/// Collects issues, keeping the first [`MAX_SEGNALAZIONI`] in report order (a bounded max-heap:
/// memory stays flat however many issues a million-row file has).
pub struct Raccolta {
    heap: BinaryHeap<Voce>,
    limite: usize,
    seq: u64,
    pub conteggi: BTreeMap<String, u64>,
    pub errori: u64,
    pub avvisi: u64,
}

impl Default for Raccolta {
    fn default() -> Self {
        Self::con_limite(MAX_SEGNALAZIONI)
    }
}

impl Raccolta {
    pub fn con_limite(limite: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            limite,
            seq: 0,
            conteggi: BTreeMap::new(),
            errori: 0,
            avvisi: 0,
        }
    }

    pub fn aggiungi(&mut self, pos: Posizione, s: Segnalazione) {
        *self.conteggi.entry(s.codice.clone()).or_default() += 1;
        match s.gravita {
            Gravita::Errore => self.errori += 1,
            Gravita::Avviso => self.avvisi += 1,
        }
        self.seq += 1;
        let v = Voce {
            pos,
            seq: self.seq,
            s,
        };
        if self.heap.len() < self.limite {
            self.heap.push(v);
        } else if self.heap.peek().is_some_and(|max| v < *max) {
            self.heap.pop();
            self.heap.push(v);
        }
    }

    pub fn totale(&self) -> u64 {
        self.errori + self.avvisi
    }

    /// The kept issues in report order, and whether some were left out.
    pub fn chiudi(self) -> (Vec<Segnalazione>, bool, BTreeMap<String, u64>, u64, u64) {
        let troncato = self.totale() > self.heap.len() as u64;
        let v = self
            .heap
            .into_sorted_vec()
            .into_iter()
            .map(|v| v.s)
            .collect();
        (v, troncato, self.conteggi, self.errori, self.avvisi)
    }
}

/// Rows read per table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfoTabellaReport {
    pub righe: u64,
}

/// The report object (`--formato json`, `GET /api/v1/flussi/{id}/report`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub dominio: String,
    pub valido: bool,
    pub errori: u64,
    pub avvisi: u64,
    pub troncato: bool,
    /// Tables in the spec's order.
    #[serde(serialize_with = "come_mappa")]
    pub tabelle: Vec<(String, InfoTabellaReport)>,
    pub conteggi: BTreeMap<String, u64>,
    pub segnalazioni: Vec<Segnalazione>,
    /// The signature, when the file was a `.p7m` (the outermost one; nested ones in `firme`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firma: Option<Firma>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub firme: Vec<Firma>,
}

fn come_mappa<S: serde::Serializer>(
    v: &[(String, InfoTabellaReport)],
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(v.len()))?;
    for (k, x) in v {
        m.serialize_entry(k, x)?;
    }
    m.end()
}

impl Report {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"errore\": \"{e}\"}}"))
    }

    /// The issues as CSV with the keys of §3 as header.
    pub fn csv(&self) -> String {
        csv_segnalazioni(&self.segnalazioni)
    }

    /// The report for a person, in Italian.
    pub fn testo(&self) -> String {
        let mut o = String::new();
        o.push_str(&format!("Flusso «{}»: ", self.dominio));
        o.push_str(if self.valido { "VALIDO" } else { "NON VALIDO" });
        let plurale =
            |n: u64, uno: &str, molti: &str| format!("{n} {}", if n == 1 { uno } else { molti });
        o.push_str(&format!(
            " – {}, {}.\n",
            plurale(self.errori, "errore", "errori"),
            plurale(self.avvisi, "avviso", "avvisi")
        ));
        if let Some(f) = &self.firma {
            o.push_str(&format!(
                "{}; certificato {}.\n",
                f.verifica(),
                if f.certificato_valido {
                    "in corso di validità"
                } else {
                    "scaduto o non ancora valido"
                }
            ));
        }
        for (t, i) in &self.tabelle {
            o.push_str(&format!("Tabella {t}: {} righe lette.\n", i.righe));
        }
        if !self.conteggi.is_empty() {
            o.push_str("Segnalazioni per codice:\n");
            for (c, n) in &self.conteggi {
                o.push_str(&format!("  {c}: {n}\n"));
            }
        }
        for s in &self.segnalazioni {
            let dove = match (&s.tabella, s.riga, &s.campo) {
                (Some(t), Some(r), Some(c)) => format!("{t}, riga {r}, campo {c}"),
                (Some(t), Some(r), None) => format!("{t}, riga {r}"),
                (Some(t), None, Some(c)) => format!("{t}, campo {c}"),
                (Some(t), None, None) => t.clone(),
                (None, _, Some(c)) => format!("campo {c}"),
                (None, _, None) => "file".into(),
            };
            o.push_str(&format!(
                "[{}] {dove}: {} ({})\n",
                s.gravita.as_str().to_uppercase(),
                s.messaggio,
                s.codice
            ));
        }
        if self.troncato {
            o.push_str(&format!(
                "Elenco limitato alle prime {} segnalazioni; i conteggi sono completi.\n",
                self.segnalazioni.len()
            ));
        }
        o
    }
}

/// Issues as CSV with the keys of `validazione.md` §3 as header (the report's `--formato csv`,
/// also written by the server from a stored report). Through the platform's one CSV writer:
/// `valore` and `messaggio` echo the file's values, which may be hostile formulas.
pub fn csv_segnalazioni(segnalazioni: &[Segnalazione]) -> String {
    // Writing into memory cannot fail.
    scrivi_segnalazioni(segnalazioni).unwrap_or_default()
}

fn scrivi_segnalazioni(segnalazioni: &[Segnalazione]) -> std::io::Result<String> {
    let mut w = crate::scrivi_csv::ScrittoreCsv::in_memoria();
    w.riga([
        "tabella",
        "riga",
        "campo",
        "valore",
        "codice",
        "gravita",
        "messaggio",
    ])?;
    for s in segnalazioni {
        w.riga([
            s.tabella.as_deref().unwrap_or(""),
            &s.riga.map(|r| r.to_string()).unwrap_or_default(),
            s.campo.as_deref().unwrap_or(""),
            s.valore.as_deref().unwrap_or(""),
            &s.codice,
            s.gravita.as_str(),
            &s.messaggio,
        ])?;
    }
    w.testo()
}
