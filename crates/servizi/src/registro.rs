//! The shared registers, from the service side: how a valid flow's rows become canonical
//! records (the "staging" file written while validating), how they are compared with an
//! entity's current register (the difference shown to the reviewer), how they are merged on
//! acceptance, and the in-platform checks `catasto_conteso`, `cup_conteso` and `rimozione`.
//!
//! Generic over the domain: the tables, keys and fields come from the spec (`flussi::spec`);
//! only the cadastral key of `unita` is specific to `patrimonio`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The fewest characters a register search takes (trigram indexes cannot narrow a shorter one).
pub use archivio::RICERCA_MINIMA;
pub use archivio::{FiltroRegistro, NuovaVersione, Tavola, Versione};
use archivio::{Ricerca, RigaErrata, copia_campo};
use flussi::spec::registro::{Cerca, ChiaveRegistro, RegistroTabella};
use flussi::spec::{Dominio, Tabella};
use flussi::valori::Valore;
use flussi::{Aggiunta, Osservatore};
use sha2::{Digest, Sha256};

/// The most rows in error kept with their values (as the report keeps 10 000 issues).
pub const MAX_RIGHE_ERRATE: usize = 10_000;

/// A register table: its domain, its spec table, its register definition and its storage.
#[derive(Debug)]
pub struct TavolaRegistro {
    pub dominio: &'static Dominio,
    pub tabella: &'static Tabella,
    pub def: &'static RegistroTabella,
    pub tavola: Tavola,
}

/// The storage description of a register table, from its definition.
fn costruisci(
    d: &'static Dominio,
    t: &'static Tabella,
    r: &'static RegistroTabella,
) -> archivio::Risultato<Tavola> {
    let mut v = Tavola::new(
        t.nome,
        r.nome_archivio(),
        t.campi.iter().map(|c| c.nome).collect(),
    )?;
    if let Some(c) = r.incrocio {
        v = v.con_incrocio(c)?;
    }
    if let Some(g) = r.genitore {
        let genitore = d
            .registro_di(g.tabella)
            .map(RegistroTabella::nome_archivio)
            .unwrap_or_default();
        v = v.con_genitore(genitore, g.campo)?;
    }
    let ricerca = r
        .cercati
        .iter()
        .map(|c| match c {
            Cerca::Campo(c) => Ricerca::Campo(c),
            Cerca::Unione(v) => Ricerca::Unione(v.to_vec()),
            Cerca::Genitore(c) => Ricerca::Genitore(c),
        })
        .collect();
    // The fields the children search through this table (units by their building's address)
    // join this table's search index.
    let mut dei_figli = Vec::new();
    for figlio in &d.tabelle {
        let Some(rf) = d.registro_di(figlio.nome) else {
            continue;
        };
        if rf.genitore.is_some_and(|g| g.tabella == t.nome) {
            for c in rf.cercati {
                if let Cerca::Genitore(c) = c
                    && !dei_figli.contains(c)
                {
                    dei_figli.push(*c);
                }
            }
        }
    }
    v.con_ricerca(ricerca)?
        .con_indici(r.indicizzati.to_vec())?
        .con_ricerca_dei_figli(dei_figli)
}

/// Every register table of every domain, in each domain's spec order (the merge order). A
/// definition the store refuses is a programming error, caught by the tests at once.
pub fn tavole_registro() -> &'static [TavolaRegistro] {
    static T: OnceLock<Vec<TavolaRegistro>> = OnceLock::new();
    T.get_or_init(|| {
        let mut v = Vec::new();
        for nome in flussi::spec::DOMINI {
            let Some(d) = flussi::spec::dominio(nome) else {
                continue;
            };
            for t in &d.tabelle {
                if let Some(r) = d.registro_di(t.nome) {
                    match costruisci(d, t, r) {
                        Ok(tavola) => v.push(TavolaRegistro {
                            dominio: d,
                            tabella: t,
                            def: r,
                            tavola,
                        }),
                        Err(e) => tracing::error!(tabella = t.nome, errore = %e, "definizione di registro rifiutata"),
                    }
                }
            }
        }
        // A table that searches a field of its parent needs the parent's search index, built
        // above (with its children's fields).
        for i in 0..v.len() {
            if !v[i].def.cercati.iter().any(|c| matches!(c, Cerca::Genitore(_))) {
                continue;
            }
            let genitore = v[i].def.genitore.and_then(|g| {
                v.iter()
                    .find(|x| x.dominio.nome == v[i].dominio.nome && x.tabella.nome == g.tabella)
            });
            let esito = match genitore {
                Some(g) => v[i].tavola.clone().con_genitore_cercato(&g.tavola),
                None => Err(archivio::ErroreArchivio::Corrotto(
                    "ricerca nel genitore senza genitore".into(),
                )),
            };
            match esito {
                Ok(t) => v[i].tavola = t,
                Err(e) => tracing::error!(tabella = v[i].tabella.nome, errore = %e, "definizione di registro rifiutata"),
            }
        }
        v
    })
}

