//! Open data: the public aggregate datasets of `api.md` ("Open data"), described once here and
//! published by the web layer as CSV, a Frictionless descriptor each, the DCAT-AP_IT catalogue
//! (`/opendata/catalogo.jsonld`) and an Atom feed of releases.
//!
//! The figures are the public dashboard's ([`crate::cruscotto`]'s `cruscotto_pubblico`), so the
//! same small-cell suppression holds everywhere (a cell about fewer than 5 units is withheld,
//! and one more where a withheld one could be worked out from a total): a suppressed cell is
//! empty in the CSV and its row has `soppresso` = `true`.
//!
//! Machine form: UTF-8, comma separator, a dot before decimals and no thousands separator
//! (`1234.56`, `12.5`); each descriptor says so (`decimalChar`, `groupChar`). Headers are the
//! Italian names of the columns. Licence CC BY 4.0.
//!
//! A dataset's "last updated" is the last acceptance of a flow of the domains it is made of;
//! the releases are the acceptances, grouped by day and domain.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use dominio::denaro::{Importo, Percentuale};

use crate::cruscotto::{Cella, CruscottoPubblico, StockPubblico};
use crate::{ErroreServizio, Esito, Piattaforma};

/// The licence of every dataset.
pub const LICENZA_URL: &str = "https://creativecommons.org/licenses/by/4.0/";
pub const LICENZA_NOME: &str = "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)";
pub const LICENZA_ID: &str = "CC-BY-4.0";

/// The type of a column, as the Frictionless descriptor names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TipoColonna {
    Testo,
    Intero,
    /// A decimal with a dot (`1234.56`).
    Decimale,
    Booleano,
}

impl TipoColonna {
    /// The Table Schema type.
    pub fn frictionless(self) -> &'static str {
        match self {
            TipoColonna::Testo => "string",
            TipoColonna::Intero => "integer",
            TipoColonna::Decimale => "number",
            TipoColonna::Booleano => "boolean",
        }
    }
}

/// A column of a dataset: its header (Italian), title and meaning.
#[derive(Clone, Copy, Debug)]
pub struct Colonna {
    pub nome: &'static str,
    pub titolo: &'static str,
    pub tipo: TipoColonna,
    pub descrizione: &'static str,
}

const fn col(
    nome: &'static str,
    titolo: &'static str,
    tipo: TipoColonna,
    descrizione: &'static str,
) -> Colonna {
    Colonna {
        nome,
        titolo,
        tipo,
        descrizione,
    }
}

/// One public dataset.
#[derive(Clone, Copy, Debug)]
pub struct Dataset {
    /// Its name in URLs and descriptors (`patrimonio-comuni`).
    pub id: &'static str,
    pub titolo: &'static str,
    pub descrizione: &'static str,
    pub parole_chiave: &'static [&'static str],
    /// Theme of the EU data-theme vocabulary (DCAT-AP_IT `dcat:theme`).
    pub tema: &'static str,
    /// The flow domains whose acceptance changes it.
    pub domini: &'static [&'static str],
    pub colonne: &'static [Colonna],
}

use TipoColonna::{Booleano, Decimale, Intero, Testo};

const SOPPRESSO: Colonna = col(
    "soppresso",
    "Dato soppresso",
    Booleano,
    "true quando i conteggi della riga riguardano meno di 5 unità (o permetterebbero di ricavarne uno): le celle sono vuote.",
);

/// The stock's counts, the same in the province and the comune datasets.
const COMPLESSI: Colonna = col(
    "complessi",
    "Complessi",
    Intero,
    "Numero di complessi edilizi.",
);
const FABBRICATI: Colonna = col("fabbricati", "Fabbricati", Intero, "Numero di fabbricati.");
const UNITA: Colonna = col(
    "unita",
    "Unità immobiliari",
    Intero,
    "Numero di unità immobiliari (alloggi e altre unità).",
);

