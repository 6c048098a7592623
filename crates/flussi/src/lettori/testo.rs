//! CSV files: a single CSV, or a ZIP of `<table>.csv` files. UTF-8 with or without BOM;
//! separator `;` or `,` detected per file from its header; quoted fields with separators and
//! newlines; CRLF. ZIP members are checked against the expansion limits before and while reading.

use std::io::Read;

use super::dati::Dati;
use super::{Cella, Continua, ErroreLettura, Evento, InfoTabella, Limiti, Sorgente};

/// Streams one CSV from a reader.
pub fn leggi_csv(
    lettore: impl Read,
    limiti: &Limiti,
    visita: &mut dyn FnMut(Evento<'_>) -> Continua,
) -> Result<(), ErroreLettura> {
    let mut lettore = lettore;
    // Peek the beginning to detect the separator, then chain it back in front.
    let mut testa = vec![0u8; 64 * 1024];
    let mut letti = 0;
    while letti < testa.len() {
        match lettore.read(&mut testa[letti..]) {
            Ok(0) => break,
            Ok(n) => letti += n,
            Err(e) => return Err(errore_io(e)),
        }
    }
    testa.truncate(letti);
    let senza_bom = testa
        .strip_prefix(b"\xEF\xBB\xBF")
        .map(<[u8]>::to_vec)
        .unwrap_or_else(|| testa.clone());
    let separatore = rileva_separatore(&senza_bom);
    // Blank lines are rows a spreadsheet would show, but the csv crate skips them: the adapter
    // turns each into a line with one separator, read as an empty row and counted.
    let sorgente = RigheVuote::new(std::io::Cursor::new(senza_bom).chain(lettore), separatore);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(separatore)
        .has_headers(false)
        .flexible(true)
        .from_reader(sorgente);
    let mut rec = csv::ByteRecord::new();
    let mut larghezza = 0usize;
    let mut numero = 0u64;
    let mut celle: Vec<Cella> = Vec::new();
    loop {
        match r.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(errore_csv(e, numero + 1)),
        }
        numero += 1;
        if numero.is_multiple_of(1024) {
            limiti.controlla_tempo()?;
        }
        // The cells of the previous row are overwritten in place: a text cell keeps its buffer,
        // so a row costs no allocation once the first rows have been read.
        let mut n = 0;
        for campo in rec.iter() {
            if campo.len() > limiti.max_cella {
                return Err(ErroreLettura::Limite(format!(
                    "la riga {numero} contiene un valore di {} byte: il massimo è {}",
                    campo.len(),
                    limiti.max_cella
                )));
            }
            let s = std::str::from_utf8(campo).map_err(|_| {
                ErroreLettura::Codifica(format!(
                    "alla riga {numero} il testo non è in UTF-8: salvi il file come «CSV UTF-8»"
                ))
            })?;
            let vuota = s.trim().is_empty();
            match celle.get_mut(n) {
                Some(Cella::Testo(b)) if !vuota => {
                    b.clear();
                    b.push_str(s);
                }
                Some(c) => {
                    *c = if vuota {
                        Cella::Vuota
                    } else {
                        Cella::Testo(s.to_owned())
                    }
                }
                None => celle.push(if vuota {
                    Cella::Vuota
                } else {
                    Cella::Testo(s.to_owned())
                }),
            }
            n += 1;
        }
        celle.truncate(n);
        if larghezza == 0 {
            if celle.iter().all(|c| *c == Cella::Vuota) {
                numero -= 1;
                continue;
            }
            if celle.len() > limiti.max_colonne {
                return Err(ErroreLettura::Limite(format!(
                    "l'intestazione ha {} colonne: il massimo è {}",
                    celle.len(),
                    limiti.max_colonne
                )));
            }
            larghezza = celle.len();
            if visita(Evento::Intestazione(&celle)) == Continua::No {
                return Ok(());
            }
            continue;
        }
        if celle.iter().all(|c| *c == Cella::Vuota) {
            // Blank lines (or only separators) are not data.
            continue;
        }
        let ev = if celle.len() != larghezza {
            Evento::RigaMalformata {
                numero,
                trovati: celle.len(),
                attesi: larghezza,
            }
        } else {
            Evento::Riga {
                numero,
                celle: &celle,
            }
        };
        if visita(ev) == Continua::No {
            break;
        }
    }
    Ok(())
}