/// A register table by name (names are unique across domains).
pub fn tavola_di(nome: &str) -> Option<&'static TavolaRegistro> {
    tavole_registro().iter().find(|t| t.tabella.nome == nome)
}

/// The register tables of a domain, in the spec's order.
pub fn tavole(d: &Dominio) -> impl Iterator<Item = &'static TavolaRegistro> {
    let nome = d.nome;
    tavole_registro()
        .iter()
        .filter(move |t| t.dominio.nome == nome)
}

/// Whether the platform takes flows of this domain: it has register tables to merge them
/// into, and its definition says its platform checks exist (`RegistroDominio::aperto`).
pub fn ha_registro(d: &Dominio) -> bool {
    d.registro.as_ref().is_some_and(|r| r.aperto) && tavole(d).next().is_some()
}

/// The fingerprint of a record's canonical values: the first 8 bytes of the SHA-256 of the
/// fields, each as `1` + its bytes (or `0` when empty) + `0x1f`.
///
/// It tells a changed record from an unchanged one at merge time (and names a row of a table
/// keyed by content), so a collision would hide one change of the entity's own record: with 64
/// bits that is a 2⁻⁶⁴ chance per changed record, and a crafted collision could only hide the
/// entity's own change from its own register. A cheaper hash would do as well, but the
/// fingerprints are stored with every version: another function would make every record of
/// every register look changed at the first merge after an upgrade. SHA-256 stays, computed
/// once per row over one buffer (`sha2` uses the CPU's SHA extensions where present).
pub fn impronta(campi: &[Option<String>]) -> i64 {
    let mut buf = Vec::new();
    impronta_di(campi.iter().map(Option::as_deref), &mut buf)
}

/// [`impronta`] of any view of the fields, with a reused buffer.
fn impronta_di<'a>(campi: impl Iterator<Item = Option<&'a str>>, buf: &mut Vec<u8>) -> i64 {
    buf.clear();
    for c in campi {
        match c {
            Some(s) => {
                buf.push(1);
                buf.extend_from_slice(s.as_bytes());
            }
            None => buf.push(0),
        }
        buf.push(0x1f);
    }
    let d = Sha256::digest(&buf);
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// The key of a record: its key fields joined by `|`; for a table keyed by content, the
/// listed fields and the fingerprint (a repeated identical row is told apart by `ripetizioni`).
#[cfg(test)]
fn chiave(
    t: &Tabella,
    r: &RegistroTabella,
    campi: &[Option<String>],
    ripetizioni: &mut HashMap<String, u32>,
) -> Option<String> {
    let mut out = String::new();
    let imp = impronta(campi);
    chiave_in(
        t,
        r,
        |i| campi.get(i).and_then(|v| v.as_deref()),
        imp,
        ripetizioni,
        &mut out,
    )
    .then_some(out)
}

/// [`chiave`] written into `out` (cleared); false when a key field is empty.
fn chiave_in<'a>(
    t: &Tabella,
    r: &RegistroTabella,
    campo: impl Fn(usize) -> Option<&'a str>,
    impronta: i64,
    ripetizioni: &mut HashMap<String, u32>,
    out: &mut String,
) -> bool {
    use std::fmt::Write;
    out.clear();
    let nomi = match r.chiave {
        ChiaveRegistro::Campi => t.chiave,
        ChiaveRegistro::Contenuto(v) => v,
    };
    for (n, k) in nomi.iter().enumerate() {
        let Some(v) = t.indice(k).and_then(&campo) else {
            return false;
        };
        if n > 0 {
            out.push('|');
        }
        out.push_str(v);
    }
    if let ChiaveRegistro::Contenuto(_) = r.chiave {
        let _ = write!(
            out,
            "{}{:016x}",
            if nomi.is_empty() { "" } else { "|" },
            impronta
        );
        let n = match ripetizioni.get_mut(out.as_str()) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                ripetizioni.insert(out.clone(), 1);
                1
            }
        };
        if n > 1 {
            let _ = write!(out, "#{n}");
        }
    }
    true
}