/// Every public dataset, in the order pages and the catalogue list them.
pub const DATASET: &[Dataset] = &[
    Dataset {
        id: "patrimonio-province",
        titolo: "Patrimonio di edilizia residenziale pubblica per provincia",
        descrizione: "Complessi, fabbricati e unità immobiliari del registro del patrimonio ERP accettato dalla Regione Puglia, per provincia.",
        parole_chiave: &[
            "edilizia residenziale pubblica",
            "ERP",
            "patrimonio",
            "alloggi",
            "province",
        ],
        tema: "SOCI",
        domini: &["patrimonio"],
        colonne: &[
            col(
                "provincia",
                "Provincia (sigla)",
                Testo,
                "Sigla automobilistica della provincia.",
            ),
            col(
                "nome_provincia",
                "Provincia",
                Testo,
                "Nome della provincia.",
            ),
            COMPLESSI,
            FABBRICATI,
            UNITA,
            SOPPRESSO,
        ],
    },
    Dataset {
        id: "patrimonio-comuni",
        titolo: "Patrimonio di edilizia residenziale pubblica per comune",
        descrizione: "Complessi, fabbricati e unità immobiliari del registro del patrimonio ERP accettato dalla Regione Puglia, per comune.",
        parole_chiave: &[
            "edilizia residenziale pubblica",
            "ERP",
            "patrimonio",
            "alloggi",
            "comuni",
        ],
        tema: "SOCI",
        domini: &["patrimonio"],
        colonne: &[
            col(
                "comune_istat",
                "Codice ISTAT del comune",
                Testo,
                "Codice ISTAT a 6 cifre.",
            ),
            col("comune", "Comune", Testo, "Nome del comune."),
            col(
                "provincia",
                "Provincia (sigla)",
                Testo,
                "Sigla della provincia del comune.",
            ),
            COMPLESSI,
            FABBRICATI,
            UNITA,
            SOPPRESSO,
        ],
    },
    Dataset {
        id: "occupazione-unita",
        titolo: "Unità immobiliari ERP per stato di occupazione",
        descrizione: "Le unità immobiliari del registro del patrimonio ERP della Regione Puglia per stato di occupazione (assegnate, sfitte, occupate senza titolo…), con la quota sul totale.",
        parole_chiave: &[
            "edilizia residenziale pubblica",
            "ERP",
            "occupazione",
            "alloggi sfitti",
        ],
        tema: "SOCI",
        domini: &["patrimonio"],
        colonne: &[
            col(
                "stato_occupazione",
                "Stato di occupazione (codice)",
                Testo,
                "Codice dello stato di occupazione della specifica del flusso patrimonio.",
            ),
            col(
                "descrizione",
                "Stato di occupazione",
                Testo,
                "Descrizione dello stato.",
            ),
            col(
                "unita",
                "Unità immobiliari",
                Intero,
                "Numero di unità in questo stato.",
            ),
            col(
                "quota_percentuale",
                "Quota (%)",
                Decimale,
                "Quota sul totale delle unità, in percentuale con due decimali (punto decimale).",
            ),
            SOPPRESSO,
        ],
    },
    Dataset {
        id: "finanziamenti-programmi",
        titolo: "Finanziamenti dell'edilizia residenziale pubblica per programma",
        descrizione: "Interventi e importi finanziati, erogati e pagati per programma di finanziamento, dalla contabilità dei cantieri inviata dagli enti alla Regione Puglia.",
        parole_chiave: &[
            "edilizia residenziale pubblica",
            "finanziamenti",
            "programmi",
            "interventi",
            "cantieri",
        ],
        tema: "ECON",
        domini: &["programmi", "contabilita"],
        colonne: &[
            col(
                "codice_programma",
                "Codice del programma",
                Testo,
                "Codice del programma di finanziamento.",
            ),
            col(
                "programma",
                "Programma",
                Testo,
                "Denominazione del programma.",
            ),
            col(
                "interventi",
                "Interventi",
                Intero,
                "Numero di interventi finanziati dal programma.",
            ),
            col(
                "importo_finanziato",
                "Importo finanziato (euro)",
                Decimale,
                "Euro, punto decimale, due decimali.",
            ),
            col(
                "importo_erogato",
                "Importo erogato (euro)",
                Decimale,
                "Euro, punto decimale, due decimali.",
            ),
            col(
                "importo_pagato",
                "Importo pagato (euro)",
                Decimale,
                "Euro, punto decimale, due decimali.",
            ),
            SOPPRESSO,
        ],
    },
];

/// A dataset by its id.
pub fn dataset(id: &str) -> Option<&'static Dataset> {
    DATASET.iter().find(|d| d.id == id)
}

/// A release: the acceptances of one domain's flows on one day (Rome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rilascio {
    pub giorno: NaiveDate,
    pub dominio: String,
    /// The latest acceptance of that day.
    pub istante: DateTime<Utc>,
    /// How many entities' data changed.
    pub enti: usize,
}

fn intero(c: &Cella<i64>) -> String {
    c.valore().map(i64::to_string).unwrap_or_default()
}

fn importo(c: &Cella<Importo>) -> String {
    c.valore().map(|i| i.testo()).unwrap_or_default()
}

fn percentuale(c: &Cella<Percentuale>) -> String {
    c.valore()
        .map(|p| {
            let n = p.centesimi();
            let segno = if n < 0 { "-" } else { "" };
            let a = n.unsigned_abs();
            format!("{segno}{}.{:02}", a / 100, a % 100)
        })
        .unwrap_or_default()
}

fn booleano(b: bool) -> String {
    if b { "true" } else { "false" }.to_string()
}

