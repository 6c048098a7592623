//! The published specifications as data: one [`Dominio`] per flow domain, with its tables,
//! fields, types, constraints and the named checks. The validator, the Table Schema export, the
//! documentation pages and the blank templates are all generated from these definitions, so no
//! field list is written twice.

pub mod contabilita;
pub mod patrimonio;
pub mod programmi;
pub mod registro;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Severity of an issue.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Gravita {
    Errore,
    Avviso,
}

impl Gravita {
    pub fn as_str(self) -> &'static str {
        match self {
            Gravita::Errore => "errore",
            Gravita::Avviso => "avviso",
        }
    }
}

/// A bound of a numeric field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limite {
    Incluso(f64),
    Escluso(f64),
    /// The current year (of the validation date), inclusive.
    AnnoCorrente,
}

/// A text pattern with its normalization (applied before matching and kept as the value).
#[derive(Debug)]
pub struct Modello {
    /// The regular expression, as published (anchored).
    pub espressione: &'static str,
    pub ignora_maiuscole: bool,
    /// Normalization before matching (e.g. `A03` → `A/3`); the result is the stored value.
    pub normalizza: Option<fn(&str) -> String>,
    /// What is expected, for messages: «da 1 a 4 cifre».
    pub atteso: &'static str,
    compilato: OnceLock<Option<regex::Regex>>,
    /// Answers already computed for short values (see [`Modello::verifica`]).
    memoria: OnceLock<Box<[AtomicU64]>>,
}

/// Entries of a pattern's memory of answers (8 bytes each).
const MEMORIA: usize = 1024;

impl Modello {
    pub const fn new(espressione: &'static str, atteso: &'static str) -> Self {
        Self {
            espressione,
            ignora_maiuscole: false,
            normalizza: None,
            atteso,
            compilato: OnceLock::new(),
            memoria: OnceLock::new(),
        }
    }
    pub const fn senza_maiuscole(mut self) -> Self {
        self.ignora_maiuscole = true;
        self
    }
    pub const fn con_normalizzazione(mut self, f: fn(&str) -> String) -> Self {
        self.normalizza = Some(f);
        self
    }
    /// Whether `s` matches. The same few short values (a subalterno, a floor, a cadastral
    /// category) come back on most rows, and a regular expression costs tens of nanoseconds:
    /// values of up to 7 bytes are remembered in a direct-mapped table of atomic words, each
    /// holding the whole value, its length and the answer, so an entry can never answer for
    /// another value, and threads sharing the pattern need no lock.
    pub fn verifica(&self, s: &str) -> bool {
        let b = s.as_bytes();
        if b.is_empty() || b.len() > 7 {
            return self.verifica_espressione(s);
        }
        let mut valore = 0u64;
        for (i, &x) in b.iter().enumerate() {
            valore |= u64::from(x) << (8 * (i + 1));
        }
        valore |= (b.len() as u64) << 1;
        let memoria = self.memoria.get_or_init(|| {
            (0..MEMORIA)
                .map(|_| AtomicU64::new(0))
                .collect::<Vec<_>>()
                .into_boxed_slice()
        });
        let posto = &memoria[(valore.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize];
        let voce = posto.load(Ordering::Relaxed);
        if voce & !1 == valore {
            return voce & 1 == 1;
        }
        let esito = self.verifica_espressione(s);
        posto.store(valore | u64::from(esito), Ordering::Relaxed);
        esito
    }

    fn verifica_espressione(&self, s: &str) -> bool {
        let re = self.compilato.get_or_init(|| {
            let e = if self.ignora_maiuscole {
                format!("(?i){}", self.espressione)
            } else {
                self.espressione.to_string()
            };
            regex::Regex::new(&e).ok()
        });
        re.as_ref().is_some_and(|r| r.is_match(s))
    }
}

/// The type of a field (`validazione.md` §2).
#[derive(Debug)]
pub enum Tipo {
    /// `^[A-Za-z0-9][A-Za-z0-9._/-]{0,29}$`
    Codice,
    /// Text with a length in characters.
    Testo {
        min: usize,
        max: usize,
    },
    /// Text with a pattern (and a length implied by it).
    Modello(Modello),
    Intero,
    /// A number; `passo` requires multiples (e.g. 0.5).
    Numero {
        passo: Option<f64>,
    },
    /// A number with at most 2 decimals.
    Denaro,
    Data,
    Booleano,
    /// One of the values, case-insensitive; stored upper case.
    Enum(&'static [&'static str]),
    /// A Puglia ISTAT code (5 digits get the leading zero back).
    Comune,
    /// The 11-digit codice fiscale of a legal person.
    CfGiuridica,
    PartitaIva,
    Cup,
    Cig,
}