/// The inverse of [`copia_campo`].
fn leggi_campo(s: &str) -> Option<String> {
    if s == "\\N" {
        return None;
    }
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut o = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => o.push('\t'),
                Some('n') => o.push('\n'),
                Some('r') => o.push('\r'),
                Some(x) => o.push(x),
                None => {}
            }
        } else {
            o.push(c);
        }
    }
    Some(o)
}

/// One line of a staging file: key, fingerprint, cadastral key, fields.
pub fn leggi_riga(linea: &str) -> Option<NuovaVersione> {
    let mut parti = linea.split('\t');
    let chiave = leggi_campo(parti.next()?)?;
    let impronta = parti.next()?.parse().ok()?;
    let incrocio = leggi_campo(parti.next()?);
    Some(NuovaVersione {
        chiave,
        impronta,
        incrocio,
        campi: parti.map(leggi_campo).collect(),
    })
}

/// Only the key and fingerprint of a staging line (the first pass of diff and merge).
fn chiave_e_impronta(linea: &str) -> Option<(String, i64)> {
    let mut parti = linea.split('\t');
    let c = leggi_campo(parti.next()?)?;
    let i = parti.next()?.parse().ok()?;
    Some((c, i))
}

/// The name of a flow's staging file for a table in the store.
pub fn nome_staging(flusso: i64, tabella: &str) -> String {
    format!("flusso-{flusso}/{tabella}.tsv")
}

/// What the platform knows before validating a flow (for its own checks).
#[derive(Default)]
pub struct Contesto {
    /// Unit codes in the entity's current register (`rimozione`).
    pub unita_attuali: HashSet<String>,
    /// Cadastral keys of other entities' current registers → entity (`catasto_conteso`).
    pub catasti_altrui: HashMap<String, String>,
    /// CUP of other entities' current interventions → entity (`cup_conteso`).
    pub cup_altrui: HashMap<String, String>,
}

/// The observer of a validation inside the platform: writes the canonical rows of every
/// table with a register to staging files, keeps the rows in error with their values, and
/// adds `catasto_conteso` and `rimozione`.
pub struct Raccoglitore {
    dominio: &'static Dominio,
    /// Per table keyed by content, how many times each key was seen.
    ripetizioni: HashMap<&'static str, HashMap<String, u32>>,
    cartella: PathBuf,
    file: HashMap<&'static str, BufWriter<std::fs::File>>,
    pub righe_errate: Vec<RigaErrata>,
    pub righe_errate_totali: u64,
    comune_fabbricato: HashMap<String, String>,
    cx: Contesto,
    unita_lette: u64,
    aggiunte: Vec<Aggiunta>,
    pub errore_io: Option<std::io::Error>,
    /// The current row's canonical values (`None` = empty), in buffers reused row after row:
    /// a million rows of 23 fields allocate nothing once the first rows have sized them.
    campi: Vec<String>,
    presenti: Vec<bool>,
    chiave: String,
    incrocio: String,
    buffer_impronta: Vec<u8>,
    linea: String,
    /// The field positions the platform's checks read, for the table being read.
    posizioni: Option<(&'static str, Posizioni)>,
    /// Row of a `catasto_conteso` unit → the entity that holds it, for the Region's view only
    /// (the first [`flussi::report::MAX_SEGNALAZIONI`]: rows arrive in order, so these cover
    /// every such issue the report keeps).
    pub contesi: HashMap<u64, String>,
}

/// Where the fields the platform's own checks read are, in one table (looked up by name
/// once per table instead of once per row).
#[derive(Clone, Copy)]
struct Posizioni {
    comune_istat: Option<usize>,
    codice_fabbricato: Option<usize>,
    sezione_urbana: Option<usize>,
    foglio: Option<usize>,
    particella: Option<usize>,
    subalterno: Option<usize>,
    cup: Option<usize>,
}

impl Posizioni {
    fn di(t: &Tabella) -> Self {
        Self {
            comune_istat: t.indice("comune_istat"),
            codice_fabbricato: t.indice("codice_fabbricato"),
            sezione_urbana: t.indice("sezione_urbana"),
            foglio: t.indice("foglio"),
            particella: t.indice("particella"),
            subalterno: t.indice("subalterno"),
            cup: t.indice("cup"),
        }
    }
}

/// A field of the current row, by position.
fn valore_di<'a>(campi: &'a [String], presenti: &[bool], i: Option<usize>) -> Option<&'a str> {
    let i = i?;
    presenti
        .get(i)
        .copied()
        .unwrap_or(false)
        .then(|| campi[i].as_str())
}

