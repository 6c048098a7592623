//! XLSX reader: streams the worksheets of an Excel workbook as [`Cella`] rows for the
//! validation engine, without ever loading a whole sheet in memory.
//!
//! How it works:
//! - Before anything is expanded, the ZIP central directory is inspected: every member's declared
//!   expanded size and compression ratio are checked against [`Limiti`] (zip bombs), and so is
//!   the shared-strings part. The `zip` crate refuses to expand a member past its declared size,
//!   so the declared sizes are a hard bound.
//! - The workbook is then opened with calamine, which reads the package relationships, the
//!   shared-strings table (held whole in memory, one allocation per string: what it will occupy,
//!   per-string overhead included, is measured by streaming the part first, and bounded by
//!   [`Limiti::max_stringhe_condivise`]; see [`MisuraStringhe`]), the styles (number formats tell dates from numbers) and
//!   the sheet list.
//! - Each sheet is streamed with calamine's cell reader
//!   ([`XlsxCellReader::next_cell_with_formula_metadata`]), which yields one cell at a time with
//!   its cached value and whether it holds a formula; cells are assembled into positional rows
//!   aligned with the header (the first non-blank row).
//! - A formula cell without a cached value (`<f>` without `<v>`, or an empty `<v>`) becomes
//!   [`Cella::Errore`]`("formula senza valore calcolato")`.
//! - calamine only knows the seven classic error values (`#DIV/0!`, `#N/A`, …) and fails on the
//!   newer ones (`#SPILL!`, `#CALC!`, …) without saying which cell held them. When that happens
//!   a second, position-only stream of the same sheet part is opened and advanced in lockstep
//!   (cell *n* of one stream is cell *n* of the other), so the error cell gets its exact position
//!   and the rest of the sheet keeps flowing.
//! - calamine panics on some hostile inputs (arithmetic overflow on absurd cell references in
//!   debug builds); every call into it is wrapped so that a panic becomes
//!   [`ErroreLettura::Illeggibile`].

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx, XlsxCellReader, XlsxError};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use super::dati::{Dati, LeggiCerca};
use super::{Cella, Continua, ErroreLettura, Evento, InfoTabella, Limiti, Sorgente};

/// Below this expanded size a member's compression ratio is not checked: a small part that
/// compresses very well (a repetitive styles part, a sheet of identical cells) is harmless.
const SOGLIA_RAPPORTO: u64 = 1024 * 1024;

/// Largest `styles.xml`: calamine keeps one in-memory style record per `<xf>`, several times
/// larger than its XML, so the part is bounded well below [`Limiti::max_espanso`]. Real
/// workbooks stay under a few MB (Excel allows at most 64 000 cell formats).
const MAX_STILI: u64 = 32 * 1024 * 1024;

/// Largest relationships part (`*.rels`) read to locate a sheet (only on the rare path that
/// needs it, see the module doc).
const MAX_RELAZIONI: u64 = 8 * 1024 * 1024;

/// How far into the shared-strings part the `<sst>` element must appear.
const MAX_PROLOGO_SST: u64 = 1024 * 1024;

/// Smallest possible XML for one shared string (`<si/>`): bounds the `uniqueCount` a part of a
/// given size can honestly declare.
const MIN_BYTE_PER_STRINGA: u64 = 5;

/// The deadline is checked every this many cells (and every 1000 emitted rows).
const OGNI_CELLE: u64 = 1024;
const OGNI_RIGHE: u64 = 1000;

const FORMULA_SENZA_VALORE: &str = "formula senza valore calcolato";

/// An XLSX workbook read as a [`Sorgente`]: one table per worksheet.
pub struct LettoreXlsx {
    libro: Xlsx<Ingresso>,
    /// Kept to open a sheet part a second time (see the module doc).
    dati: Dati,
    limiti: Limiti,
    fogli: Vec<InfoTabella>,
    is_1904: bool,
}

impl std::fmt::Debug for LettoreXlsx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LettoreXlsx")
            .field("fogli", &self.fogli)
            .finish_non_exhaustive()
    }
}

impl LettoreXlsx {
    /// Opens the workbook at `path`. The file is read through a buffer, never loaded whole.
    pub fn da_file(path: &Path, limiti: Limiti) -> Result<Self, ErroreLettura> {
        Self::da_dati(&Dati::File(path.to_path_buf()), limiti)
    }

    /// Opens a workbook held in memory.
    pub fn da_byte(bytes: Vec<u8>, limiti: Limiti) -> Result<Self, ErroreLettura> {
        Self::da_dati(&Dati::Byte(Arc::new(bytes)), limiti)
    }