/// Inserts a separator into blank lines (outside quoted fields), so that they are read as empty
/// records instead of being skipped.
struct RigheVuote<R> {
    r: R,
    separatore: u8,
    dentro_virgolette: bool,
    inizio_riga: bool,
    buf: Vec<u8>,
    pos: usize,
    /// The bytes as read, before [`RigheVuote::trasforma`] (kept to reuse its allocation).
    grezzo: Vec<u8>,
}

impl<R: Read> RigheVuote<R> {
    fn new(r: R, separatore: u8) -> Self {
        Self {
            r,
            separatore,
            dentro_virgolette: false,
            inizio_riga: true,
            buf: Vec::new(),
            pos: 0,
            grezzo: Vec::new(),
        }
    }
}

impl<R: Read> RigheVuote<R> {
    /// Copies `g` into `buf`, inserting a separator before each line break that starts a line
    /// outside quotes. Only quotes and line breaks change the state, so the bytes between them
    /// are found with `memchr` and copied in bulk.
    fn trasforma(&mut self, g: &[u8]) {
        let mut i = 0;
        while i < g.len() {
            if self.dentro_virgolette {
                match memchr::memchr(b'"', &g[i..]) {
                    Some(k) => {
                        self.buf.extend_from_slice(&g[i..=i + k]);
                        i += k + 1;
                        self.dentro_virgolette = false;
                        self.inizio_riga = false;
                    }
                    None => {
                        self.buf.extend_from_slice(&g[i..]);
                        i = g.len();
                    }
                }
                continue;
            }
            let k = memchr::memchr3(b'"', b'\n', b'\r', &g[i..]).unwrap_or(g.len() - i);
            if k > 0 {
                self.buf.extend_from_slice(&g[i..i + k]);
                self.inizio_riga = false;
                i += k;
                continue;
            }
            let b = g[i];
            match b {
                b'"' => self.dentro_virgolette = true,
                b'\n' => {
                    if self.inizio_riga {
                        self.buf.push(self.separatore);
                    }
                    self.inizio_riga = true;
                }
                _ => {
                    if self.inizio_riga {
                        self.buf.push(self.separatore);
                        self.inizio_riga = false;
                    }
                }
            }
            self.buf.push(b);
            i += 1;
        }
    }
}

impl<R: Read> Read for RigheVuote<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.buf.len() {
            let mut grezzo = std::mem::take(&mut self.grezzo);
            grezzo.resize(64 * 1024, 0);
            let n = self.r.read(&mut grezzo)?;
            if n == 0 {
                self.grezzo = grezzo;
                return Ok(0);
            }
            self.buf.clear();
            self.pos = 0;
            self.trasforma(&grezzo[..n]);
            self.grezzo = grezzo;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// `;` or `,`: whichever appears more often outside quotes in the first line.
pub fn rileva_separatore(b: &[u8]) -> u8 {
    let (mut pv, mut v, mut tra_virgolette) = (0usize, 0usize, false);
    for &c in b {
        match c {
            b'"' => tra_virgolette = !tra_virgolette,
            b'\n' if !tra_virgolette => break,
            b';' if !tra_virgolette => pv += 1,
            b',' if !tra_virgolette => v += 1,
            _ => {}
        }
    }
    if v > pv { b',' } else { b';' }
}

fn errore_io(e: std::io::Error) -> ErroreLettura {
    match e.kind() {
        std::io::ErrorKind::Other if e.to_string().contains("limite") => {
            ErroreLettura::Limite(e.to_string())
        }
        _ => ErroreLettura::Illeggibile(format!("il file non si legge: {e}")),
    }
}

fn errore_csv(e: csv::Error, riga: u64) -> ErroreLettura {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.to_string().contains("limite") => {
            ErroreLettura::Limite(io.to_string())
        }
        csv::ErrorKind::Io(io) => ErroreLettura::Illeggibile(format!(
            "il file è danneggiato o incompleto (riga {riga}): {io}"
        )),
        _ => ErroreLettura::Illeggibile(format!("il file CSV non si legge alla riga {riga}")),
    }
}