impl Tipo {
    /// The name used in the documentation.
    pub fn nome(&self) -> String {
        match self {
            Tipo::Codice => "codice".into(),
            Tipo::Testo { min, max } if *min <= 1 && *max >= 1000 => format!("testo ≤ {max}"),
            Tipo::Testo { min, max } => format!("testo {min}–{max}"),
            Tipo::Modello(_) => "testo".into(),
            Tipo::Intero => "intero".into(),
            Tipo::Numero { .. } => "numero".into(),
            Tipo::Denaro => "importo".into(),
            Tipo::Data => "data".into(),
            Tipo::Booleano => "sì/no".into(),
            Tipo::Enum(_) => "elenco".into(),
            Tipo::Comune => "comune (ISTAT)".into(),
            Tipo::CfGiuridica => "codice fiscale (persona giuridica)".into(),
            Tipo::PartitaIva => "partita IVA".into(),
            Tipo::Cup => "CUP".into(),
            Tipo::Cig => "CIG".into(),
        }
    }
}

/// Whether a field must have a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Obbligo {
    Si,
    No,
    /// Required when the condition (described here, checked by the domain's rules) holds.
    Condizionato(&'static str),
}

/// A field of a table.
#[derive(Debug)]
pub struct Campo {
    pub nome: &'static str,
    pub tipo: Tipo,
    pub obbligo: Obbligo,
    pub minimo: Option<Limite>,
    pub massimo: Option<Limite>,
    /// A date that may not be after the validation date (`data_futura`).
    pub non_futura: bool,
    pub descrizione: &'static str,
}

impl Campo {
    pub const fn new(
        nome: &'static str,
        tipo: Tipo,
        obbligo: Obbligo,
        descrizione: &'static str,
    ) -> Self {
        Self {
            nome,
            tipo,
            obbligo,
            minimo: None,
            massimo: None,
            non_futura: false,
            descrizione,
        }
    }
    pub const fn tra(mut self, minimo: Limite, massimo: Limite) -> Self {
        self.minimo = Some(minimo);
        self.massimo = Some(massimo);
        self
    }
    pub const fn almeno(mut self, minimo: Limite) -> Self {
        self.minimo = Some(minimo);
        self
    }
    pub const fn non_futura(mut self) -> Self {
        self.non_futura = true;
        self
    }
}

/// A reference from a field to the key of another table of the same flow.
#[derive(Debug)]
pub struct Riferimento {
    pub campi: &'static [&'static str],
    pub tabella: &'static str,
    pub campi_destinazione: &'static [&'static str],
}

/// A table of a domain.
#[derive(Debug)]
pub struct Tabella {
    pub nome: &'static str,
    pub obbligatoria: bool,
    /// Primary key fields (empty: none).
    pub chiave: &'static [&'static str],
    pub campi: Vec<Campo>,
    pub riferimenti: Vec<Riferimento>,
    pub descrizione: &'static str,
}

impl Tabella {
    pub fn indice(&self, campo: &str) -> Option<usize> {
        self.campi.iter().position(|c| c.nome == campo)
    }
}

/// A named check of a domain, for the documentation and the descriptor.
#[derive(Debug)]
pub struct Controllo {
    pub codice: &'static str,
    pub gravita: Gravita,
    pub regola: &'static str,
}

/// A flow domain.
#[derive(Debug)]
pub struct Dominio {
    pub nome: &'static str,
    pub titolo: &'static str,
    pub descrizione: &'static str,
    pub tabelle: Vec<Tabella>,
    pub controlli: Vec<Controllo>,
    /// How its accepted data is kept and shown (`None`: the platform keeps no register of it).
    pub registro: Option<registro::RegistroDominio>,
}

impl Dominio {
    pub fn tabella(&self, nome: &str) -> Option<&Tabella> {
        self.tabelle.iter().find(|t| t.nome == nome)
    }
    pub fn indice_tabella(&self, nome: &str) -> Option<usize> {
        self.tabelle.iter().position(|t| t.nome == nome)
    }
    pub fn obbligatorie(&self) -> impl Iterator<Item = &Tabella> {
        self.tabelle.iter().filter(|t| t.obbligatoria)
    }
}

/// The domains, by name.
pub fn dominio(nome: &str) -> Option<&'static Dominio> {
    match nome {
        "patrimonio" => Some(patrimonio::dominio()),
        "contabilita" => Some(contabilita::dominio()),
        "programmi" => Some(programmi::dominio()),
        _ => None,
    }
}

pub const DOMINI: [&str; 3] = ["patrimonio", "contabilita", "programmi"];