    /// Opens a workbook from re-openable input (on disk or in memory).
    pub fn da_dati(dati: &Dati, limiti: Limiti) -> Result<Self, ErroreLettura> {
        limiti.controlla_tempo()?;
        let dati = dati.clone();
        let mut ingresso = apri_ingresso(&dati)?;
        let dimensione = ingresso
            .seek(SeekFrom::End(0))
            .map_err(|_| illeggibile_file())?;
        if dimensione > limiti.max_byte {
            return Err(ErroreLettura::Limite(format!(
                "il file è di {}: il massimo è {}",
                dimensione_leggibile(dimensione),
                dimensione_leggibile(limiti.max_byte)
            )));
        }
        ingresso
            .seek(SeekFrom::Start(0))
            .map_err(|_| illeggibile_file())?;
        let mut firma = [0u8; 4];
        let letti = leggi_fino_a(&mut ingresso, &mut firma).map_err(|_| illeggibile_file())?;
        if letti == 4 && firma == [0xD0, 0xCF, 0x11, 0xE0] {
            // An OLE compound file: an encrypted (password-protected) xlsx or an old .xls.
            return Err(ErroreLettura::Illeggibile(
                "il file non è un xlsx leggibile: è protetto da password oppure è nel vecchio formato .xls; \
                 salvalo come cartella di lavoro Excel (.xlsx) senza password"
                    .into(),
            ));
        }
        if letti < 4 || &firma[..2] != b"PK" {
            return Err(ErroreLettura::Illeggibile(
                "il file non è un xlsx valido: non è un archivio ZIP".into(),
            ));
        }
        ingresso
            .seek(SeekFrom::Start(0))
            .map_err(|_| illeggibile_file())?;

        let ingresso = controlla_archivio(ingresso, &limiti)?;

        let libro = match catch_unwind(AssertUnwindSafe(|| Xlsx::new(ingresso))) {
            Ok(Ok(libro)) => libro,
            Ok(Err(XlsxError::Password)) => {
                return Err(ErroreLettura::Illeggibile(
                    "il file xlsx è protetto da password: salvalo senza password e ricaricalo"
                        .into(),
                ));
            }
            Ok(Err(_)) | Err(_) => {
                return Err(ErroreLettura::Illeggibile(
                    "il file non è un xlsx valido oppure è danneggiato".into(),
                ));
            }
        };
        let fogli = libro
            .sheets_metadata()
            .iter()
            .filter(|s| s.typ == SheetType::WorkSheet)
            .map(|s| InfoTabella {
                nome: s.name.clone(),
                nascosta: !matches!(s.visible, SheetVisible::Visible),
            })
            .collect();
        let is_1904 = libro.has_1904_epoch();
        limiti.controlla_tempo()?;
        Ok(Self {
            libro,
            dati,
            limiti,
            fogli,
            is_1904,
        })
    }
}

impl Sorgente for LettoreXlsx {
    fn tabelle(&mut self) -> Result<Vec<InfoTabella>, ErroreLettura> {
        Ok(self.fogli.clone())
    }