/// A single CSV file holding one table.
pub struct CsvSingolo {
    dati: Dati,
    tabella: String,
    limiti: Limiti,
}

impl CsvSingolo {
    pub fn new(dati: Dati, tabella: &str, limiti: Limiti) -> Self {
        Self {
            dati,
            tabella: tabella.to_string(),
            limiti,
        }
    }
}

impl Sorgente for CsvSingolo {
    fn tabelle(&mut self) -> Result<Vec<InfoTabella>, ErroreLettura> {
        Ok(vec![InfoTabella {
            nome: self.tabella.clone(),
            nascosta: false,
        }])
    }
    fn leggi(
        &mut self,
        _tabella: &str,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<(), ErroreLettura> {
        let f = self.dati.apri().map_err(errore_io)?;
        leggi_csv(f, &self.limiti, visita)
    }
}

/// A ZIP of CSV files, one per table.
pub struct ZipCsv {
    archivio: zip::ZipArchive<Box<dyn super::dati::LeggiCerca>>,
    limiti: Limiti,
    /// (table name as found, member index)
    membri: Vec<(String, usize)>,
}

/// Reads at most `max` bytes, then fails with a limit error (declared sizes may lie).
struct Limitato<R> {
    r: R,
    resto: u64,
    max: u64,
}
impl<R: Read> Read for Limitato<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.r.read(buf)?;
        if n as u64 > self.resto {
            return Err(std::io::Error::other(format!(
                "limite: l'archivio si espande oltre {} byte",
                self.max
            )));
        }
        self.resto -= n as u64;
        Ok(n)
    }
}

impl ZipCsv {
    pub fn new(dati: &Dati, limiti: Limiti) -> Result<Self, ErroreLettura> {
        let f = dati.apri().map_err(errore_io)?;
        let mut archivio = zip::ZipArchive::new(f).map_err(|e| {
            ErroreLettura::Illeggibile(format!("il file ZIP è danneggiato o incompleto ({e})"))
        })?;
        let mut membri = Vec::new();
        let mut totale = 0u64;
        for i in 0..archivio.len() {
            let m = archivio.by_index_raw(i).map_err(|e| {
                ErroreLettura::Illeggibile(format!("il file ZIP è danneggiato ({e})"))
            })?;
            if m.is_dir() {
                continue;
            }
            let completo = m.name().map(|n| n.to_string()).unwrap_or_default();
            let nome = completo.rsplit('/').next().unwrap_or_default().to_string();
            if nome.is_empty() || nome.starts_with('.') || completo.starts_with("__MACOSX") {
                continue;
            }
            let espanso = m.size();
            if let Some(rapporto) = rapporto_eccessivo(espanso, m.compressed_size(), &limiti) {
                return Err(ErroreLettura::Limite(format!(
                    "il file «{nome}» nell'archivio si espande {rapporto} volte: il massimo consentito è {} (possibile «zip bomb»)",
                    limiti.max_rapporto
                )));
            }
            totale += espanso;
            if totale > limiti.max_espanso {
                return Err(ErroreLettura::Limite(format!(
                    "l'archivio si espande oltre {} byte",
                    limiti.max_espanso
                )));
            }
            let stem = nome
                .strip_suffix(".csv")
                .or_else(|| nome.strip_suffix(".CSV"))
                .map(str::to_string)
                .unwrap_or(nome);
            membri.push((stem, i));
        }
        Ok(Self {
            archivio,
            limiti,
            membri,
        })
    }
}