impl Raccoglitore {
    pub fn new(
        dominio: &'static Dominio,
        cartella: PathBuf,
        cx: Contesto,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(&cartella)?;
        Ok(Self {
            dominio,
            ripetizioni: HashMap::new(),
            cartella,
            file: HashMap::new(),
            righe_errate: Vec::new(),
            righe_errate_totali: 0,
            comune_fabbricato: HashMap::new(),
            cx,
            unita_lette: 0,
            aggiunte: Vec::new(),
            errore_io: None,
            campi: Vec::new(),
            presenti: Vec::new(),
            chiave: String::new(),
            incrocio: String::new(),
            buffer_impronta: Vec::new(),
            linea: String::new(),
            posizioni: None,
            contesi: HashMap::new(),
        })
    }

    /// The staging files written, by table, flushed.
    pub fn chiudi(mut self) -> std::io::Result<Vec<(&'static str, PathBuf)>> {
        if let Some(e) = self.errore_io.take() {
            return Err(e);
        }
        let mut v = Vec::new();
        for (t, f) in self.file.drain() {
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            v.push((t, self.cartella.join(format!("{t}.tsv"))));
        }
        Ok(v)
    }

    fn scrivi(&mut self, t: &'static Tabella, linea: &str) -> std::io::Result<()> {
        if !self.file.contains_key(t.nome) {
            let f = std::fs::File::create(self.cartella.join(format!("{}.tsv", t.nome)))?;
            self.file
                .insert(t.nome, BufWriter::with_capacity(256 * 1024, f));
        }
        if let Some(f) = self.file.get_mut(t.nome) {
            f.write_all(linea.as_bytes())?;
        }
        Ok(())
    }
}