    fn leggi(
        &mut self,
        tabella: &str,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<(), ErroreLettura> {
        self.limiti.controlla_tempo()?;
        if !self.fogli.iter().any(|f| f.nome == tabella) {
            return Err(ErroreLettura::Illeggibile(format!(
                "il foglio «{tabella}» non esiste nel file xlsx"
            )));
        }
        let libro = &mut self.libro;
        let mut lettore = match catch_unwind(AssertUnwindSafe(move || {
            let libro = libro;
            libro.worksheet_cells_reader(tabella)
        })) {
            Ok(Ok(lettore)) => lettore,
            Ok(Err(_)) | Err(_) => return Err(illeggibile_foglio(tabella)),
        };
        let mut ass = Assemblatore::new(tabella, &self.limiti, self.is_1904);

        let codice = match avanza(&mut lettore, None, &mut ass, visita)? {
            Esito::Fine | Esito::Fermato => return Ok(()),
            Esito::ServeTracciatore(codice) => codice,
        };

        // An error value calamine does not know: locate it (and every later cell) with a
        // position-only stream of the same part.
        let errore_sconosciuto = || {
            ErroreLettura::Illeggibile(format!(
                "il foglio «{tabella}» contiene il valore di errore «{}», che non è leggibile",
                tronca(&codice, 40)
            ))
        };
        let mut archivio =
            ZipArchive::new(apri_ingresso(&self.dati)?).map_err(|_| errore_sconosciuto())?;
        let percorso = percorso_foglio(&mut archivio, tabella)?.ok_or_else(errore_sconosciuto)?;
        let parte = archivio
            .by_name(&percorso)
            .map_err(|_| errore_sconosciuto())?;
        let mut tracciatore = Tracciatore::new(parte).map_err(|_| errore_sconosciuto())?;
        let pos = tracciatore
            .posizione(ass.indice)
            .map_err(|_| errore_sconosciuto())?;
        ass.indice += 1;
        if ass.cella(pos, Grezza::CodiceErrore(codice.clone()), visita)? == Continua::No {
            return Ok(());
        }
        match avanza(&mut lettore, Some(&mut tracciatore), &mut ass, visita)? {
            Esito::Fine | Esito::Fermato => Ok(()),
            // `avanza` with a tracker handles unknown error values itself.
            Esito::ServeTracciatore(_) => Err(illeggibile_foglio(tabella)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/// The archive as calamine and the `zip` crate read it.
type Ingresso = Box<dyn LeggiCerca>;

fn apri_ingresso(dati: &Dati) -> Result<Ingresso, ErroreLettura> {
    dati.apri()
        .map_err(|_| ErroreLettura::Illeggibile("il file xlsx non può essere aperto".into()))
}

fn leggi_fino_a(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut letti = 0;
    while letti < buf.len() {
        match r.read(&mut buf[letti..]) {
            Ok(0) => break,
            Ok(n) => letti += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(letti)
}

// ---------------------------------------------------------------------------------------------
// Archive checks (before anything is expanded)
// ---------------------------------------------------------------------------------------------

/// Checks every member of the archive against the limits and gives the input back, rewound.
fn controlla_archivio(ingresso: Ingresso, limiti: &Limiti) -> Result<Ingresso, ErroreLettura> {
    let mut archivio = match catch_unwind(AssertUnwindSafe(|| ZipArchive::new(ingresso))) {
        Ok(Ok(a)) => a,
        Ok(Err(_)) | Err(_) => {
            return Err(ErroreLettura::Illeggibile(
                "il file xlsx è danneggiato o incompleto: l'archivio ZIP non è leggibile".into(),
            ));
        }
    };
    let mut stringhe_condivise = Vec::new();
    for i in 0..archivio.len() {
        let voce = archivio.by_index_data(i).map_err(|_| illeggibile_file())?;
        let nome = String::from_utf8_lossy(voce.name_raw()).into_owned();
        let nome_normale = nome.replace('\\', "/").to_ascii_lowercase();
        let espanso = voce.size();
        let compresso = voce.compressed_size();
        if espanso > limiti.max_espanso {
            return Err(ErroreLettura::Limite(format!(
                "la parte «{}» del file xlsx espansa occupa {}: il massimo è {}",
                tronca(&nome, 80),
                dimensione_leggibile(espanso),
                dimensione_leggibile(limiti.max_espanso)
            )));
        }
        if espanso > SOGLIA_RAPPORTO {
            let rapporto = espanso / compresso.max(1);
            if rapporto > limiti.max_rapporto {
                return Err(ErroreLettura::Limite(format!(
                    "la parte «{}» del file xlsx ha un rapporto di compressione di {rapporto}:1: il massimo è {}:1",
                    tronca(&nome, 80),
                    limiti.max_rapporto
                )));
            }
        }
        if nome_normale.ends_with("sharedstrings.xml") {
            stringhe_condivise.push((i, espanso));
        }
        if nome_normale.ends_with("styles.xml") && espanso > MAX_STILI {
            return Err(ErroreLettura::Limite(format!(
                "gli stili del file xlsx occupano {}: il massimo è {}",
                dimensione_leggibile(espanso),
                dimensione_leggibile(MAX_STILI)
            )));
        }
    }
    for (i, espanso) in stringhe_condivise {
        misura_stringhe_condivise(&mut archivio, i, espanso, limiti)?;
    }
    let mut ingresso = archivio.into_inner();
    ingresso
        .seek(SeekFrom::Start(0))
        .map_err(|_| illeggibile_file())?;
    Ok(ingresso)
}

/// What the shared strings will occupy in memory once calamine has loaded them, in bytes, with
/// the per-string overhead: calamine keeps them as a `Vec<String>` (24 bytes per slot, reserved
/// up front for the declared `uniqueCount`) and each non-empty string is its own heap allocation
/// (the allocator rounds it up and adds its header: at least 32 bytes). Short strings therefore
/// cost far more than their text: 20 million one-letter strings (a 3.7 MB workbook) take over
/// 1 GB, although their XML is a few hundred MB and their text 20 MB.
///
/// The part is streamed once, before calamine reads it; the count stops with
/// [`ErroreLettura::Limite`] as soon as it passes [`Limiti::max_stringhe_condivise`], so a hostile
/// part costs a bounded read and no memory. Text is counted as written (entities not expanded,
/// blanks not trimmed), which can only overestimate what calamine keeps; a rich-text string
/// (several runs) is counted twice its length, for the doubling growth of calamine's buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MisuraStringhe {
    /// Slots the vector will hold: the declared `uniqueCount`, or the strings found if more.
    pub posti: u64,
    /// Strings found so far.
    pub stringhe: u64,
    /// Heap bytes of the strings themselves, with the allocator's rounding and header.
    pub byte_testo: u64,
}

impl MisuraStringhe {
    /// Bytes of one `String` in calamine's vector.
    pub const POSTO: u64 = std::mem::size_of::<String>() as u64;

    /// The heap block the allocator gives a string of `lunghezza` bytes: none when empty,
    /// otherwise the length plus an 8-byte header rounded up to 16, and at least 32 bytes
    /// (glibc's malloc; other allocators are in the same range).
    pub fn blocco(lunghezza: u64) -> u64 {
        if lunghezza == 0 {
            0
        } else {
            (lunghezza.saturating_add(8 + 15) / 16 * 16).max(32)
        }
    }

    /// Total bytes in memory.
    pub fn totale(&self) -> u64 {
        // A vector that outgrows its reservation doubles.
        let posti = if self.stringhe > self.posti {
            self.stringhe.next_power_of_two()
        } else {
            self.posti
        };
        posti
            .saturating_mul(Self::POSTO)
            .saturating_add(self.byte_testo)
    }
}

fn misura_stringhe_condivise(
    archivio: &mut ZipArchive<Ingresso>,
    indice: usize,
    espanso: u64,
    limiti: &Limiti,
) -> Result<MisuraStringhe, ErroreLettura> {
    let danneggiato = || {
        ErroreLettura::Illeggibile(
            "il file xlsx è danneggiato: l'elenco delle stringhe condivise non è coerente".into(),
        )
    };
    let troppe = |m: &MisuraStringhe| {
        ErroreLettura::Limite(format!(
            "le stringhe condivise del file xlsx ({} o più) occuperebbero in memoria più di {}: \
             il massimo è {}; riduca il numero di celle di testo diverse, oppure invii il flusso \
             come file .zip di CSV",
            formatta_migliaia(m.stringhe.max(m.posti)),
            dimensione_leggibile(m.totale()),
            dimensione_leggibile(limiti.max_stringhe_condivise)
        ))
    };
    let parte = match archivio.by_index(indice) {
        Ok(p) => p,
        // Unreadable: calamine will report it when opening.
        Err(_) => return Ok(MisuraStringhe::default()),
    };
    // The zip crate stops at the declared size, already checked against the limits.
    let mut xml = lettore_xml(parte);
    let mut buf = Vec::new();
    let mut m = MisuraStringhe::default();
    let mut letti_prologo = true;
    // Inside <si>: the text bytes of this string and its runs; inside <rPh> (phonetic hints,
    // which calamine skips); inside <t>.
    let (mut in_si, mut in_rph, mut in_t) = (false, false, false);
    let (mut lunghezza, mut ricco) = (0u64, false);
    loop {
        buf.clear();
        let evento = xml.read_event_into(&mut buf);
        if letti_prologo {
            match evento {
                Ok(Event::Start(e)) if e.local_name().as_ref() == "sst" => {
                    // calamine reserves room for `uniqueCount` strings up front: an absurd count
                    // would abort the process on allocation, so it must be plausible for the
                    // part's size.
                    let dichiarate = attributo(&e, "uniqueCount")
                        .as_deref()
                        .and_then(cifre_iniziali)
                        .unwrap_or(0);
                    if dichiarate > espanso / MIN_BYTE_PER_STRINGA + 1 {
                        return Err(danneggiato());
                    }
                    m.posti = dichiarate;
                    if m.totale() > limiti.max_stringhe_condivise {
                        return Err(troppe(&m));
                    }
                    letti_prologo = false;
                }
                // An empty table (`<sst/>`) or no table: nothing to hold.
                Ok(Event::Eof) => return Ok(m),
                Err(_) => return Err(danneggiato()),
                Ok(_) if xml.buffer_position() > MAX_PROLOGO_SST => return Err(danneggiato()),
                Ok(_) => {}
            }
            continue;
        }
        match evento {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "si" => {
                    (in_si, lunghezza, ricco) = (true, 0, false);
                }
                "r" if in_si => ricco = true,
                "rPh" if in_si => in_rph = true,
                "t" if in_si && !in_rph => in_t = true,
                _ => {}
            },
            Ok(Event::Text(t)) if in_t => lunghezza += t.len() as u64,
            Ok(Event::CData(t)) if in_t => lunghezza += t.len() as u64,
            Ok(Event::GeneralRef(r)) if in_t => lunghezza += r.len() as u64 + 2,
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "t" => in_t = false,
                "rPh" => in_rph = false,
                "si" if in_si => {
                    in_si = false;
                    m.stringhe += 1;
                    let tenuti = if ricco {
                        lunghezza.saturating_mul(2)
                    } else {
                        lunghezza
                    };
                    m.byte_testo = m.byte_testo.saturating_add(MisuraStringhe::blocco(tenuti));
                    if m.totale() > limiti.max_stringhe_condivise {
                        return Err(troppe(&m));
                    }
                    if m.stringhe.is_multiple_of(OGNI_CELLE * 64) {
                        limiti.controlla_tempo()?;
                    }
                }
                "sst" => return Ok(m),
                _ => {}
            },
            Ok(Event::Eof) => return Ok(m),
            // Malformed XML: calamine will refuse it when opening.
            Err(_) => return Ok(m),
            Ok(_) => {}
        }
    }
}

/// `20000000` as «20.000.000».
fn formatta_migliaia(n: u64) -> String {
    let cifre = n.to_string();
    let mut uscita = String::new();
    for (i, c) in cifre.chars().enumerate() {
        if i > 0 && (cifre.len() - i).is_multiple_of(3) {
            uscita.push('.');
        }
        uscita.push(c);
    }
    uscita
}

/// The leading decimal digits of `s` (after blanks and a `+`), saturating; `None` if none.
fn cifre_iniziali(s: &str) -> Option<u64> {
    let s = s.trim_start();
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut n: Option<u64> = None;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        n = Some(
            n.unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(u64::from(b - b'0')),
        );
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Streaming a sheet
// ---------------------------------------------------------------------------------------------

enum Esito {
    /// The sheet ended.
    Fine,
    /// The visitor asked to stop.
    Fermato,
    /// calamine failed on an error value it does not know (the code is given): the next cell
    /// index is the failing one.
    ServeTracciatore(String),
}

/// A cell as streamed, before conversion.
enum Grezza<'a> {
    Valore(DataRef<'a>),
    FormulaSenzaValore,
    /// An error value calamine does not know (`#SPILL!`, `#CALC!`, …).
    CodiceErrore(String),
}

impl Grezza<'_> {
    /// Blank: no value, or only white space (the engine trims).
    fn vuota(&self) -> bool {
        match self {
            Grezza::Valore(DataRef::Empty) => true,
            Grezza::Valore(DataRef::String(s)) => s.trim().is_empty(),
            Grezza::Valore(DataRef::SharedString(s)) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// Streams cells from calamine into the assembler until the sheet ends, the visitor stops, or
/// (without a tracker) an unknown error value needs one.
///
/// `next_cell_with_formula_metadata` is used rather than `next_cell_with_formula`: it tells
/// whether a cell holds a formula without expanding shared formulas, so calamine never grows
/// its table of shared formulas, which is indexed by the file's own `si` numbers (an absurd
/// `si` would allocate gigabytes).
///
/// After a `CellError` calamine's stream stays usable (the `<v>` text was consumed; the next
/// call skips the rest of that `<c>`), but its running column is not advanced, so from then
/// on positions come from the tracker. The test `errore_non_formula_e_codici_moderni` pins
/// this behaviour of calamine 0.38.
fn avanza<'a>(
    lettore: &mut XlsxCellReader<'a, Ingresso>,
    mut tracciatore: Option<&mut Tracciatore<'_>>,
    ass: &mut Assemblatore<'_>,
    visita: &mut dyn FnMut(Evento<'_>) -> Continua,
) -> Result<Esito, ErroreLettura> {
    loop {
        let letto = catch_unwind(AssertUnwindSafe(|| {
            lettore.next_cell_with_formula_metadata()
        }));
        let (pos, grezza) = match letto {
            Ok(Ok(Some(rec))) => {
                let grezza = if rec.formula.is_some() && rec.value == DataRef::Empty {
                    Grezza::FormulaSenzaValore
                } else {
                    Grezza::Valore(rec.value)
                };
                (Some(rec.pos), grezza)
            }
            Ok(Ok(None)) => {
                return Ok(match ass.fine(visita)? {
                    Continua::Si => Esito::Fine,
                    Continua::No => Esito::Fermato,
                });
            }
            Ok(Err(XlsxError::CellError(codice))) => {
                if tracciatore.is_none() {
                    return Ok(Esito::ServeTracciatore(codice));
                }
                (None, Grezza::CodiceErrore(codice))
            }
            Ok(Err(_)) | Err(_) => return Err(illeggibile_foglio(ass.foglio)),
        };
        let pos = match (tracciatore.as_deref_mut(), pos) {
            (Some(t), _) => t
                .posizione(ass.indice)
                .map_err(|_| illeggibile_foglio(ass.foglio))?,
            (None, Some(pos)) => pos,
            (None, None) => return Err(illeggibile_foglio(ass.foglio)),
        };
        ass.indice += 1;
        if ass.cella(pos, grezza, visita)? == Continua::No {
            return Ok(Esito::Fermato);
        }
    }
}

/// Assembles streamed cells into the header and positional rows.
struct Assemblatore<'l> {
    foglio: &'l str,
    limiti: &'l Limiti,
    is_1904: bool,
    /// Index, in document order, of the next `<c>` element.
    indice: u64,
    righe_emesse: u64,
    /// The row being assembled (0-based), if any.
    riga: Option<u32>,
    riga_non_vuota: bool,
    /// Header width, once the header has been emitted.
    larghezza: Option<usize>,
    /// Header phase: the cells seen so far (up to `max_colonne`); data phase: the current row.
    celle: Vec<Cella>,
    /// Data phase: the text buffers of the previous row's cells, by column, reused for the
    /// next row's texts (no allocation per cell).
    riserva: Vec<String>,
    /// Header phase: the last non-blank column within `max_colonne`.
    ultima_intestazione: Option<u32>,
    /// Header phase: the farthest non-blank column at or beyond `max_colonne`.
    oltre_limite: Option<u32>,
}

impl<'l> Assemblatore<'l> {
    fn new(foglio: &'l str, limiti: &'l Limiti, is_1904: bool) -> Self {
        Self {
            foglio,
            limiti,
            is_1904,
            indice: 0,
            righe_emesse: 0,
            riga: None,
            riga_non_vuota: false,
            larghezza: None,
            celle: Vec::new(),
            riserva: Vec::new(),
            ultima_intestazione: None,
            oltre_limite: None,
        }
    }

    fn cella(
        &mut self,
        (riga, colonna): (u32, u32),
        grezza: Grezza<'_>,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<Continua, ErroreLettura> {
        if self.indice.is_multiple_of(OGNI_CELLE) {
            self.limiti.controlla_tempo()?;
        }
        if self.riga != Some(riga) {
            if self.chiudi_riga(visita)? == Continua::No {
                return Ok(Continua::No);
            }
            self.riga = Some(riga);
            if let Some(larghezza) = self.larghezza {
                self.riserva.resize_with(larghezza, String::new);
                for (c, r) in self.celle.iter_mut().zip(self.riserva.iter_mut()) {
                    if let Cella::Testo(s) = std::mem::replace(c, Cella::Vuota) {
                        *r = s;
                    }
                }
                self.celle.resize(larghezza, Cella::Vuota);
            }
        }
        // A blank cell (white space only) is kept as written but does not make its row data.
        let vuota = grezza.vuota();
        self.riga_non_vuota |= !vuota;
        if matches!(grezza, Grezza::Valore(DataRef::Empty)) {
            return Ok(Continua::Si);
        }
        let col = colonna as usize;
        match self.larghezza {
            Some(larghezza) => {
                // Cells beyond the header are dropped (the row still counts as data).
                if col < larghezza {
                    let buffer = std::mem::take(&mut self.riserva[col]);
                    self.celle[col] = self.converti(grezza, riga, colonna, buffer)?;
                }
            }
            None => {
                if col < self.limiti.max_colonne {
                    if self.celle.len() <= col {
                        self.celle.resize(col + 1, Cella::Vuota);
                    }
                    self.celle[col] = self.converti(grezza, riga, colonna, String::new())?;
                    if !vuota {
                        self.ultima_intestazione = self.ultima_intestazione.max(Some(colonna));
                    }
                } else if !vuota {
                    self.oltre_limite = self.oltre_limite.max(Some(colonna));
                }
            }
        }
        Ok(Continua::Si)
    }

    /// Emits the row being assembled, if it is not blank.
    fn chiudi_riga(
        &mut self,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<Continua, ErroreLettura> {
        let Some(riga) = self.riga else {
            return Ok(Continua::Si);
        };
        let non_vuota = std::mem::take(&mut self.riga_non_vuota);
        if self.larghezza.is_some() {
            if !non_vuota {
                return Ok(Continua::Si);
            }
            self.righe_emesse += 1;
            if self.righe_emesse.is_multiple_of(OGNI_RIGHE) {
                self.limiti.controlla_tempo()?;
            }
            return Ok(visita(Evento::Riga {
                numero: u64::from(riga) + 1,
                celle: &self.celle,
            }));
        }
        if !non_vuota {
            // Blank rows before the header.
            self.celle.clear();
            return Ok(Continua::Si);
        }
        if let Some(oltre) = self.oltre_limite {
            return Err(ErroreLettura::Limite(format!(
                "il foglio «{}» ha {} colonne: il massimo è {}",
                self.foglio,
                u64::from(oltre) + 1,
                self.limiti.max_colonne
            )));
        }
        let larghezza = self.ultima_intestazione.map_or(0, |c| c as usize + 1);
        self.celle.truncate(larghezza);
        self.larghezza = Some(larghezza);
        Ok(visita(Evento::Intestazione(&self.celle)))
    }

    fn fine(
        &mut self,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<Continua, ErroreLettura> {
        let esito = self.chiudi_riga(visita)?;
        self.riga = None;
        Ok(esito)
    }

    fn converti(
        &self,
        grezza: Grezza<'_>,
        riga: u32,
        colonna: u32,
        mut buffer: String,
    ) -> Result<Cella, ErroreLettura> {
        let testo = |s: &str| -> Result<(), ErroreLettura> {
            if s.len() > self.limiti.max_cella {
                return Err(ErroreLettura::Limite(format!(
                    "la cella {} del foglio «{}» contiene {} byte: il massimo è {}",
                    riferimento(riga, colonna),
                    self.foglio,
                    s.len(),
                    self.limiti.max_cella
                )));
            }
            Ok(())
        };
        Ok(match grezza {
            Grezza::FormulaSenzaValore => Cella::Errore(FORMULA_SENZA_VALORE.into()),
            Grezza::CodiceErrore(codice) => {
                testo(&codice)?;
                Cella::Errore(codice)
            }
            Grezza::Valore(valore) => match valore {
                DataRef::Empty => Cella::Vuota,
                DataRef::String(s) => {
                    testo(&s)?;
                    if s.is_empty() {
                        Cella::Vuota
                    } else {
                        Cella::Testo(s)
                    }
                }
                DataRef::SharedString(s) => {
                    testo(s)?;
                    if s.is_empty() {
                        Cella::Vuota
                    } else {
                        buffer.clear();
                        buffer.push_str(s);
                        Cella::Testo(buffer)
                    }
                }
                DataRef::Float(f) => numero(f),
                DataRef::Int(i) => numero(i as f64),
                DataRef::Bool(b) => Cella::Booleano(b),
                DataRef::DateTime(dt) => {
                    if dt.is_datetime() {
                        match seriale_in_data(dt.as_f64(), self.is_1904) {
                            Some(d) => Cella::Data(d),
                            None => Cella::Errore("data non valida".into()),
                        }
                    } else {
                        // A duration (`[h]:mm` formats): not a date; its serial value.
                        numero(dt.as_f64())
                    }
                }
                DataRef::DateTimeIso(s) => {
                    testo(&s)?;
                    match data_iso(&s) {
                        Some(d) => Cella::Data(d),
                        None => Cella::Errore(format!("data non valida «{}»", tronca(&s, 40))),
                    }
                }
                DataRef::DurationIso(s) => {
                    testo(&s)?;
                    Cella::Testo(s)
                }
                DataRef::Error(e) => Cella::Errore(e.to_string()),
            },
        })
    }
}

fn numero(f: f64) -> Cella {
    if f.is_finite() {
        Cella::Numero(f)
    } else {
        Cella::Errore("numero non valido".into())
    }
}

/// An Excel serial date (days since the epoch, fraction = time of day) as a date-time, to the
/// millisecond. `None` outside Excel's range (0 to 9999-12-31).
fn seriale_in_data(seriale: f64, is_1904: bool) -> Option<NaiveDateTime> {
    if !seriale.is_finite() || seriale < 0.0 {
        return None;
    }
    let giorni = if is_1904 { seriale + 1462.0 } else { seriale };
    if giorni >= 2_958_466.0 {
        return None;
    }
    // Excel counts a 29 February 1900 that never was: serials before it are one day off.
    let giorni = if giorni < 60.0 { giorni + 1.0 } else { giorni };
    let epoca = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(NaiveTime::MIN);
    let ms = (giorni * 86_400_000.0).round() as i64;
    epoca.checked_add_signed(TimeDelta::try_milliseconds(ms)?)
}

/// An ISO 8601 date, date-time or time (`t="d"` cells); a time alone falls on the serial-0 day.
fn data_iso(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let s = s.strip_suffix('Z').unwrap_or(s);
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(dt);
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Some(dt);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_time(NaiveTime::MIN));
    }
    if let Ok(t) = NaiveTime::parse_from_str(s, "%H:%M:%S%.f") {
        return Some(NaiveDate::from_ymd_opt(1899, 12, 31)?.and_time(t));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Position-only stream (for error values calamine does not know)
// ---------------------------------------------------------------------------------------------

type LettoreParte<'z> = quick_xml::Reader<BufReader<zip::read::ZipFile<'z, Ingresso>>>;

fn lettore_xml<R: Read>(r: R) -> quick_xml::Reader<BufReader<R>> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(r));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.expand_empty_elements = true;
    config.trim_text(false);
    xml
}

/// Walks the `<c>` elements of a sheet part and tells their positions with the same rules as
/// calamine's cell reader (the `r` attributes, or the running row and column).
struct Tracciatore<'z> {
    xml: LettoreParte<'z>,
    buf: Vec<u8>,
    riga: u32,
    colonna: u32,
    /// How many `<c>` elements have been passed.
    contate: u64,
    ultima: (u32, u32),
}

#[derive(Debug)]
struct ErroreTraccia;

impl<'z> Tracciatore<'z> {
    fn new(parte: zip::read::ZipFile<'z, Ingresso>) -> Result<Self, ErroreTraccia> {
        let mut xml = lettore_xml(parte);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf).map_err(|_| ErroreTraccia)? {
                Event::Start(e) if e.local_name().as_ref() == "sheetData" => break,
                Event::Eof => return Err(ErroreTraccia),
                _ => {}
            }
        }
        Ok(Self {
            xml,
            buf,
            riga: 0,
            colonna: 0,
            contate: 0,
            ultima: (0, 0),
        })
    }

    /// The position of the `<c>` element with this index (0-based, document order). Indexes
    /// must not decrease between calls.
    fn posizione(&mut self, indice: u64) -> Result<(u32, u32), ErroreTraccia> {
        while self.contate <= indice {
            self.ultima = self.prossima()?;
            self.contate += 1;
        }
        if self.contate == indice + 1 {
            Ok(self.ultima)
        } else {
            Err(ErroreTraccia)
        }
    }

    fn prossima(&mut self) -> Result<(u32, u32), ErroreTraccia> {
        loop {
            self.buf.clear();
            match self
                .xml
                .read_event_into(&mut self.buf)
                .map_err(|_| ErroreTraccia)?
            {
                Event::Start(e) if e.local_name().as_ref() == "row" => {
                    if let Some(r) = attributo(&e, "r") {
                        self.riga = riga_colonna(&r).ok_or(ErroreTraccia)?.0;
                    }
                }
                Event::End(e) if e.local_name().as_ref() == "row" => {
                    self.riga = self.riga.wrapping_add(1);
                    self.colonna = 0;
                }
                Event::Start(e) if e.local_name().as_ref() == "c" => {
                    let pos = match attributo(&e, "r") {
                        Some(r) => match riga_colonna(&r) {
                            Some((riga, Some(col))) => {
                                self.colonna = col;
                                (riga, col)
                            }
                            _ => return Err(ErroreTraccia),
                        },
                        None => (self.riga, self.colonna),
                    };
                    self.colonna = self.colonna.wrapping_add(1);
                    return Ok(pos);
                }
                Event::End(e) if e.local_name().as_ref() == "sheetData" => {
                    return Err(ErroreTraccia);
                }
                Event::Eof => return Err(ErroreTraccia),
                _ => {}
            }
        }
    }
}

/// An `A1` reference (or a bare row number) as 0-based `(row, column)`.
fn riga_colonna(r: &str) -> Option<(u32, Option<u32>)> {
    let mut col: u32 = 0;
    let mut riga: u32 = 0;
    let mut cifre = false;
    for b in r.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' if !cifre => {
                col = col
                    .checked_mul(26)?
                    .checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)?;
            }
            b'0'..=b'9' => {
                cifre = true;
                riga = riga.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
            }
            _ => return None,
        }
    }
    Some((riga.checked_sub(1)?, col.checked_sub(1)))
}