/// File- and value-level codes common to every domain (`validazione.md` §4), with the codes
/// this project adds (`limite_superato`).
pub const CODICI_COMUNI: &[(&str, Gravita, &str)] = &[
    (
        "file_illeggibile",
        Gravita::Errore,
        "contenitore corrotto o illeggibile",
    ),
    (
        "formato_non_supportato",
        Gravita::Errore,
        "tipo di file non accettato",
    ),
    ("codifica_non_valida", Gravita::Errore, "testo non in UTF-8"),
    (
        "firma_non_valida",
        Gravita::Errore,
        "file .p7m la cui firma non è verificabile",
    ),
    (
        "limite_superato",
        Gravita::Errore,
        "file oltre i limiti di dimensione, righe, colonne, espansione o tempo",
    ),
    (
        "tabella_mancante",
        Gravita::Errore,
        "manca una tabella obbligatoria",
    ),
    (
        "tabella_vuota",
        Gravita::Errore,
        "una tabella obbligatoria non ha righe",
    ),
    (
        "tabella_sconosciuta",
        Gravita::Avviso,
        "tabella non prevista (o foglio nascosto), ignorata",
    ),
    (
        "campo_mancante",
        Gravita::Errore,
        "manca la colonna di un campo obbligatorio",
    ),
    (
        "campo_sconosciuto",
        Gravita::Avviso,
        "colonna non prevista, ignorata",
    ),
    (
        "campo_duplicato",
        Gravita::Errore,
        "due colonne con lo stesso nome",
    ),
    (
        "riga_malformata",
        Gravita::Errore,
        "riga CSV con un numero di valori diverso dall'intestazione",
    ),
    (
        "obbligatorio",
        Gravita::Errore,
        "valore obbligatorio mancante",
    ),
    ("tipo", Gravita::Errore, "valore del tipo sbagliato"),
    (
        "formato",
        Gravita::Errore,
        "valore che non rispetta il formato (o i decimali)",
    ),
    (
        "valore_non_ammesso",
        Gravita::Errore,
        "valore fuori dall'elenco ammesso",
    ),
    ("minimo", Gravita::Errore, "valore sotto il minimo"),
    ("massimo", Gravita::Errore, "valore sopra il massimo"),
    (
        "lunghezza",
        Gravita::Errore,
        "testo troppo corto o troppo lungo",
    ),
    (
        "data_futura",
        Gravita::Errore,
        "data successiva alla data di validazione",
    ),
    (
        "comune_sconosciuto",
        Gravita::Errore,
        "codice ISTAT che non è un Comune della Puglia",
    ),
    (
        "codice_fiscale",
        Gravita::Errore,
        "codice fiscale non valido",
    ),
    ("partita_iva", Gravita::Errore, "partita IVA non valida"),
    ("cup", Gravita::Errore, "CUP non valido"),
    ("cig", Gravita::Errore, "CIG non valido"),
    (
        "controllo_non_eseguito",
        Gravita::Avviso,
        "controllo non eseguito: mancano i dati di riferimento, oppure la tabella a cui rimanda manca o non è stata letta per intero",
    ),
];

#[cfg(test)]
mod test_modelli {
    use super::*;

    /// The remembered answers are the regular expression's, for every pattern of every domain,
    /// on every short value over an alphabet that exercises them (more values than entries, so
    /// entries are overwritten by other values many times).
    #[test]
    fn memoria_risponde_come_l_espressione() {
        let alfabeto: Vec<char> = "0179ASTRBCEFNZ/a".chars().collect();
        let mut valori: Vec<String> = Vec::new();
        for a in &alfabeto {
            valori.push(a.to_string());
            for b in &alfabeto {
                valori.push(format!("{a}{b}"));
                for c in &alfabeto {
                    valori.push(format!("{a}{b}{c}"));
                }
            }
        }
        valori.extend(
            [
                "12345", "1234A", "123456", "70123", "76999", "77000", "12/B", "SNC", "A/10",
                "A/11", "A/12", "1234567", "12345678", "è", "àà",
            ]
            .map(String::from),
        );
        let mut modelli = 0;
        for nome in ["patrimonio", "contabilita", "programmi"] {
            for t in &dominio(nome).unwrap().tabelle {
                for c in &t.campi {
                    let Tipo::Modello(m) = &c.tipo else { continue };
                    modelli += 1;
                    for _ in 0..2 {
                        for v in &valori {
                            assert_eq!(
                                m.verifica(v),
                                m.verifica_espressione(v),
                                "{} «{v}»",
                                m.espressione
                            );
                        }
                    }
                }
            }
        }
        assert!(modelli >= 8);
    }
}