impl Osservatore for Raccoglitore {
    fn riga(
        &mut self,
        t: &'static Tabella,
        numero: u64,
        valori: &[Option<Valore>],
        testi: &[Option<String>],
        errata: bool,
    ) {
        if errata {
            self.righe_errate_totali += 1;
            if self.righe_errate.len() < MAX_RIGHE_ERRATE {
                let mut m = serde_json::Map::new();
                for (c, v) in t.campi.iter().zip(testi) {
                    m.insert(
                        c.nome.to_string(),
                        v.clone()
                            .map(serde_json::Value::String)
                            .unwrap_or(serde_json::Value::Null),
                    );
                }
                self.righe_errate.push(RigaErrata {
                    tabella: t.nome.to_string(),
                    riga: numero as i64,
                    valori: serde_json::Value::Object(m).to_string(),
                });
            }
        }
        let Some(r) = self.dominio.registro_di(t.nome) else {
            return;
        };
        if self.errore_io.is_some() {
            return;
        }
        // The canonical values, written into the previous row's buffers.
        if self.campi.len() < valori.len() {
            self.campi.resize_with(valori.len(), String::new);
        }
        self.presenti.clear();
        for (v, buf) in valori.iter().zip(self.campi.iter_mut()) {
            buf.clear();
            if let Some(v) = v {
                v.canonico_in(buf);
            }
            self.presenti.push(v.is_some());
        }
        let (campi, presenti) = (&self.campi[..valori.len()], &self.presenti[..]);
        let imp = impronta_di(
            (0..valori.len()).map(|i| valore_di(campi, presenti, Some(i))),
            &mut self.buffer_impronta,
        );
        let ripetizioni = self.ripetizioni.entry(t.nome).or_default();
        if !chiave_in(
            t,
            r,
            |i| valore_di(campi, presenti, Some(i)),
            imp,
            ripetizioni,
            &mut self.chiave,
        ) {
            return;
        }
        let pos = match self.posizioni {
            Some((n, p)) if n == t.nome => p,
            _ => {
                let p = Posizioni::di(t);
                self.posizioni = Some((t.nome, p));
                p
            }
        };
        let campo = |i: Option<usize>| valore_di(campi, presenti, i);
        let k = self.chiave.as_str();
        let mut incrocio = false;
        if t.nome == "fabbricati"
            && let Some(c) = campo(pos.comune_istat)
        {
            self.comune_fabbricato.insert(k.to_string(), c.to_string());
        }
        if t.nome == "unita" {
            self.unita_lette += 1;
            if !self.cx.unita_attuali.is_empty() {
                self.cx.unita_attuali.remove(k);
            }
            let comune = campo(pos.codice_fabbricato)
                .and_then(|f| self.comune_fabbricato.get(f))
                .map(String::as_str);
            if let (Some(comune), Some(fo), Some(pa), Some(su)) = (
                comune,
                campo(pos.foglio),
                campo(pos.particella),
                campo(pos.subalterno),
            ) {
                let sez = campo(pos.sezione_urbana).unwrap_or_default();
                let c = &mut self.incrocio;
                c.clear();
                for (i, parte) in [comune, sez, fo, pa, su].into_iter().enumerate() {
                    if i > 0 {
                        c.push('|');
                    }
                    c.push_str(parte);
                }
                if let Some(altro) = self.cx.catasti_altrui.get(c.as_str()) {
                    // The entity is warned without learning whose register holds the unit;
                    // the Region sees who (kept beside the issue, never in its text).
                    if self.contesi.len() < flussi::report::MAX_SEGNALAZIONI {
                        self.contesi.insert(numero, altro.clone());
                    }
                    self.aggiunte.push(Aggiunta {
                        tabella: "unita",
                        riga: Some(numero),
                        campo: Some("subalterno"),
                        valore: Some(su.to_string()),
                        codice: "catasto_conteso",
                        messaggio: format!(
                            "L'unità catastale (comune {comune}, foglio {fo}, particella {pa}, subalterno {su}) è già nel registro accettato di un altro ente: la Regione verificherà a chi appartiene."
                        ),
                    });
                }
                incrocio = true;
            }
        }
        if t.nome == "interventi"
            && let Some(cup) = campo(pos.cup)
        {
            if let Some(altro) = self.cx.cup_altrui.get(cup) {
                // As for cadastral units: the entity learns of the conflict, the Region whom
                // it is with.
                if self.contesi.len() < flussi::report::MAX_SEGNALAZIONI {
                    self.contesi.insert(numero, altro.clone());
                }
                self.aggiunte.push(Aggiunta {
                    tabella: "interventi",
                    riga: Some(numero),
                    campo: Some("cup"),
                    valore: Some(cup.to_string()),
                    codice: "cup_conteso",
                    messaggio: format!(
                        "Il CUP {cup} è già tra gli interventi accettati di un altro ente: la Regione verificherà a chi appartiene l'intervento."
                    ),
                });
            }
            self.incrocio.clear();
            self.incrocio.push_str(cup);
            incrocio = true;
        }
        let linea = &mut self.linea;
        linea.clear();
        copia_campo(linea, Some(k));
        let _ = write!(linea, "\t{imp}\t");
        copia_campo(linea, incrocio.then_some(self.incrocio.as_str()));
        for i in 0..valori.len() {
            linea.push('\t');
            copia_campo(linea, campo(Some(i)));
        }
        linea.push('\n');
        let linea = std::mem::take(&mut self.linea);
        if let Err(e) = self.scrivi(t, &linea) {
            self.errore_io = Some(e);
        }
        self.linea = linea;
    }

    fn fine(&mut self) -> Vec<Aggiunta> {
        let mut v = std::mem::take(&mut self.aggiunte);
        if self.unita_lette > 0 {
            let mut rimosse: Vec<&String> = self.cx.unita_attuali.iter().collect();
            rimosse.sort();
            for k in rimosse {
                v.push(Aggiunta {
                    tabella: "unita",
                    riga: None,
                    campo: Some("codice_unita"),
                    valore: Some(k.clone()),
                    codice: "rimozione",
                    messaggio: format!(
                        "L'unità «{k}» è nel registro attuale dell'ente ma non in questo flusso: all'accettazione sarà chiusa (resta nello storico)."
                    ),
                });
            }
        }
        v
    }
}

/// How a flow's records of one table compare with the current register.
#[derive(Default)]
pub struct Classifica {
    /// Line numbers (0-based) of the staging file to insert (added or changed).
    pub da_inserire: Vec<bool>,
    pub aggiunti: Vec<String>,
    /// (key, id of the current version).
    pub modificati: Vec<(String, i64)>,
    /// Line numbers of the changed records (same order as `modificati`).
    pub linee_modificate: Vec<usize>,
    /// (key, id of the current version).
    pub rimossi: Vec<(String, i64)>,
}