/// An attribute's value by local name, unescaped.
fn attributo(e: &BytesStart<'_>, nome: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == nome)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The ZIP path of a worksheet part, resolved as calamine does: package relationships →
/// workbook part → its relationships → the `<sheet>` with this name.
fn percorso_foglio(
    archivio: &mut ZipArchive<Ingresso>,
    foglio: &str,
) -> Result<Option<String>, ErroreLettura> {
    let Some(documento) = relazioni(archivio, "_rels/.rels")?
        .into_iter()
        .find(|(_, (tipo, _))| tipo.ends_with("/relationships/officeDocument"))
        .map(|(_, (_, destinazione))| destinazione)
    else {
        return Ok(None);
    };
    let documento = documento
        .strip_prefix('/')
        .unwrap_or(&documento)
        .to_string();
    let (cartella, nome_libro) = match documento.rfind('/') {
        Some(i) => documento.split_at(i + 1),
        None => ("", documento.as_str()),
    };
    let relazioni_libro = relazioni(archivio, &format!("{cartella}_rels/{nome_libro}.rels"))?;
    let Some(parte) = trova_parte(archivio, &format!("{cartella}{nome_libro}")) else {
        return Ok(None);
    };
    let Ok(file) = archivio.by_name(&parte) else {
        return Ok(None);
    };
    let mut xml = lettore_xml(file.take(MAX_RELAZIONI));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "sheet" => {
                if attributo(&e, "name").as_deref() != Some(foglio) {
                    continue;
                }
                let Some((_, destinazione)) =
                    attributo(&e, "id").and_then(|id| relazioni_libro.get(&id))
                else {
                    return Ok(None);
                };
                let percorso = match destinazione.strip_prefix('/') {
                    Some(assoluto) => assoluto.to_string(),
                    None => format!("{cartella}{destinazione}"),
                };
                drop(xml);
                return Ok(trova_parte(archivio, &percorso));
            }
            Ok(Event::Eof) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
}

/// A relationships part: id → (type, target).
fn relazioni(
    archivio: &mut ZipArchive<Ingresso>,
    percorso: &str,
) -> Result<HashMap<String, (String, String)>, ErroreLettura> {
    let mut mappa = HashMap::new();
    let Some(parte) = trova_parte(archivio, percorso) else {
        return Ok(mappa);
    };
    let Ok(file) = archivio.by_name(&parte) else {
        return Ok(mappa);
    };
    let mut xml = lettore_xml(file.take(MAX_RELAZIONI));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "Relationship" => {
                if let Some(id) = attributo(&e, "Id") {
                    let tipo = attributo(&e, "Type").unwrap_or_default();
                    let destinazione = attributo(&e, "Target").unwrap_or_default();
                    mappa.insert(id, (tipo, destinazione));
                }
            }
            Ok(Event::Eof) | Err(_) => return Ok(mappa),
            Ok(_) => {}
        }
    }
}