impl Sorgente for ZipCsv {
    fn tabelle(&mut self) -> Result<Vec<InfoTabella>, ErroreLettura> {
        Ok(self
            .membri
            .iter()
            .map(|(n, _)| InfoTabella {
                nome: n.clone(),
                nascosta: false,
            })
            .collect())
    }

    fn leggi(
        &mut self,
        tabella: &str,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<(), ErroreLettura> {
        let Some(&(_, i)) = self.membri.iter().find(|(n, _)| n == tabella) else {
            return Err(ErroreLettura::Illeggibile(format!(
                "la tabella {tabella} non è nell'archivio"
            )));
        };
        let m = self.archivio.by_index(i).map_err(|e| {
            ErroreLettura::Illeggibile(format!(
                "il file «{tabella}.csv» nell'archivio è danneggiato ({e})"
            ))
        })?;
        let max = self.limiti.max_espanso;
        leggi_csv(
            Limitato {
                r: m,
                resto: max,
                max,
            },
            &self.limiti,
            visita,
        )
    }
}

/// The expansion ratio of a ZIP member when it passes [`Limiti::max_rapporto`] (zip bombs).
/// Members under 1 MiB expanded are not judged by ratio: small repetitive files compress very
/// well and are harmless.
pub(crate) fn rapporto_eccessivo(espanso: u64, compresso: u64, limiti: &Limiti) -> Option<u64> {
    let rapporto = espanso / compresso.max(1);
    (rapporto > limiti.max_rapporto && espanso > 1024 * 1024).then_some(rapporto)
}

/// True when the bytes look like a ZIP archive.
pub fn e_zip(inizio: &[u8]) -> bool {
    inizio.starts_with(b"PK\x03\x04") || inizio.starts_with(b"PK\x05\x06")
}

/// Whether a ZIP is an XLSX workbook (it has the workbook part).
pub fn e_xlsx(dati: &Dati) -> bool {
    dati.apri()
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|mut z| z.by_name("xl/workbook.xml").is_ok())
}

#[cfg(test)]
mod test {
    use super::*;

    /// The adapter as it was, one byte at a time: the reference for the bulk version.
    fn riferimento(ingresso: &[u8], separatore: u8) -> Vec<u8> {
        let (mut dentro, mut inizio, mut out) = (false, true, Vec::new());
        for &b in ingresso {
            if !dentro && inizio && (b == b'\n' || b == b'\r') {
                out.push(separatore);
                inizio = false;
            }
            if b == b'"' {
                dentro = !dentro;
            }
            out.push(b);
            if !dentro {
                if b == b'\n' {
                    inizio = true;
                } else if b != b'\r' {
                    inizio = false;
                }
            }
        }
        out
    }

    /// Hands out at most `passo` bytes per read, to cross every boundary.
    struct APezzi<'a>(&'a [u8], usize);
    impl Read for APezzi<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn righe_vuote_come_byte_per_byte() {
        let casi: [&[u8]; 6] = [
            b"a;b\n\n1;2\r\n\r\n\"x\n\ny\";3\n\"\"\"q\"\"\";4\n",
            b"\n\n\r\r\na;\"b\r\n\"\n",
            b"\"aperta\n\nmai chiusa",
            b"a,b\r\n,\r\n\"\",\"\"\r\n\r\n",
            b"",
            b"x",
        ];
        for caso in casi {
            for passo in [1, 2, 3, 7, 64 * 1024] {
                let mut r = RigheVuote::new(APezzi(caso, passo), b';');
                let mut out = Vec::new();
                let mut buf = [0u8; 5];
                loop {
                    let n = r.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                assert_eq!(out, riferimento(caso, b';'), "caso {caso:?}, passo {passo}");
            }
        }
    }
}
