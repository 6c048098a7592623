//! Shared helpers of the engine's integration tests: fixtures built in code (tables of text
//! values, serialized as a ZIP of CSV files with `;` or `,`, as JSON, or as a single CSV), the
//! validation entry points with a fixed "today", and compact views of a report's issues.
//!
//! Every test file includes this module; not every file uses every helper.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Cursor, Write};
use std::sync::Arc;

use chrono::NaiveDate;
use flussi::lettori::dati::Dati;
use flussi::report::Segnalazione;
use flussi::{Opzioni, Report};

/// The fixed validation date of every test: 26 November 2026.
pub fn oggi() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

/// Options with the fixed date and nothing else (offline, no declaring entity).
pub fn opzioni() -> Opzioni {
    Opzioni::new(oggi())
}

/// Options with the reference data of the `contabilita` checks available (so that no
/// `controllo_non_eseguito` warning is added): the programmes and buildings given.
pub fn opzioni_con_riferimenti(programmi: &[&str], fabbricati: &[&str]) -> Opzioni {
    let mut o = opzioni();
    o.riferimenti.programmi = Some(programmi.iter().map(|s| s.to_string()).collect());
    o.riferimenti.fabbricati = Some(fabbricati.iter().map(|s| s.to_string()).collect());
    o
}

// ---------------------------------------------------------------------------------------------
// Tables as data.
// ---------------------------------------------------------------------------------------------

/// A table of a fixture: a name (as it will be written: file name stem, JSON key), the columns
/// in file order and the rows (one text per column; empty text = empty cell).
#[derive(Clone, Debug)]
pub struct Tabella {
    pub nome: String,
    pub colonne: Vec<String>,
    pub righe: Vec<Vec<String>>,
}

impl Tabella {
    /// A table with the columns of the spec, in the spec's order.
    pub fn della_spec(dominio: &str, nome: &str) -> Tabella {
        let d = flussi::spec::dominio(dominio).unwrap();
        let t = d.tabella(nome).unwrap();
        Tabella {
            nome: nome.to_string(),
            colonne: t.campi.iter().map(|c| c.nome.to_string()).collect(),
            righe: vec![],
        }
    }

    /// A table with the given columns.
    pub fn con_colonne(nome: &str, colonne: &[&str]) -> Tabella {
        Tabella {
            nome: nome.to_string(),
            colonne: colonne.iter().map(|s| s.to_string()).collect(),
            righe: vec![],
        }
    }

    /// Adds a row given by field name (fields not named are empty; a name that is not a column
    /// yet becomes a new column, empty in the rows before).
    pub fn riga(mut self, valori: &[(&str, &str)]) -> Tabella {
        for (k, _) in valori {
            if !self.colonne.iter().any(|c| c == k) {
                self.colonne.push(k.to_string());
                for r in &mut self.righe {
                    r.push(String::new());
                }
            }
        }
        let mut r = vec![String::new(); self.colonne.len()];
        for (k, v) in valori {
            let i = self.colonne.iter().position(|c| c == k).unwrap();
            r[i] = v.to_string();
        }
        self.righe.push(r);
        self
    }

    /// Adds a row given by a base row and overrides (by field name).
    pub fn riga_da(self, base: &[(&str, &str)], modifiche: &[(&str, &str)]) -> Tabella {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        for (k, x) in modifiche {
            match v.iter_mut().find(|(n, _)| n == k) {
                Some(p) => p.1 = x,
                None => v.push((k, x)),
            }
        }
        self.riga(&v)
    }