/// A member's real name, matched case-insensitively and with either slash, as calamine does.
fn trova_parte(archivio: &ZipArchive<Ingresso>, percorso: &str) -> Option<String> {
    let cercato = percorso.replace('\\', "/").to_ascii_lowercase();
    archivio
        .file_names()
        .flatten()
        .find(|n| n.replace('\\', "/").to_ascii_lowercase() == cercato)
        .map(|n| n.into_owned())
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

fn illeggibile_file() -> ErroreLettura {
    ErroreLettura::Illeggibile("il file xlsx è danneggiato o incompleto".into())
}

fn illeggibile_foglio(foglio: &str) -> ErroreLettura {
    ErroreLettura::Illeggibile(format!(
        "il foglio «{foglio}» non è leggibile: il file xlsx è danneggiato o incompleto"
    ))
}

/// A cell reference as Excel shows it (`B7`), from 0-based coordinates.
fn riferimento(riga: u32, colonna: u32) -> String {
    let mut lettere = Vec::new();
    let mut n = u64::from(colonna) + 1;
    while n > 0 {
        let resto = ((n - 1) % 26) as u8;
        lettere.push(char::from(b'A' + resto));
        n = (n - 1) / 26;
    }
    lettere.iter().rev().collect::<String>() + &(u64::from(riga) + 1).to_string()
}

/// A size for a message: `512 byte`, `3,4 KB`, `200 MB`, `2 GB`.
fn dimensione_leggibile(n: u64) -> String {
    const UNITA: [(u64, &str); 3] = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")];
    for (quanto, nome) in UNITA {
        if n >= quanto {
            let decimi = (n as f64 / quanto as f64 * 10.0).round() as u64;
            return if decimi.is_multiple_of(10) {
                format!("{} {nome}", decimi / 10)
            } else {
                format!("{},{} {nome}", decimi / 10, decimi % 10)
            };
        }
    }
    format!("{n} byte")
}

/// At most `max` characters of `s`, with `…` when cut.
fn tronca(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn riferimenti() {
        assert_eq!(riferimento(0, 0), "A1");
        assert_eq!(riferimento(6, 1), "B7");
        assert_eq!(riferimento(0, 25), "Z1");
        assert_eq!(riferimento(0, 26), "AA1");
        assert_eq!(riferimento(9, 16_383), "XFD10");
        assert_eq!(riga_colonna("XFD10"), Some((9, Some(16_383))));
        assert_eq!(riga_colonna("7"), Some((6, None)));
        assert_eq!(riga_colonna("ZZZZZZZZZZ1"), None);
        assert_eq!(riga_colonna("A99999999999"), None);
        assert_eq!(riga_colonna("A0"), None);
    }

    #[test]
    fn date_seriali() {
        let d = |y, m, g| NaiveDate::from_ymd_opt(y, m, g).map(|d| d.and_time(NaiveTime::MIN));
        assert_eq!(seriale_in_data(1.0, false), d(1900, 1, 1));
        assert_eq!(seriale_in_data(59.0, false), d(1900, 2, 28));
        assert_eq!(seriale_in_data(61.0, false), d(1900, 3, 1));
        assert_eq!(seriale_in_data(45_000.0, false), d(2023, 3, 15));
        assert_eq!(seriale_in_data(0.0, true), d(1904, 1, 1));
        assert_eq!(
            seriale_in_data(45_000.5, false),
            NaiveDate::from_ymd_opt(2023, 3, 15).and_then(|d| d.and_hms_opt(12, 0, 0))
        );
        assert_eq!(seriale_in_data(-1.0, false), None);
        assert_eq!(seriale_in_data(f64::NAN, false), None);
        assert_eq!(seriale_in_data(1e300, false), None);
        assert_eq!(
            seriale_in_data(2_958_465.9, false).map(|d| d.date()),
            NaiveDate::from_ymd_opt(9999, 12, 31)
        );
    }

    #[test]
    fn date_iso() {
        assert_eq!(
            data_iso("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29).map(|d| d.and_time(NaiveTime::MIN))
        );
        assert_eq!(
            data_iso("2024-02-29T10:20:30.5Z"),
            NaiveDate::from_ymd_opt(2024, 2, 29).and_then(|d| d.and_hms_milli_opt(10, 20, 30, 500))
        );
        assert_eq!(data_iso("2023-02-30"), None);
    }

    #[test]
    fn dimensioni_e_cifre() {
        assert_eq!(dimensione_leggibile(512), "512 byte");
        assert_eq!(dimensione_leggibile(200 * 1024 * 1024), "200 MB");
        assert_eq!(dimensione_leggibile(1536), "1,5 KB");
        assert_eq!(cifre_iniziali(" +0042"), Some(42));
        assert_eq!(cifre_iniziali("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(cifre_iniziali("abc"), None);
        assert_eq!(tronca("abcdef", 3), "abc…");
    }

    #[test]
    fn lettore_e_send() {
        fn send<T: Send>() {}
        send::<LettoreXlsx>();
    }
}
