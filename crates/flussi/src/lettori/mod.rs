//! Readers: each container (CSV, ZIP of CSV, XLSX, JSON, and `.p7m` around any of them) is a
//! [`Sorgente`] that streams one table at a time, row by row, as [`Cella`] values. The type rules
//! of `validazione.md` §2 are applied later, by the engine, identically for every container.

use std::time::Instant;

/// One cell as read from a container, before the type rules.
#[derive(Clone, Debug, PartialEq)]
pub enum Cella {
    Vuota,
    /// Text as written (CSV, JSON strings, XLSX text cells).
    Testo(String),
    /// A numeric cell (XLSX) or a JSON number.
    Numero(f64),
    /// An XLSX date cell.
    Data(chrono::NaiveDateTime),
    /// An XLSX boolean cell or a JSON boolean.
    Booleano(bool),
    /// A cell whose value cannot be used (an XLSX error value, or a formula with no cached
    /// result): the text describes it for the report.
    Errore(String),
}

/// Bounds against hostile files. Every reader enforces the ones that apply to it.
#[derive(Clone, Debug)]
pub struct Limiti {
    /// Largest input file, in bytes.
    pub max_byte: u64,
    /// Most data rows in one table.
    pub max_righe: u64,
    /// Most columns in a header.
    pub max_colonne: usize,
    /// Longest cell, in bytes.
    pub max_cella: usize,
    /// Largest total expanded size of a ZIP (or XLSX) member, in bytes.
    pub max_espanso: u64,
    /// Largest ratio expanded/compressed of a ZIP member (zip bombs).
    pub max_rapporto: u64,
    /// Most memory the XLSX shared strings may occupy once loaded, in bytes, counting the
    /// per-string overhead (slot and allocation), not only the text: see
    /// [`xlsx::MisuraStringhe`].
    pub max_stringhe_condivise: u64,
    /// Wall-clock deadline.
    pub scadenza: Option<Instant>,
}

impl Default for Limiti {
    fn default() -> Self {
        Self {
            max_byte: 200 * 1024 * 1024,
            max_righe: 5_000_000,
            max_colonne: 500,
            max_cella: 32 * 1024,
            max_espanso: 2 * 1024 * 1024 * 1024,
            max_rapporto: 200,
            // A real workbook at the row limit (a million units, a few distinct texts per
            // row) stays well under; 20 million tiny strings (1.1 GB) do not.
            max_stringhe_condivise: 256 * 1024 * 1024,
            scadenza: None,
        }
    }
}