/// First pass over a staging file: which records are new, changed, unchanged; which current
/// ones are missing.
pub fn classifica(
    staging: &Path,
    mut correnti: HashMap<String, (i64, i64)>,
) -> std::io::Result<Classifica> {
    let mut c = Classifica::default();
    let f = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(staging)?);
    for (n, linea) in f.lines().enumerate() {
        let linea = linea?;
        let (k, imp) = chiave_e_impronta(&linea).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "riga di lavoro illeggibile",
            )
        })?;
        match correnti.remove(&k) {
            None => {
                c.da_inserire.push(true);
                c.aggiunti.push(k);
            }
            Some((id, vecchia)) if vecchia != imp => {
                c.da_inserire.push(true);
                c.modificati.push((k, id));
                c.linee_modificate.push(n);
            }
            Some(_) => c.da_inserire.push(false),
        }
    }
    c.rimossi = correnti.into_iter().map(|(k, (id, _))| (k, id)).collect();
    c.rimossi.sort();
    Ok(c)
}

/// Reads the staging lines marked in `scelte`, a block at a time (the merge writes each block
/// before reading the next, so a million rows never sit in memory together).
pub struct Blocchi {
    righe: std::io::Lines<std::io::BufReader<std::fs::File>>,
    scelte: Vec<bool>,
    i: usize,
    blocco: usize,
}

impl Blocchi {
    pub fn apri(staging: &Path, scelte: Vec<bool>, blocco: usize) -> std::io::Result<Self> {
        let r = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(staging)?);
        Ok(Self {
            righe: r.lines(),
            scelte,
            i: 0,
            blocco,
        })
    }

    pub fn prossimo(&mut self) -> std::io::Result<Option<Vec<NuovaVersione>>> {
        let mut buf = Vec::with_capacity(self.blocco.min(65_536));
        for linea in self.righe.by_ref() {
            let linea = linea?;
            let i = self.i;
            self.i += 1;
            if !self.scelte.get(i).copied().unwrap_or(false) {
                continue;
            }
            buf.push(leggi_riga(&linea).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "riga di lavoro illeggibile",
                )
            })?);
            if buf.len() >= self.blocco {
                break;
            }
        }
        Ok((!buf.is_empty()).then_some(buf))
    }
}

/// Reads the staging lines marked in `scelte` as they are, a block of whole lines at a time,
/// for the merge: the store writes them without parsing them into values, and a million rows
/// never sit in memory together.
pub struct LineeScelte {
    r: std::io::BufReader<std::fs::File>,
    scelte: Vec<bool>,
    i: usize,
}

impl LineeScelte {
    pub fn apri(staging: &Path, scelte: Vec<bool>) -> std::io::Result<Self> {
        Ok(Self {
            r: std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(staging)?),
            scelte,
            i: 0,
        })
    }

    /// Replaces `out` with up to `righe` selected lines, each ending with `\n`; false when
    /// none is left.
    pub fn prossimo(&mut self, out: &mut Vec<u8>, righe: usize) -> std::io::Result<bool> {
        out.clear();
        let mut n = 0;
        while n < righe {
            let inizio = out.len();
            if self.r.read_until(b'\n', out)? == 0 {
                break;
            }
            let scelta = self.scelte.get(self.i).copied().unwrap_or(false);
            self.i += 1;
            if !scelta {
                out.truncate(inizio);
                continue;
            }
            if out.last() != Some(&b'\n') {
                out.push(b'\n');
            }
            n += 1;
        }
        Ok(n > 0)
    }
}

/// The area whose people see a register table's data.
fn area(t: &TavolaRegistro) -> dominio::Area {
    dominio::DominioFlusso::parse(t.dominio.nome)
        .map(dominio::DominioFlusso::area)
        .unwrap_or(dominio::Area::Patrimonio)
}

impl crate::Piattaforma {
    /// Prepares the register storage of every domain from the definitions (at start).
    pub(crate) async fn prepara_registro(&self) -> archivio::Risultato<()> {
        let tavole: Vec<Tavola> = tavole_registro().iter().map(|t| t.tavola.clone()).collect();
        self.db.prepara_registro(&tavole).await
    }

