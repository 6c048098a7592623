//! The published specifications as data: one [`Dominio`] per flow domain, with its tables,
//! fields, types, constraints and the named checks. The validator, the Table Schema export, the
//! documentation pages and the blank templates are all generated from these definitions, so no
//! field list is written twice.

pub mod contabilita;
pub mod patrimonio;
pub mod programmi;

use std::sync::OnceLock;

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
}

impl Modello {
    pub const fn new(espressione: &'static str, atteso: &'static str) -> Self {
        Self {
            espressione,
            ignora_maiuscole: false,
            normalizza: None,
            atteso,
            compilato: OnceLock::new(),
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
    pub fn verifica(&self, s: &str) -> bool {
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
        "controllo non eseguito per mancanza dei dati di riferimento",
    ),
];