    /// Adds a row given positionally (any number of values: malformed rows too).
    pub fn riga_grezza(mut self, valori: &[&str]) -> Tabella {
        self.righe
            .push(valori.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Removes a column.
    pub fn senza(mut self, colonna: &str) -> Tabella {
        if let Some(i) = self.colonne.iter().position(|c| c == colonna) {
            self.colonne.remove(i);
            for r in &mut self.righe {
                if i < r.len() {
                    r.remove(i);
                }
            }
        }
        self
    }

    /// Renames the table (e.g. `FABBRICATI`).
    pub fn chiamata(mut self, nome: &str) -> Tabella {
        self.nome = nome.to_string();
        self
    }

    /// Renames a column as written in the header (e.g. ` Codice_Fabbricato `).
    pub fn colonna_scritta(mut self, colonna: &str, come: &str) -> Tabella {
        let i = self.colonne.iter().position(|c| c == colonna).unwrap();
        self.colonne[i] = come.to_string();
        self
    }

    /// Reverses the column order (column order is free).
    pub fn colonne_al_contrario(mut self) -> Tabella {
        self.colonne.reverse();
        for r in &mut self.righe {
            r.reverse();
        }
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Serialization.
// ---------------------------------------------------------------------------------------------

/// One CSV field, quoted when needed.
fn campo_csv(s: &str, sep: char) -> String {
    if s.contains(sep) || s.contains('"') || s.contains('\n') || s.contains('\r') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Options of the CSV text.
#[derive(Clone, Copy, Debug)]
pub struct FormatoCsv {
    pub separatore: char,
    pub bom: bool,
    pub crlf: bool,
}

pub const PUNTO_E_VIRGOLA: FormatoCsv = FormatoCsv {
    separatore: ';',
    bom: false,
    crlf: false,
};
pub const VIRGOLA: FormatoCsv = FormatoCsv {
    separatore: ',',
    bom: false,
    crlf: false,
};

/// A table as CSV text.
pub fn csv_con(t: &Tabella, f: FormatoCsv) -> Vec<u8> {
    let fine = if f.crlf { "\r\n" } else { "\n" };
    let mut s = String::new();
    if f.bom {
        s.push('\u{feff}');
    }
    let riga = |v: &[String]| {
        v.iter()
            .map(|x| campo_csv(x, f.separatore))
            .collect::<Vec<_>>()
            .join(&f.separatore.to_string())
    };
    s.push_str(&riga(&t.colonne));
    s.push_str(fine);
    for r in &t.righe {
        s.push_str(&riga(r));
        s.push_str(fine);
    }
    s.into_bytes()
}

pub fn csv(t: &Tabella, sep: char) -> Vec<u8> {
    csv_con(
        t,
        FormatoCsv {
            separatore: sep,
            bom: false,
            crlf: false,
        },
    )
}

/// A ZIP archive of the given members (deflated, fixed timestamps: reproducible bytes).
pub fn zip(membri: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (nome, byte) in membri {
        w.start_file(*nome, o).unwrap();
        w.write_all(byte).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A ZIP of one `<table>.csv` per table.
pub fn zip_csv_con(tabelle: &[Tabella], f: FormatoCsv) -> Vec<u8> {
    let membri: Vec<(String, Vec<u8>)> = tabelle
        .iter()
        .map(|t| (format!("{}.csv", t.nome), csv_con(t, f)))
        .collect();
    let rif: Vec<(&str, Vec<u8>)> = membri
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    zip(&rif)
}

pub fn zip_csv(tabelle: &[Tabella], sep: char) -> Vec<u8> {
    zip_csv_con(
        tabelle,
        FormatoCsv {
            separatore: sep,
            bom: false,
            crlf: false,
        },
    )
}

/// The flow as JSON: every value a string, empty values as `null`. `numeri` lists the
/// (table, field) pairs whose values are written as JSON numbers (when they parse as one).
pub fn json_con_numeri(tabelle: &[Tabella], numeri: &[(&str, &str)]) -> Vec<u8> {
    let mut radice = serde_json::Map::new();
    for t in tabelle {
        let righe: Vec<serde_json::Value> = t
            .righe
            .iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                for (c, v) in t.colonne.iter().zip(r) {
                    let numero = numeri.contains(&(t.nome.as_str(), c.as_str()));
                    let x = if v.trim().is_empty() {
                        serde_json::Value::Null
                    } else if numero && let Ok(n) = v.parse::<i64>() {
                        serde_json::Value::from(n)
                    } else if numero && let Ok(n) = v.parse::<f64>() {
                        serde_json::Value::from(n)
                    } else {
                        serde_json::Value::String(v.clone())
                    };
                    o.insert(c.clone(), x);
                }
                serde_json::Value::Object(o)
            })
            .collect();
        radice.insert(t.nome.clone(), serde_json::Value::Array(righe));
    }
    serde_json::to_vec_pretty(&serde_json::Value::Object(radice)).unwrap()
}

pub fn json(tabelle: &[Tabella]) -> Vec<u8> {
    json_con_numeri(tabelle, &[])
}

// ---------------------------------------------------------------------------------------------
// Validation.
// ---------------------------------------------------------------------------------------------

/// Validates bytes named `nome_file` against `dominio` with the given options.
pub fn valida_con(nome_file: &str, byte: Vec<u8>, dominio: &str, o: &Opzioni) -> Report {
    flussi::valida_file(
        nome_file,
        Dati::Byte(Arc::new(byte)),
        flussi::spec::dominio(dominio).unwrap(),
        o,
        None,
    )
}

/// Validates bytes with the default options (fixed date, offline).
pub fn valida(nome_file: &str, byte: Vec<u8>, dominio: &str) -> Report {
    valida_con(nome_file, byte, dominio, &opzioni())
}

/// A ZIP of CSV (`;`) of the tables, validated.
pub fn valida_tabelle(dominio: &str, tabelle: &[Tabella], o: &Opzioni) -> Report {
    valida_con("flusso.zip", zip_csv(tabelle, ';'), dominio, o)
}

// ---------------------------------------------------------------------------------------------
// Views of a report.
// ---------------------------------------------------------------------------------------------

/// An issue without its message: (tabella, riga, campo, valore, codice, gravita).
pub type Voce = (
    Option<String>,
    Option<u64>,
    Option<String>,
    Option<String>,
    String,
    String,
);

pub fn voce(s: &Segnalazione) -> Voce {
    (
        s.tabella.clone(),
        s.riga,
        s.campo.clone(),
        s.valore.clone(),
        s.codice.clone(),
        s.gravita.as_str().to_string(),
    )
}

/// Builds an expected [`Voce`].
pub fn v(
    tabella: Option<&str>,
    riga: Option<u64>,
    campo: Option<&str>,
    valore: Option<&str>,
    codice: &str,
    gravita: &str,
) -> Voce {
    (
        tabella.map(str::to_string),
        riga,
        campo.map(str::to_string),
        valore.map(str::to_string),
        codice.to_string(),
        gravita.to_string(),
    )
}

/// An error on a row and field: `e("unita", 2, "subalterno", Some("1a"), "formato")`.
pub fn e(tabella: &str, riga: u64, campo: &str, valore: Option<&str>, codice: &str) -> Voce {
    v(
        Some(tabella),
        Some(riga),
        Some(campo),
        valore,
        codice,
        "errore",
    )
}

/// A warning on a row and field.
pub fn a(tabella: &str, riga: u64, campo: &str, valore: Option<&str>, codice: &str) -> Voce {
    v(
        Some(tabella),
        Some(riga),
        Some(campo),
        valore,
        codice,
        "avviso",
    )
}

/// All issues, in report order, without messages.
pub fn voci(r: &Report) -> Vec<Voce> {
    r.segnalazioni.iter().map(voce).collect()
}

/// The issues with a code.
pub fn voci_di(r: &Report, codice: &str) -> Vec<Voce> {
    r.segnalazioni
        .iter()
        .filter(|s| s.codice == codice)
        .map(voce)
        .collect()
}

/// (tabella, riga, campo, codice) of an issue.
pub type Chiave = (Option<String>, Option<u64>, Option<String>, String);

/// (tabella, riga, campo, codice) of every issue, as a set.
pub fn chiavi(r: &Report) -> BTreeSet<Chiave> {
    r.segnalazioni
        .iter()
        .map(|s| (s.tabella.clone(), s.riga, s.campo.clone(), s.codice.clone()))
        .collect()
}

/// Checks the invariants every report must keep, whatever its content: counts consistent with
/// the issues, every message a non-empty Italian sentence, validity = no error.
pub fn invarianti(r: &Report) {
    let errori = r
        .segnalazioni
        .iter()
        .filter(|s| s.gravita.as_str() == "errore")
        .count() as u64;
    let avvisi = r.segnalazioni.len() as u64 - errori;
    if !r.troncato {
        assert_eq!(r.errori, errori, "errori ≠ segnalazioni di gravità errore");
        assert_eq!(r.avvisi, avvisi, "avvisi ≠ segnalazioni di gravità avviso");
        let mut per_codice: BTreeMap<String, u64> = BTreeMap::new();
        for s in &r.segnalazioni {
            *per_codice.entry(s.codice.clone()).or_default() += 1;
        }
        assert_eq!(r.conteggi, per_codice, "conteggi ≠ segnalazioni per codice");
    }
    assert_eq!(r.conteggi.values().sum::<u64>(), r.errori + r.avvisi);
    assert_eq!(r.valido, r.errori == 0);
    for s in &r.segnalazioni {
        assert!(
            s.messaggio.trim().len() > 10,
            "messaggio vuoto o troppo breve: {s:?}"
        );
    }
}

/// Asserts the report's issues are exactly `attese` (in this order), and its invariants.
#[track_caller]
pub fn esattamente(r: &Report, attese: &[Voce]) {
    invarianti(r);
    let trovate = voci(r);
    assert_eq!(
        trovate,
        attese,
        "\nsegnalazioni trovate:\n{}",
        trovate
            .iter()
            .zip(&r.segnalazioni)
            .map(|(v, s)| format!("  {v:?} – {}", s.messaggio))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Asserts the issues with `codice` are exactly `attese`.
#[track_caller]
pub fn solo_di(r: &Report, codice: &str, attese: &[Voce]) {
    invarianti(r);
    assert_eq!(
        voci_di(r, codice),
        attese,
        "\ntutte le segnalazioni:\n{}",
        voci(r)
            .iter()
            .map(|v| format!("  {v:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The codes present in a report.
pub fn codici(r: &Report) -> HashSet<String> {
    r.segnalazioni.iter().map(|s| s.codice.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// Valid base rows.
// ---------------------------------------------------------------------------------------------

/// A valid building in Bari, with coordinates.
pub const FABBRICATO: &[(&str, &str)] = &[
    ("codice_fabbricato", "F1"),
    ("codice_complesso", ""),
    ("comune_istat", "072006"),
    ("indirizzo", "Via Giulio Petroni"),
    ("numero_civico", "12"),
    ("cap", "70124"),
    ("latitudine", "41.1105"),
    ("longitudine", "16.8719"),
    ("foglio", "41"),
    ("particella", "123"),
    ("anno_costruzione", "1975"),
    ("numero_piani", "5"),
    ("ascensore", "SI"),
    ("titolo_possesso", "PROPRIETA"),
    ("cf_proprietario", ""),
    ("stato_conservazione", "BUONO"),
];

/// A valid assigned dwelling of building F1.
pub const UNITA: &[(&str, &str)] = &[
    ("codice_unita", "U1"),
    ("codice_fabbricato", "F1"),
    ("tipologia", "ALLOGGIO"),
    ("sezione_urbana", ""),
    ("foglio", "41"),
    ("particella", "123"),
    ("subalterno", "1"),
    ("categoria_catastale", "A/3"),
    ("rendita_catastale", "350.00"),
    ("piano", "1"),
    ("scala", "A"),
    ("interno", "1"),
    ("superficie_utile_mq", "65.5"),
    ("numero_vani", "4"),
    ("classe_energetica", "E"),
    ("accessibile_disabili", "NO"),
    ("regime", "ERP_SOVVENZIONATA"),
    ("stato_occupazione", "ASSEGNATO"),
    ("data_assegnazione", "2010-03-15"),
    ("canone_mensile", "120.50"),
    ("numero_occupanti", "3"),
    ("anno_ultimo_intervento", "2015"),
    ("cup_ultimo_intervento", "B31B12000390001"),
];

/// A valid housing complex in Bari.
pub const COMPLESSO: &[(&str, &str)] = &[
    ("codice_complesso", "C1"),
    ("denominazione", "Quartiere San Paolo"),
    ("comune_istat", "072006"),
    ("note", ""),
];

/// A `patrimonio` flow: the given buildings and units (each a list of overrides of the base
/// row), no complexes.
pub fn patrimonio(fabbricati: &[&[(&str, &str)]], unita: &[&[(&str, &str)]]) -> Vec<Tabella> {
    let mut f = Tabella::della_spec("patrimonio", "fabbricati");
    for m in fabbricati {
        f = f.riga_da(FABBRICATO, m);
    }
    let mut u = Tabella::della_spec("patrimonio", "unita");
    for m in unita {
        u = u.riga_da(UNITA, m);
    }
    vec![f, u]
}

pub const CUP: &str = "B31B12000390001";
pub const CUP2: &str = "J91E14000230002";

/// A valid intervention, works in progress, 1 200 000 € of which 1 000 000 € financed.
pub const INTERVENTO: &[(&str, &str)] = &[
    ("cup", CUP),
    ("codice_programma", "PRU-2010"),
    ("titolo", "Recupero di 24 alloggi in via Petroni"),
    ("comune_istat", "072006"),
    ("tipo_intervento", "RECUPERO"),
    ("alloggi_previsti", "24"),
    ("alloggi_realizzati", ""),
    ("importo_finanziato", "1000000.00"),
    ("importo_cofinanziamento", "200000.00"),
    ("importo_totale", "1200000.00"),
    ("stato", "LAVORI_IN_CORSO"),
    ("cig", "7A1B2C3D4E"),
    ("impresa_esecutrice", "Edilizia Levante S.r.l."),
    ("piva_impresa", "05123450727"),
    ("ribasso_percentuale", "12.5"),
    ("data_aggiudicazione", "2018-03-01"),
    ("data_inizio_lavori", "2018-06-01"),
    ("data_fine_prevista", "2027-06-30"),
    ("data_fine_effettiva", ""),
    ("data_collaudo", ""),
];

pub const SAL: &[(&str, &str)] = &[
    ("cup", CUP),
    ("numero_sal", "1"),
    ("data_sal", "2019-01-15"),
    ("importo_sal", "300000.00"),
    ("importo_cumulato", "300000.00"),
    ("percentuale_avanzamento", "25"),
];

pub const EROGAZIONE: &[(&str, &str)] = &[
    ("cup", CUP),
    ("data_erogazione", "2018-07-01"),
    ("importo", "100000.00"),
    ("tipo", "ANTICIPAZIONE"),
    ("atto", "DD 45/2018"),
];

pub const PAGAMENTO: &[(&str, &str)] = &[
    ("cup", CUP),
    ("numero_mandato", "M1"),
    ("data_mandato", "2019-02-01"),
    ("importo", "250000.00"),
    ("beneficiario", "Edilizia Levante S.r.l."),
    ("piva_beneficiario", "05123450727"),
    ("causale", "LAVORI"),
    ("numero_sal", ""),
];

pub const INTERVENTO_FABBRICATO: &[(&str, &str)] = &[("cup", CUP), ("codice_fabbricato", "F1")];

/// A `contabilita` flow; every table is written (with its header) even when it has no rows.
pub fn contabilita(
    interventi: &[&[(&str, &str)]],
    sal: &[&[(&str, &str)]],
    erogazioni: &[&[(&str, &str)]],
    pagamenti: &[&[(&str, &str)]],
    interventi_fabbricati: &[&[(&str, &str)]],
) -> Vec<Tabella> {
    let t = |nome: &str, base: &[(&str, &str)], righe: &[&[(&str, &str)]]| {
        let mut t = Tabella::della_spec("contabilita", nome);
        for m in righe {
            t = t.riga_da(base, m);
        }
        t
    };
    vec![
        t("interventi", INTERVENTO, interventi),
        t("sal", SAL, sal),
        t("erogazioni", EROGAZIONE, erogazioni),
        t("pagamenti", PAGAMENTO, pagamenti),
        t(
            "interventi_fabbricati",
            INTERVENTO_FABBRICATO,
            interventi_fabbricati,
        ),
    ]
}

/// Options for `contabilita` with both reference sets known (programme PRU-2010, buildings
/// F1 and F2).
pub fn opzioni_contabilita() -> Opzioni {
    opzioni_con_riferimenti(&["PRU-2010", "PINQUA-2021"], &["F1", "F2"])
}

/// A valid programme.
pub const PROGRAMMA: &[(&str, &str)] = &[
    ("codice_programma", "PRU-2010"),
    ("denominazione", "Programmi di recupero urbano 2010"),
    ("tipo", "COMPLESSO"),
    ("strumento", "PRU"),
    ("fonte", "REGIONALE"),
    ("atto", "DGR 1234/2010"),
    ("data_atto", "2010-05-18"),
    ("importo_programma", "25000000.00"),
];

pub fn programmi(righe: &[&[(&str, &str)]]) -> Tabella {
    let mut t = Tabella::della_spec("programmi", "programmi");
    for m in righe {
        t = t.riga_da(PROGRAMMA, m);
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Flows with tricky values, shared by the equivalence tests of every container.
// ---------------------------------------------------------------------------------------------

/// A `patrimonio` flow full of values written the way spreadsheets and people write them,
/// with a few errors (see `equivalenza.rs` for the expected issues).
pub fn patrimonio_insidioso() -> Vec<Tabella> {
    let f = Tabella::della_spec("patrimonio", "fabbricati")
        .riga_da(
            FABBRICATO,
            &[
                ("comune_istat", "72006"),
                (
                    "indirizzo",
                    "Via Giulio Petroni, angolo Via Capruzzi; lotto \"B\"",
                ),
                ("latitudine", "41,1105"),
                ("longitudine", "16.8719"),
                ("ascensore", "si"),
                ("titolo_possesso", "proprieta"),
                ("stato_conservazione", "buono"),
            ],
        )
        .riga_da(
            FABBRICATO,
            &[
                ("codice_fabbricato", "F2"),
                ("comune_istat", "072029"),
                ("cap", "70056"),
                ("numero_civico", "snc"),
                ("foglio", "12a"),
                ("latitudine", ""),
                ("longitudine", ""),
                ("titolo_possesso", "Gestione"),
                ("cf_proprietario", "80017210727"),
                ("ascensore", "N"),
            ],
        )
        .riga_da(
            FABBRICATO,
            &[
                ("codice_fabbricato", "F3"),
                ("comune_istat", "075035"),
                ("indirizzo", "Vi"),
                ("anno_costruzione", "2030"),
            ],
        );
    let u = Tabella::della_spec("patrimonio", "unita")
        .riga_da(
            UNITA,
            &[
                ("tipologia", "alloggio"),
                ("categoria_catastale", "A03"),
                ("superficie_utile_mq", "65,5"),
                ("numero_vani", "3,5"),
                ("rendita_catastale", "350,00"),
                ("data_assegnazione", "15/03/2010"),
                ("canone_mensile", "120,50"),
                ("regime", "erp_sovvenzionata"),
                ("stato_occupazione", "assegnato"),
                ("accessibile_disabili", "n"),
                ("classe_energetica", "g"),
                ("colore", "giallo"),
            ],
        )
        .riga_da(
            UNITA,
            &[
                ("codice_unita", "U2"),
                ("tipologia", "Box"),
                ("categoria_catastale", "c06"),
                ("superficie_utile_mq", ""),
                ("numero_vani", ""),
                ("subalterno", "2"),
                ("piano", "s1"),
                ("stato_occupazione", "sfitto_assegnabile"),
                ("data_assegnazione", ""),
                ("canone_mensile", ""),
                ("numero_occupanti", "0"),
                ("cup_ultimo_intervento", "b31b12000390001"),
            ],
        )
        .riga_da(
            UNITA,
            &[
                ("codice_unita", "U3"),
                ("codice_fabbricato", "F2"),
                ("foglio", "12a"),
                ("particella", "77"),
                ("categoria_catastale", "a/10"),
                ("superficie_utile_mq", "48"),
                ("data_assegnazione", "2026-12-01"),
                ("canone_mensile", "95"),
            ],
        )
        .riga_da(
            UNITA,
            &[
                ("codice_unita", "U4"),
                ("numero_vani", "3,3"),
                ("data_assegnazione", "01/02/2003"),
            ],
        )
        .riga_da(UNITA, &[("subalterno", "9")]);
    let altra = Tabella::con_colonne("allegati", &["descrizione"]).riga(&[("descrizione", "foto")]);
    vec![f, u, altra]
}

/// The fields written as JSON numbers in the JSON form of [`patrimonio_insidioso`].
pub const NUMERI_PATRIMONIO: &[(&str, &str)] = &[
    ("fabbricati", "comune_istat"),
    ("fabbricati", "foglio"),
    ("fabbricati", "particella"),
    ("fabbricati", "anno_costruzione"),
    ("fabbricati", "numero_piani"),
    ("fabbricati", "cf_proprietario"),
    ("fabbricati", "latitudine"),
    ("fabbricati", "longitudine"),
    ("fabbricati", "cap"),
    ("fabbricati", "numero_civico"),
    ("unita", "foglio"),
    ("unita", "particella"),
    ("unita", "subalterno"),
    ("unita", "superficie_utile_mq"),
    ("unita", "canone_mensile"),
    ("unita", "numero_occupanti"),
    ("unita", "anno_ultimo_intervento"),
    ("unita", "piano"),
    ("unita", "interno"),
];

/// A `contabilita` flow with tricky values and a few errors (see `equivalenza.rs`).
pub fn contabilita_insidiosa() -> Vec<Tabella> {
    contabilita(
        &[
            &[
                ("cup", "b31b12000390001"),
                ("comune_istat", "72006"),
                ("tipo_intervento", "recupero"),
                ("importo_finanziato", "1000000,00"),
                ("importo_cofinanziamento", "200000"),
                ("importo_totale", "1200000,00"),
                ("stato", "lavori_in_corso"),
                ("cig", "7a1b2c3d4e"),
                ("ribasso_percentuale", "12,5"),
                ("data_aggiudicazione", "01/03/2018"),
                ("data_fine_prevista", "30/06/2027"),
                ("titolo", "Recupero di 24 alloggi; lotto «A», via Petroni"),
            ],
            &[
                ("cup", CUP2),
                ("codice_programma", "PINQUA-2021"),
                ("comune_istat", "074009"),
                ("stato", "Collaudato"),
                ("alloggi_realizzati", "30"),
                ("data_fine_effettiva", "31/03/2021"),
                ("data_collaudo", "30/03/2021"),
            ],
        ],
        &[
            &[("data_sal", "15/01/2019"), ("importo_sal", "300000,00")],
            &[
                ("numero_sal", "2"),
                ("data_sal", "2019-06-15"),
                ("importo_sal", "200000"),
                ("importo_cumulato", "600000"),
                ("percentuale_avanzamento", "20"),
            ],
        ],
        &[
            &[
                ("importo", "600000"),
                ("tipo", "anticipazione"),
                ("atto", "DD 45/2018"),
            ],
            &[
                ("data_erogazione", "30/06/2018"),
                ("importo", "500000,01"),
                ("tipo", "Acconto"),
            ],
        ],
        &[&[
            ("cup", "B31B12000390001"),
            ("numero_mandato", "12"),
            ("data_mandato", "01/02/2019"),
            ("causale", "spese_tecniche"),
            ("numero_sal", "2"),
        ]],
        &[&[], &[("cup", CUP2), ("codice_fabbricato", "F9")]],
    )
}

/// The fields written as JSON numbers in the JSON form of [`contabilita_insidiosa`].
pub const NUMERI_CONTABILITA: &[(&str, &str)] = &[
    ("interventi", "comune_istat"),
    ("interventi", "alloggi_previsti"),
    ("interventi", "alloggi_realizzati"),
    ("interventi", "importo_cofinanziamento"),
    ("sal", "numero_sal"),
    ("sal", "importo_sal"),
    ("sal", "importo_cumulato"),
    ("sal", "percentuale_avanzamento"),
    ("erogazioni", "importo"),
    ("pagamenti", "numero_mandato"),
    ("pagamenti", "numero_sal"),
];