    /// Brings the search indexes of a domain's register (of every domain with `None`) up to
    /// the rows: after each merge, and at start and every few minutes in `serve` (rows a
    /// stopped server left unindexed). Failures are logged: search still finds the rows,
    /// by a slower path.
    pub async fn riordina_ricerca(&self, dominio: Option<&str>) {
        for reg in tavole_registro() {
            if dominio.is_some_and(|d| d != reg.dominio.nome) {
                continue;
            }
            let t0 = std::time::Instant::now();
            match self.db.riordina_ricerca(&reg.tavola).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    tabella = reg.tabella.nome,
                    righe = n,
                    ms = t0.elapsed().as_millis() as u64,
                    "indice di ricerca aggiornato"
                ),
                Err(e) => {
                    tracing::warn!(tabella = reg.tabella.nome, errore = %e, "indice di ricerca non aggiornato")
                }
            }
        }
    }

    /// The stored columns and indexes of a register table (for the checks that every field of
    /// a definition has its storage).
    pub async fn archivio_registro(
        &self,
        tabella: &str,
    ) -> crate::Esito<(Vec<String>, Vec<String>)> {
        let t = tavola_di(tabella).ok_or(crate::ErroreServizio::NonTrovato)?;
        Ok((
            self.db.colonne_registro(&t.tavola).await?,
            self.db.indici_registro(&t.tavola).await?,
        ))
    }

    /// Which entity a subject's query of a register table covers: the Region any (or all,
    /// `None`); an entity's people and tokens only their own (given, or implied when they have
    /// one), with the area of the table's domain.
    pub fn ambito_registro(
        &self,
        s: &dominio::Soggetto,
        tabella: &str,
        ente: Option<&str>,
    ) -> crate::Esito<Option<String>> {
        use dominio::politica::{Azione, autorizza};
        let t = tavola_di(tabella).ok_or(crate::ErroreServizio::NonTrovato)?;
        let ente = ente.map(str::trim).filter(|e| !e.is_empty());
        if s.is_regione() {
            return Ok(ente.map(str::to_string));
        }
        let e = match ente {
            Some(e) => dominio::CodiceEnte::parse(e)?,
            None => {
                let miei = s.enti();
                match miei.len() {
                    0 => {
                        autorizza(s, &Azione::VedereDatiRegionali)?;
                        return Ok(None);
                    }
                    _ => miei[0].clone(),
                }
            }
        };
        autorizza(s, &Azione::VedereDatiArea(&e, area(t)))?;
        Ok(Some(e.as_str().to_string()))
    }

    /// A page of a register list, for the subject (see [`Self::ambito_registro`]).
    pub async fn elenco_registro(
        &self,
        s: &dominio::Soggetto,
        tabella: &str,
        mut filtro: FiltroRegistro,
    ) -> crate::Esito<(&'static TavolaRegistro, Vec<Versione>)> {
        let t = tavola_di(tabella).ok_or(crate::ErroreServizio::NonTrovato)?;
        filtro.ente = self.ambito_registro(s, tabella, filtro.ente.as_deref())?;
        let cerca = filtro
            .cerca
            .as_deref()
            .is_some_and(|q| !q.trim().is_empty());
        if !cerca {
            let v = self.db.elenco_registro(&t.tavola, &filtro).await?;
            return Ok((t, v));
        }
        // A search has its own budget: a place among `ricerche_parallele` (waiting at most its
        // time limit) and a time limit on its statement, so that searches never take the
        // whole pool from the other pages and the API.
        let limite = std::time::Duration::from_millis(self.config.ricerca_tempo_massimo_ms);
        let riprova_s = limite.as_secs().clamp(1, 60);
        let Ok(Ok(_posto)) =
            tokio::time::timeout(limite, self.ricerche.clone().acquire_owned()).await
        else {
            return Err(crate::ErroreServizio::Occupato {
                messaggio: format!(
                    "In questo momento sono in corso troppe ricerche nel registro. Riprovi tra {riprova_s} secondi, oppure consulti l'elenco senza ricerca."
                ),
                riprova_s,
            });
        };
        filtro.tempo_massimo = Some(limite);
        filtro.scansione = self.ricerca_scansione;
        filtro.rallenta = self.config.modalita != crate::Modalita::Produzione
            && self
                .prova_ricerca_lenta
                .load(std::sync::atomic::Ordering::Relaxed);
        match self.db.elenco_registro(&t.tavola, &filtro).await {
            Ok(v) => Ok((t, v)),
            Err(archivio::ErroreArchivio::TempoScaduto) => Err(crate::ErroreServizio::Occupato {
                messaggio: "La ricerca ha richiesto più tempo del consentito ed è stata interrotta. La restringa (per esempio scegliendo un ente, o con un testo più lungo e preciso) e riprovi.".into(),
                riprova_s,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Every version of one record of an entity's register (owner and Region), oldest first.
    pub async fn storia_registro(
        &self,
        s: &dominio::Soggetto,
        tabella: &str,
        ente: &str,
        chiave: &str,
    ) -> crate::Esito<(&'static TavolaRegistro, Vec<Versione>)> {
        let t = tavola_di(tabella).ok_or(crate::ErroreServizio::NonTrovato)?;
        let e = dominio::CodiceEnte::parse(ente).map_err(|_| crate::ErroreServizio::NonTrovato)?;
        dominio::politica::autorizza(s, &dominio::Azione::VedereDatiArea(&e, area(t))).map_err(
            |n| match n {
                dominio::Negato::NonAutenticato => crate::ErroreServizio::Negato(n),
                _ => crate::ErroreServizio::NonTrovato,
            },
        )?;
        let v = self.db.storia(&t.tavola, e.as_str(), chiave).await?;
        if v.is_empty() {
            return Err(crate::ErroreServizio::NonTrovato);
        }
        Ok((t, v))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// A table without a key (`erogazioni`) is keyed by its intervention and content: the same
    /// row twice gets two records, a changed row a new key.
    #[test]
    fn chiave_per_contenuto() {
        let t = tavola_di("erogazioni").expect("erogazioni nel registro");
        let riga = |importo: &str| {
            let mut v = vec![None; t.tabella.campi.len()];
            v[t.tabella.indice("cup").unwrap()] = Some("B51H10000010002".to_string());
            v[t.tabella.indice("importo").unwrap()] = Some(importo.to_string());
            v
        };
        let mut rip = HashMap::new();
        let a = chiave(t.tabella, t.def, &riga("10.00"), &mut rip).unwrap();
        let b = chiave(t.tabella, t.def, &riga("10.00"), &mut rip).unwrap();
        let c = chiave(t.tabella, t.def, &riga("11.00"), &mut rip).unwrap();
        assert!(a.starts_with("B51H10000010002|"), "{a}");
        assert_eq!(b, format!("{a}#2"));
        assert_ne!(c, a);
        let u = tavola_di("unita").unwrap();
        let mut v = vec![None; u.tabella.campi.len()];
        v[u.tabella.indice("codice_unita").unwrap()] = Some("U/1".to_string());
        assert_eq!(
            chiave(u.tabella, u.def, &v, &mut rip).as_deref(),
            Some("U/1")
        );
    }

    /// The generated tables of `patrimonio` are column for column (names and order) the ones
    /// migration 0002 wrote by hand, so the million-unit merge writes the same rows into the
    /// same layout (the indexes are checked by `registro::ogni_campo_delle_definizioni_ha_la_sua_colonna`).
    #[test]
    fn il_registro_generato_e_quello_della_migrazione() {
        for backend in ["sqlite", "postgres"] {
            let sql = match backend {
                "sqlite" => {
                    include_str!("../../archivio/migrations/sqlite/0002_flussi_registro.sql")
                }
                _ => include_str!("../../archivio/migrations/postgres/0002_flussi_registro.sql"),
            };
            for nome in ["complessi", "fabbricati", "unita"] {
                let t = &tavola_di(nome).unwrap().tavola;
                let testa = format!("CREATE TABLE reg_{nome} (");
                let corpo = sql
                    .split(&testa)
                    .nth(1)
                    .unwrap()
                    .split(");")
                    .next()
                    .unwrap();
                let scritte: Vec<String> = corpo
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| l.trim_end_matches(',').to_string())
                    .collect();
                let ddl = t.ddl(backend == "postgres");
                let generate: Vec<String> = ddl
                    .split_once('(')
                    .unwrap()
                    .1
                    .trim_end_matches(')')
                    .split(", ")
                    .map(str::to_string)
                    .collect();
                assert_eq!(generate, scritte, "{backend} {nome}");
            }
        }
    }

    #[test]
    fn riga_di_lavoro_si_rilegge_uguale() {
        let campi = vec![Some("a\tb\\c\nd".to_string()), None, Some(String::new())];
        let mut l = String::new();
        copia_campo(&mut l, Some("K|1"));
        l.push('\t');
        l.push_str(&impronta(&campi).to_string());
        l.push('\t');
        copia_campo(&mut l, None);
        for c in &campi {
            l.push('\t');
            copia_campo(&mut l, c.as_deref());
        }
        let r = leggi_riga(&l).unwrap();
        assert_eq!(r.chiave, "K|1");
        assert_eq!(r.incrocio, None);
        assert_eq!(r.campi, campi);
        assert_eq!(r.impronta, impronta(&campi));
        assert_ne!(impronta(&[None]), impronta(&[Some(String::new())]));
    }
}