impl Limiti {
    /// Fails when the deadline has passed. Readers call it every few thousand rows.
    pub fn controlla_tempo(&self) -> Result<(), ErroreLettura> {
        match self.scadenza {
            Some(s) if Instant::now() > s => Err(ErroreLettura::Limite(
                "la lettura del file ha superato il tempo massimo consentito".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// Why a container could not be read. Each maps to a report code.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ErroreLettura {
    /// Corrupt or unreadable container → `file_illeggibile`.
    #[error("{0}")]
    Illeggibile(String),
    /// Text that is not UTF-8 → `codifica_non_valida`.
    #[error("{0}")]
    Codifica(String),
    /// A bound of [`Limiti`] exceeded → `limite_superato`.
    #[error("{0}")]
    Limite(String),
    /// Not a container we read → `formato_non_supportato`.
    #[error("{0}")]
    FormatoNonSupportato(String),
    /// A `.p7m` whose signature does not verify → `firma_non_valida`.
    #[error("{0}")]
    Firma(String),
}

/// A table as found in the container.
#[derive(Clone, Debug, PartialEq)]
pub struct InfoTabella {
    /// The name as written (sheet name, file name without `.csv`, JSON key), not normalized.
    pub nome: String,
    /// A hidden XLSX sheet (ignored with a warning).
    pub nascosta: bool,
}

/// What a reader hands to the engine while streaming a table.
#[derive(Debug)]
pub enum Evento<'a> {
    /// The header row (row 1): the field names as written.
    Intestazione(&'a [Cella]),
    /// A data row, positional (aligned with the header). `numero` is the row number as a
    /// spreadsheet shows it (header = 1).
    Riga { numero: u64, celle: &'a [Cella] },
    /// A data row with named values (JSON objects). `numero` is the 1-based array position.
    RigaNominata {
        numero: u64,
        campi: &'a [(String, Cella)],
    },
    /// A CSV row whose number of values differs from the header.
    RigaMalformata {
        numero: u64,
        trovati: usize,
        attesi: usize,
    },
}

/// Whether the engine wants more rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continua {
    Si,
    /// Stop reading this table (e.g. the row limit was reached).
    No,
}

/// A container that streams its tables.
pub trait Sorgente {
    /// The tables found, in container order.
    fn tabelle(&mut self) -> Result<Vec<InfoTabella>, ErroreLettura>;
    /// Streams one table (by the name returned by [`Sorgente::tabelle`]): first
    /// [`Evento::Intestazione`] (except JSON), then its rows, in file order.
    fn leggi(
        &mut self,
        tabella: &str,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<(), ErroreLettura>;
}

pub mod dati;
pub mod firma;
pub mod json;
pub mod testo;
pub mod xlsx;

use crate::spec::Dominio;
use dati::Dati;

/// An opened input: the source to validate and the signatures found around it.
pub struct Aperto {
    pub sorgente: Box<dyn Sorgente>,
    pub firme: Vec<firma::Firma>,
}

/// Opens an input by its file name and content: `.xlsx`, `.zip`, `.csv`, `.json`, each possibly
/// wrapped in `.p7m` (verified, with optional trust anchors). Unknown names are sniffed.
pub fn apri(
    nome_file: &str,
    dati: Dati,
    dominio: &'static Dominio,
    limiti: &Limiti,
    ancore: Option<&std::path::Path>,
) -> Result<Aperto, ErroreLettura> {
    let dimensione = dati
        .dimensione()
        .map_err(|e| ErroreLettura::Illeggibile(format!("il file non si legge: {e}")))?;
    if dimensione > limiti.max_byte {
        return Err(ErroreLettura::Limite(format!(
            "il file è di {}: il massimo consentito è {}",
            dimensione_leggibile(dimensione),
            dimensione_leggibile(limiti.max_byte)
        )));
    }
    let inizio = dati
        .inizio(4096)
        .map_err(|e| ErroreLettura::Illeggibile(format!("il file non si legge: {e}")))?;
    let minuscolo = nome_file.to_ascii_lowercase();
    if firma::e_firmato(&minuscolo, &inizio) {
        let (contenuto, firme) = firma::sbusta(
            &dati
                .tutto()
                .map_err(|e| ErroreLettura::Illeggibile(format!("il file non si legge: {e}")))?,
            ancore,
        )?;
        let mut nome_interno = minuscolo.clone();
        while let Some(s) = nome_interno.strip_suffix(".p7m") {
            nome_interno = s.to_string();
        }
        let mut a = apri(
            &nome_interno,
            Dati::Byte(std::sync::Arc::new(contenuto)),
            dominio,
            limiti,
            ancore,
        )?;
        let mut tutte = firme;
        tutte.append(&mut a.firme);
        a.firme = tutte;
        return Ok(a);
    }
    let estensione = minuscolo.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let tipo = match estensione {
        "xlsx" | "xlsm" => "xlsx",
        "zip" => "zip",
        "csv" | "txt" => "csv",
        "json" => "json",
        "xls" | "ods" => {
            return Err(ErroreLettura::FormatoNonSupportato(format!(
                "il formato .{estensione} non è accettato: salvi il foglio di calcolo come .xlsx oppure come file CSV"
            )));
        }
        _ if testo::e_zip(&inizio) => {
            if testo::e_xlsx(&dati) {
                "xlsx"
            } else {
                "zip"
            }
        }
        _ if inizio
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{') =>
        {
            "json"
        }
        _ => {
            return Err(ErroreLettura::FormatoNonSupportato(
                "il file non è di un formato accettato: invii un file .xlsx, .zip di file CSV, .csv o .json (eventualmente firmato .p7m)".into(),
            ));
        }
    };
    let sorgente: Box<dyn Sorgente> = match tipo {
        "xlsx" => {
            if !testo::e_zip(&inizio) {
                return Err(ErroreLettura::Illeggibile(
                    "il file .xlsx è danneggiato: non è una cartella di lavoro Excel".into(),
                ));
            }
            Box::new(xlsx::LettoreXlsx::da_dati(&dati, limiti.clone())?)
        }
        "zip" => {
            if !testo::e_zip(&inizio) {
                return Err(ErroreLettura::Illeggibile(
                    "il file .zip è danneggiato: non è un archivio ZIP".into(),
                ));
            }
            Box::new(testo::ZipCsv::new(&dati, limiti.clone())?)
        }
        "csv" => {
            let mut obbligatorie = dominio.obbligatorie();
            match (obbligatorie.next(), obbligatorie.next()) {
                (Some(t), None) => Box::new(testo::CsvSingolo::new(dati, t.nome, limiti.clone())),
                _ => {
                    let nomi = dominio
                        .obbligatorie()
                        .map(|t| t.nome)
                        .collect::<Vec<_>>()
                        .join(" e ");
                    return Err(ErroreLettura::FormatoNonSupportato(format!(
                        "un solo file CSV non basta per il flusso {}, che richiede le tabelle {nomi}: invii un file .zip con un CSV per tabella, oppure un file .xlsx",
                        dominio.nome
                    )));
                }
            }
        }
        _ => Box::new(json::Json::new(dati, limiti.clone())),
    };
    Ok(Aperto {
        sorgente,
        firme: vec![],
    })
}

/// A size for people: «12 MB», «300 kB», «512 byte».
pub fn dimensione_leggibile(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{} MB", n / (1024 * 1024))
    } else if n >= 1024 {
        format!("{} kB", n / 1024)
    } else {
        format!("{n} byte")
    }
}

/// A quick estimate of a file's data rows, for the progress percentage: line breaks of a CSV
/// or of the CSV members of a ZIP, the `<dimension>` of an XLSX's sheets. `None` when the
/// container does not tell cheaply (JSON, signed files) or when counting would pass one of
/// `limiti`: a member's expansion ratio or expanded size, the total expanded, the deadline —
/// the same bounds the readers apply, so that a ZIP bomb costs the estimate no more than it
/// costs the validation (which then reports `limite_superato`).
pub fn stima_righe(nome_file: &str, percorso: &std::path::Path, limiti: &Limiti) -> Option<u64> {
    use std::io::Read;
    /// Counts the lines of `r`, adding the bytes read to `letti`, which must stay within
    /// `max_espanso`; the deadline is checked every buffer.
    fn conta_linee(mut r: impl Read, letti: &mut u64, limiti: &Limiti) -> Option<u64> {
        let mut buf = vec![0u8; 256 * 1024];
        let (mut n, mut ultimo) = (0u64, b'\n');
        loop {
            limiti.controlla_tempo().ok()?;
            let k = r.read(&mut buf).ok()?;
            if k == 0 {
                break;
            }
            *letti += k as u64;
            if *letti > limiti.max_espanso {
                return None;
            }
            n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
            ultimo = buf[k - 1];
        }
        // Header out; a last line without a line break still counts.
        Some((n + u64::from(ultimo != b'\n')).saturating_sub(1))
    }
    let minuscolo = nome_file.to_ascii_lowercase();
    let file = std::fs::File::open(percorso).ok()?;
    let mut letti = 0u64;
    if minuscolo.ends_with(".csv") {
        if file.metadata().ok()?.len() > limiti.max_byte {
            return None;
        }
        return conta_linee(std::io::BufReader::new(file), &mut letti, limiti);
    }
    if !(minuscolo.ends_with(".zip") || minuscolo.ends_with(".xlsx")) {
        return None;
    }
    let mut z = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
    // Declared sizes first, before anything is expanded (the zip crate stops a member at its
    // declared size, so they bound what can be read).
    let mut dichiarato = 0u64;
    for i in 0..z.len() {
        let e = z.by_index_raw(i).ok()?;
        if e.size() > limiti.max_espanso
            || testo::rapporto_eccessivo(e.size(), e.compressed_size(), limiti).is_some()
        {
            return None;
        }
        dichiarato = dichiarato.saturating_add(e.size());
    }
    let mut totale = 0u64;
    for i in 0..z.len() {
        limiti.controlla_tempo().ok()?;
        let mut e = z.by_index(i).ok()?;
        let nome = e.name().ok()?.to_ascii_lowercase();
        if nome.ends_with(".csv") {
            if dichiarato > limiti.max_espanso {
                return None;
            }
            totale += conta_linee(&mut e, &mut letti, limiti)?;
        } else if nome.starts_with("xl/worksheets/") && nome.ends_with(".xml") {
            let mut inizio = vec![0u8; 4096];
            let mut k = 0;
            while k < inizio.len() {
                match e.read(&mut inizio[k..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => k += n,
                }
            }
            let testo = String::from_utf8_lossy(&inizio[..k]);
            let rif = testo.split("<dimension ref=\"").nth(1)?.split('"').next()?;
            let fine = rif.split(':').next_back()?;
            let riga: u64 = fine
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .ok()?;
            totale += riga.saturating_sub(1);
        }
    }
    Some(totale)
}