fn riga_stock(s: &StockPubblico, inizio: Vec<String>) -> Vec<String> {
    let mut r = inizio;
    r.extend([
        intero(&s.complessi),
        intero(&s.fabbricati),
        intero(&s.unita),
    ]);
    r.push(booleano(
        s.unita.soppressa() || s.fabbricati.soppressa() || s.complessi.soppressa(),
    ));
    r
}

/// The rows of a dataset from the public figures, in its columns' order.
pub fn righe(d: &Dataset, c: &CruscottoPubblico) -> Vec<Vec<String>> {
    match d.id {
        "patrimonio-province" => c
            .per_provincia
            .iter()
            .map(|s| riga_stock(s, vec![s.codice.clone(), s.nome.clone()]))
            .collect(),
        "patrimonio-comuni" => {
            let mut v: Vec<&StockPubblico> = c.per_comune.iter().collect();
            v.sort_by(|a, b| a.codice.cmp(&b.codice));
            v.into_iter()
                .map(|s| {
                    riga_stock(
                        s,
                        vec![s.codice.clone(), s.nome.clone(), s.provincia.clone()],
                    )
                })
                .collect()
        }
        "occupazione-unita" => c
            .occupazione
            .iter()
            .map(|q| {
                vec![
                    q.codice.clone(),
                    q.etichetta.clone(),
                    intero(&q.unita),
                    percentuale(&q.quota),
                    booleano(q.unita.soppressa() || q.quota.soppressa()),
                ]
            })
            .collect(),
        "finanziamenti-programmi" => c
            .per_programma
            .iter()
            .map(|f| {
                vec![
                    f.codice.clone(),
                    f.etichetta.clone(),
                    intero(&f.interventi),
                    importo(&f.finanziato),
                    importo(&f.erogato),
                    importo(&f.pagato),
                    booleano(
                        f.interventi.soppressa()
                            || f.finanziato.soppressa()
                            || f.erogato.soppressa()
                            || f.pagato.soppressa(),
                    ),
                ]
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl Piattaforma {
    /// A dataset's rows as of today's register (public: no login).
    pub async fn dati_aperti(&self, id: &str) -> Esito<(&'static Dataset, Vec<Vec<String>>)> {
        let d = dataset(id).ok_or(ErroreServizio::NonTrovato)?;
        let c = self.cruscotto_pubblico(None).await?;
        Ok((d, righe(d, &c)))
    }

    /// The releases, newest first (at most `quanti`).
    pub async fn rilasci(&self, quanti: usize) -> Esito<Vec<Rilascio>> {
        let accettati = self.db.accettazioni(5_000).await?;
        let mut per: BTreeMap<
            (NaiveDate, String),
            (DateTime<Utc>, std::collections::BTreeSet<String>),
        > = BTreeMap::new();
        for (dominio, ente, istante) in accettati {
            let giorno = dominio::orologio::oggi_a(istante);
            let e = per
                .entry((giorno, dominio))
                .or_insert_with(|| (istante, Default::default()));
            e.0 = e.0.max(istante);
            e.1.insert(ente);
        }
        let mut v: Vec<Rilascio> = per
            .into_iter()
            .map(|((giorno, dominio), (istante, enti))| Rilascio {
                giorno,
                dominio,
                istante,
                enti: enti.len(),
            })
            .collect();
        v.sort_by(|a, b| b.istante.cmp(&a.istante).then(a.dominio.cmp(&b.dominio)));
        v.truncate(quanti);
        Ok(v)
    }

    /// When each dataset was last updated (the last acceptance of its domains); `None` before
    /// any.
    pub async fn aggiornamenti_dati_aperti(
        &self,
    ) -> Esito<Vec<(&'static Dataset, Option<DateTime<Utc>>)>> {
        let ultimi = self.db.ultimi_accettati().await?;
        Ok(DATASET
            .iter()
            .map(|d| {
                let u = ultimi
                    .iter()
                    .filter(|(_, dom, _)| d.domini.contains(&dom.as_str()))
                    .map(|(_, _, t)| *t)
                    .max();
                (d, u)
            })
            .collect())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn colonne_con_nomi_unici_e_soppresso_in_coda() {
        for d in DATASET {
            let nomi: std::collections::BTreeSet<&str> = d.colonne.iter().map(|c| c.nome).collect();
            assert_eq!(nomi.len(), d.colonne.len(), "{}", d.id);
            assert_eq!(d.colonne.last().map(|c| c.nome), Some("soppresso"));
            assert!(d.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
        }
    }

    #[test]
    fn formati_macchina() {
        assert_eq!(
            percentuale(&Cella::Valore(Percentuale::da_centesimi(1250))),
            "12.50"
        );
        assert_eq!(percentuale(&Cella::Soppressa), "");
        assert_eq!(
            importo(&Cella::Valore(Importo::da_centesimi(123456))),
            "1234.56"
        );
        assert_eq!(intero(&Cella::Soppressa), "");
    }
}
