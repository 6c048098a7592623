//! A deterministic generator of realistic `patrimonio` flows of any size (`flusso-patrimonio.md`),
//! for the benchmarks (`bench/valida.sh`) and the demo data of the platform.
//!
//! - **Deterministic**: the same [`OpzioniGenera`] give byte-identical files (fixed timestamps in
//!   the ZIP and in the workbook, a seeded PRNG, no clock, no hash map iteration).
//! - **Streaming**: rows are written as they are generated; nothing of the dataset is kept in
//!   memory besides one row and one counter per Comune. The three tables are written one after
//!   the other (complessi, fabbricati, unità): the layout of the flow (which building has how
//!   many units, in which Comune, in which complex) comes from a [`Piano`] that is a pure
//!   function of the seed, walked once per table; each record is drawn from its own sub-seed.
//!   XLSX uses `rust_xlsxwriter`'s constant-memory worksheets (rows go to a temporary file).
//! - **Valid**: the flow validates with no errors and no warnings (see the tests): cadastral
//!   identifiers unique per (Comune, sezione, foglio, particella, subalterno), categories
//!   coherent with the type of unit, assignment fields only for `ASSEGNATO`, interventions not
//!   before construction, coordinates inside Puglia, CAP of the province.
//! - **Realistic**: buildings of 8–20 units (a few small ones), grouped in complexes, in the
//!   Comuni of the entity weighted by population; Italian street names; mostly `ALLOGGIO` with
//!   boxes, parking spaces, shops and storerooms; ~70 % assigned with a rent of 40–400 €.
//!
//! CSV: `,` separator, `.` decimals, ISO dates, UTF-8 without BOM, `\n` line ends, header with
//! the spec's field names in the spec's order (readable by frictionless with the descriptor of
//! `push spec --formato tableschema`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::riferimento;
use crate::spec::{Tabella, Tipo, patrimonio};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpzioniGenera {
    /// Number of rows of the `unita` table.
    pub unita: u64,
    /// PRNG seed: the same seed gives the same files.
    pub seme: u64,
    /// The declaring entity: the ISTAT code of a Comune (its buildings are all there), an ARCA
    /// code such as `ARCA-PC` (the Comuni of its provinces) or `REGIONE` (all of Puglia).
    pub ente: String,
}

/// The container written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatoGenerato {
    /// A ZIP with `complessi.csv`, `fabbricati.csv`, `unita.csv`.
    ZipCsv,
    /// A workbook with the sheets `complessi`, `fabbricati`, `unita` (at most 1 048 575 units).
    Xlsx,
    /// A folder (created if missing) with `complessi.csv`, `fabbricati.csv`, `unita.csv`.
    CartellaCsv,
}

impl FormatoGenerato {
    /// From an output path: `.zip` → ZIP, `.xlsx` → XLSX, no extension or a trailing `/` →
    /// folder; `None` for any other extension.
    pub fn da_percorso(p: &Path) -> Option<FormatoGenerato> {
        if p.as_os_str()
            .to_string_lossy()
            .ends_with(['/', std::path::MAIN_SEPARATOR])
        {
            return Some(FormatoGenerato::CartellaCsv);
        }
        match p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
        {
            None => Some(FormatoGenerato::CartellaCsv),
            Some(e) if e == "zip" => Some(FormatoGenerato::ZipCsv),
            Some(e) if e == "xlsx" => Some(FormatoGenerato::Xlsx),
            Some(_) => None,
        }
    }
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiepilogoGenerato {
    pub complessi: u64,
    pub fabbricati: u64,
    pub unita: u64,
}

/// Most rows of one XLSX sheet (Excel's limit less the header).
pub const MAX_RIGHE_XLSX: u64 = 1_048_575;

/// Writes a `patrimonio` flow of `o.unita` units to `output` in the given format.
/// Errors: an unknown entity or too many rows for XLSX (`InvalidInput`), or a write failure.
pub fn genera_patrimonio(
    o: &OpzioniGenera,
    formato: FormatoGenerato,
    output: &Path,
) -> io::Result<RiepilogoGenerato> {
    verifica_colonne()?;
    if formato == FormatoGenerato::Xlsx && o.unita > MAX_RIGHE_XLSX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "un foglio XLSX contiene al massimo {MAX_RIGHE_XLSX} righe: per {} unità usare un file .zip",
                o.unita
            ),
        ));
    }
    let territorio = Territorio::per_ente(&o.ente)?;
    let g = Generatore {
        territorio,
        seme: o.seme,
        unita: o.unita,
    };
    match formato {
        FormatoGenerato::ZipCsv => g.scrivi(ScrittoreZip::new(output)?),
        FormatoGenerato::CartellaCsv => g.scrivi(ScrittoreCartella::new(output)?),
        FormatoGenerato::Xlsx => g.scrivi(ScrittoreXlsx::new(output, "patrimonio")),
    }
}

// ---------------------------------------------------------------------------------------------
// Columns, in the spec's order (checked against the spec at every run and in the tests).

macro_rules! colonne {
    ($modulo:ident: $($nome:ident),* $(,)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        mod $modulo {
            colonne!(@indice 0usize; $($nome),*);
            pub const NOMI: &[&str] = &[$(stringify!($nome)),*];
        }
    };
    (@indice $i:expr; $nome:ident $(, $resto:ident)*) => {
        pub const $nome: usize = $i;
        colonne!(@indice $i + 1usize; $($resto),*);
    };
    (@indice $i:expr;) => {};
}

colonne!(col_c: codice_complesso, denominazione, comune_istat, note);
colonne!(col_f: codice_fabbricato, codice_complesso, comune_istat, indirizzo, numero_civico, cap,
    latitudine, longitudine, foglio, particella, anno_costruzione, numero_piani, ascensore,
    titolo_possesso, cf_proprietario, stato_conservazione);
colonne!(col_u: codice_unita, codice_fabbricato, tipologia, sezione_urbana, foglio, particella,
    subalterno, categoria_catastale, rendita_catastale, piano, scala, interno, superficie_utile_mq,
    numero_vani, classe_energetica, accessibile_disabili, regime, stato_occupazione,
    data_assegnazione, canone_mensile, numero_occupanti, anno_ultimo_intervento,
    cup_ultimo_intervento);

fn tabelle() -> [(&'static Tabella, &'static [&'static str]); 3] {
    let d = patrimonio::dominio();
    let t = |n: &str| d.tabella(n).expect("tabella del dominio patrimonio");
    [
        (t("complessi"), col_c::NOMI),
        (t("fabbricati"), col_f::NOMI),
        (t("unita"), col_u::NOMI),
    ]
}

/// The generator writes exactly the spec's fields in the spec's order, or refuses to run.
fn verifica_colonne() -> io::Result<()> {
    for (t, nomi) in tabelle() {
        let spec: Vec<&str> = t.campi.iter().map(|c| c.nome).collect();
        if spec != nomi {
            return Err(io::Error::other(format!(
                "il generatore non è allineato alla specifica della tabella {}: {:?} invece di {:?}",
                t.nome, nomi, spec
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// PRNG: SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for test data.

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A sub-seed: independent streams for each record.
fn mescola(a: u64, b: u64) -> u64 {
    splitmix(a ^ splitmix(b.wrapping_add(0x632B_E59B_D9B4_E019)))
}

struct Prng(u64);

impl Prng {
    fn new(seme: u64) -> Self {
        Prng(splitmix(seme))
    }
    fn prossimo(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n` > 0).
    fn sotto(&mut self, n: u64) -> u64 {
        ((u128::from(self.prossimo()) * u128::from(n)) >> 64) as u64
    }
    /// Uniform in `a..=b`.
    fn tra(&mut self, a: i64, b: i64) -> i64 {
        a + self.sotto((b - a + 1) as u64) as i64
    }
    /// Uniform in `[0, 1)`.
    fn unif(&mut self) -> f64 {
        (self.prossimo() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn prob(&mut self, p: f64) -> bool {
        self.unif() < p
    }
    fn elemento<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.sotto(v.len() as u64) as usize]
    }
    /// A weighted choice among `(value, weight)`.
    fn pesato<T: Copy>(&mut self, v: &[(T, u32)]) -> T {
        let totale: u64 = v.iter().map(|(_, p)| u64::from(*p)).sum();
        let mut x = self.sotto(totale);
        for (valore, peso) in v {
            if x < u64::from(*peso) {
                return *valore;
            }
            x -= u64::from(*peso);
        }
        v[v.len() - 1].0
    }
}

// ---------------------------------------------------------------------------------------------
// Territory: the Comuni of the entity, with a rough position and CAP.

struct ComuneGen {
    istat: String,
    /// Capoluogo di provincia: several CAP, sezioni urbane.
    capoluogo: bool,
    lat: f64,
    lon: f64,
    /// First three digits of the CAP (the province's two and one more).
    cap: u32,
}

struct Territorio {
    comuni: Vec<ComuneGen>,
    /// Cumulative population, for a weighted choice.
    cumulata: Vec<u64>,
}

/// (province, centre latitude, centre longitude, half-spread lat, half-spread lon, CAP prefix):
/// rough boxes inside each province, on land, within 39.8–42.2 N and 15.0–18.5 E.
const PROVINCE: &[(&str, f64, f64, f64, f64, u32)] = &[
    ("BA", 40.95, 16.85, 0.22, 0.42, 70),
    ("BT", 41.17, 16.15, 0.10, 0.22, 76),
    ("BR", 40.60, 17.65, 0.12, 0.30, 72),
    ("FG", 41.50, 15.65, 0.35, 0.40, 71),
    ("LE", 40.20, 18.17, 0.22, 0.16, 73),
    ("TA", 40.52, 17.15, 0.10, 0.42, 74),
];

const CAPOLUOGHI: &[&str] = &[
    "072006", "110001", "110002", "110009", "074001", "071024", "075035", "073027",
];

impl Territorio {
    fn per_ente(ente: &str) -> io::Result<Territorio> {
        let e = ente.trim().to_ascii_uppercase();
        let tutti = riferimento::comuni().map_err(io::Error::other)?;
        let scelti: Vec<riferimento::Comune> = if e == "REGIONE" {
            tutti
        } else if let Some(a) = riferimento::arca_per_codice(&e) {
            tutti
                .into_iter()
                .filter(|c| a.province.contains(&c.sigla_provincia))
                .collect()
        } else {
            let codice = if e.len() == 5 {
                format!("0{e}")
            } else {
                e.clone()
            };
            tutti.into_iter().filter(|c| c.istat == codice).collect()
        };
        if scelti.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "«{ente}» non è il codice di un ente: usare il codice ISTAT di un Comune della Puglia, un codice ARCA (es. ARCA-PC) o REGIONE"
                ),
            ));
        }
        let mut comuni = Vec::with_capacity(scelti.len());
        let mut cumulata = Vec::with_capacity(scelti.len());
        let mut totale = 0u64;
        for c in scelti {
            let (_, lat, lon, dlat, dlon, cap) = PROVINCE
                .iter()
                .find(|p| p.0 == c.sigla_provincia)
                .copied()
                .unwrap_or(PROVINCE[0]);
            // A fixed position per Comune inside its province's box.
            let mut r = Prng::new(c.istat.bytes().fold(0u64, |h, b| h * 131 + u64::from(b)));
            let capoluogo = CAPOLUOGHI.contains(&c.istat.as_str());
            comuni.push(ComuneGen {
                lat: lat + (r.unif() * 2.0 - 1.0) * dlat,
                lon: lon + (r.unif() * 2.0 - 1.0) * dlon,
                cap: if capoluogo { cap * 10 + 1 } else { cap * 10 },
                capoluogo,
                istat: c.istat,
            });
            totale += c.popolazione.max(100) as u64;
            cumulata.push(totale);
        }
        Ok(Territorio { comuni, cumulata })
    }

    /// A Comune, weighted by population.
    fn scegli(&self, r: &mut Prng) -> usize {
        let x = r.sotto(*self.cumulata.last().unwrap_or(&1));
        self.cumulata.partition_point(|&c| c <= x)
    }
}

// ---------------------------------------------------------------------------------------------
// The plan: the flow's layout as a pure function of the seed, walked once per table.

#[derive(Clone, Copy, Debug)]
struct PianoFabbricato {
    /// 0-based building number.
    indice: u64,
    /// 0-based complex number, if the building belongs to one.
    complesso: Option<u64>,
    /// Whether this is the first building of its complex.
    primo_del_complesso: bool,
    comune: usize,
    /// Buildings already placed in the same Comune (makes the cadastral parcel unique).
    ordinale_comune: u64,
    n_unita: u64,
    /// 0-based number of its first unit.
    prima_unita: u64,
}

struct Piano<'a> {
    territorio: &'a Territorio,
    r: Prng,
    restanti: u64,
    indice: u64,
    prossima_unita: u64,
    nel_gruppo: u64,
    gruppo_comune: usize,
    gruppo_complesso: Option<u64>,
    primo: bool,
    complessi: u64,
    per_comune: Vec<u64>,
}

impl<'a> Piano<'a> {
    fn new(territorio: &'a Territorio, seme: u64, unita: u64) -> Self {
        Piano {
            territorio,
            r: Prng::new(mescola(seme, 1)),
            restanti: unita,
            indice: 0,
            prossima_unita: 0,
            nel_gruppo: 0,
            gruppo_comune: 0,
            gruppo_complesso: None,
            primo: false,
            complessi: 0,
            per_comune: vec![0; territorio.comuni.len()],
        }
    }
}

impl Iterator for Piano<'_> {
    type Item = PianoFabbricato;
    fn next(&mut self) -> Option<PianoFabbricato> {
        if self.restanti == 0 {
            return None;
        }
        if self.nel_gruppo == 0 {
            // A new group of buildings in one Comune: most are a complex (an estate).
            self.nel_gruppo = self.r.tra(1, 10) as u64;
            self.gruppo_comune = self.territorio.scegli(&mut self.r);
            self.gruppo_complesso = if self.nel_gruppo >= 2 && self.r.prob(0.85) {
                self.complessi += 1;
                Some(self.complessi - 1)
            } else {
                None
            };
            self.primo = true;
        }
        self.nel_gruppo -= 1;
        // Mostly 8–20 units, sometimes a small building.
        let n = if self.r.prob(0.1) {
            self.r.tra(2, 7)
        } else {
            self.r.tra(8, 20)
        } as u64;
        let n = n.min(self.restanti);
        let p = PianoFabbricato {
            indice: self.indice,
            complesso: self.gruppo_complesso,
            primo_del_complesso: self.primo,
            comune: self.gruppo_comune,
            ordinale_comune: self.per_comune[self.gruppo_comune],
            n_unita: n,
            prima_unita: self.prossima_unita,
        };
        self.primo = false;
        self.per_comune[self.gruppo_comune] += 1;
        self.indice += 1;
        self.prossima_unita += n;
        self.restanti -= n;
        Some(p)
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.

const TIPI_STRADA: &[(&str, u32)] = &[
    ("Via", 70),
    ("Viale", 10),
    ("Corso", 5),
    ("Piazza", 5),
    ("Largo", 3),
    ("Vico", 3),
    ("Strada", 2),
    ("Contrada", 2),
];

const NOMI_STRADA: &[&str] = &[
    "Giuseppe Garibaldi",
    "Roma",
    "Vittorio Emanuele II",
    "Aldo Moro",
    "della Repubblica",
    "Giulio Petroni",
    "Giuseppe Di Vittorio",
    "Giuseppe Mazzini",
    "Dante Alighieri",
    "Camillo Benso di Cavour",
    "Antonio Gramsci",
    "Giacomo Matteotti",
    "XX Settembre",
    "IV Novembre",
    "XXV Aprile",
    "Trieste",
    "Trento",
    "Papa Giovanni XXIII",
    "Martiri delle Foibe",
    "Sandro Pertini",
    "Enrico Berlinguer",
    "Giovanni Falcone",
    "Paolo Borsellino",
    "Luigi Einaudi",
    "Alcide De Gasperi",
    "Salvatore Quasimodo",
    "Giuseppe Verdi",
    "Vincenzo Bellini",
    "Niccolò Piccinni",
    "Tommaso Fiore",
    "Gaetano Salvemini",
    "Giuseppe Di Vagno",
    "Peppino Impastato",
    "delle Regioni",
    "Europa",
    "Lecce",
    "Bari",
    "Taranto",
    "Brindisi",
    "Foggia",
    "Napoli",
    "Adriatico",
    "del Mare",
    "degli Ulivi",
    "dei Mille",
    "San Francesco d'Assisi",
    "Sant'Antonio",
    "San Nicola",
    "Padre Pio",
    "Don Luigi Sturzo",
    "Cesare Battisti",
    "Nazario Sauro",
    "Guglielmo Marconi",
    "Galileo Galilei",
    "Leonardo da Vinci",
    "Cristoforo Colombo",
    "Amerigo Vespucci",
    "Federico II di Svevia",
    "Giuseppe Lembo",
    "Michele Cifarelli",
    "Carlo Pisacane",
    "Bruno Buozzi",
    "Giuseppe Di Cagno",
    "della Costituzione",
    "della Libertà",
    "del Lavoro",
    "della Resistenza",
    "Unità d'Italia",
];

const TIPI_COMPLESSO: &[(&str, u32)] = &[
    ("Quartiere", 30),
    ("Rione", 20),
    ("Complesso", 25),
    ("Villaggio", 10),
    ("Insediamento", 10),
    ("Comparto", 5),
];

const NOMI_COMPLESSO: &[&str] = &[
    "San Paolo",
    "Japigia",
    "Enziteto",
    "San Girolamo",
    "Santa Rita",
    "Paolo VI",
    "Tamburi",
    "Salinella",
    "Stadio",
    "Candelaro",
    "CEP",
    "Borgo Croci",
    "Sant'Elia",
    "Casale",
    "Stadio-Casermette",
    "Santa Rosa",
    "Commenda",
    "Perrino",
    "Leuca",
    "San Sabino",
    "Carrassi",
    "Madonnella",
    "Libertà",
    "Picone",
    "Poggiofranco",
    "dei Fiori",
    "del Sole",
    "Primavera",
    "Aurora",
    "Giardino",
];

const STATI_CONSERVAZIONE: &[(&str, u32)] = &[("BUONO", 35), ("MEDIOCRE", 45), ("SCADENTE", 20)];

const TITOLI: &[(&str, u32)] = &[("PROPRIETA", 90), ("COMPROPRIETA", 4), ("GESTIONE", 6)];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tipologia {
    Alloggio,
    Box,
    PostoAuto,
    Negozio,
    Ufficio,
    Magazzino,
}

const TIPOLOGIE: &[(Tipologia, u32)] = &[
    (Tipologia::Alloggio, 860),
    (Tipologia::Box, 55),
    (Tipologia::PostoAuto, 30),
    (Tipologia::Negozio, 25),
    (Tipologia::Magazzino, 25),
    (Tipologia::Ufficio, 5),
];

const CATEGORIE_ALLOGGIO: &[(&str, u32)] =
    &[("A/3", 68), ("A/4", 20), ("A/2", 6), ("A/5", 4), ("A/6", 2)];

const STATI_ALLOGGIO: &[(&str, u32)] = &[
    ("ASSEGNATO", 70),
    ("SFITTO_ASSEGNABILE", 10),
    ("SFITTO_DA_RISTRUTTURARE", 7),
    ("IN_RISTRUTTURAZIONE", 4),
    ("OCCUPATO_SENZA_TITOLO", 6),
    ("INAGIBILE", 2),
    ("ALTRO_USO", 1),
];

const STATI_ALTRE: &[(&str, u32)] = &[
    ("ASSEGNATO", 60),
    ("SFITTO_ASSEGNABILE", 30),
    ("SFITTO_DA_RISTRUTTURARE", 5),
    ("ALTRO_USO", 5),
];

const REGIMI: &[(&str, u32)] = &[
    ("ERP_SOVVENZIONATA", 88),
    ("ERP_AGEVOLATA", 7),
    ("ERS", 4),
    ("ALTRO", 1),
];

const CLASSI: &[(&str, u32)] = &[
    ("", 15),
    ("G", 30),
    ("F", 22),
    ("E", 13),
    ("D", 9),
    ("C", 5),
    ("B", 3),
    ("A1", 1),
    ("A2", 1),
    ("A3", 1),
];

/// The last year used for dates and interventions: fixed, so the output does not depend on
/// the day it is generated, and never in the future.
const ULTIMO_ANNO: i64 = 2024;

// ---------------------------------------------------------------------------------------------
// The generator.

struct Generatore {
    territorio: Territorio,
    seme: u64,
    unita: u64,
}

/// The building's values the units need (and the building row).
struct Fabbricato {
    codice: String,
    anno_costruzione: i64,
    numero_piani: i64,
    ascensore: bool,
    sezione: &'static str,
    foglio: u64,
    particella: u64,
}

/// The codice fiscale of a legal person: 11 digits, the last a check digit (as a partita IVA).
fn cf_giuridica(r: &mut Prng) -> String {
    let mut cifre = [0u8; 11];
    cifre[0] = 8;
    cifre[1] = 0;
    for c in cifre.iter_mut().take(10).skip(2) {
        *c = r.sotto(10) as u8;
    }
    let mut somma = 0u32;
    for (i, &c) in cifre.iter().take(10).enumerate() {
        let c = u32::from(c);
        somma += if i % 2 == 0 {
            c
        } else if c * 2 > 9 {
            c * 2 - 9
        } else {
            c * 2
        };
    }
    cifre[10] = ((10 - somma % 10) % 10) as u8;
    cifre.iter().map(|c| char::from(b'0' + c)).collect()
}

fn euro(s: &mut String, centesimi: i64) {
    let _ = write!(s, "{}.{:02}", centesimi / 100, centesimi % 100);
}

/// A number with at most one decimal, without a useless `.0`.
fn decimi(s: &mut String, decimi: i64) {
    if decimi % 10 == 0 {
        let _ = write!(s, "{}", decimi / 10);
    } else {
        let _ = write!(s, "{}.{}", decimi / 10, decimi % 10);
    }
}

impl Generatore {
    fn scrivi(&self, mut w: impl Scrittore) -> io::Result<RiepilogoGenerato> {
        let [tc, tf, tu] = tabelle();
        let mut riep = RiepilogoGenerato::default();
        let mut celle: Vec<String> = Vec::new();
        let pulisci = |celle: &mut Vec<String>, n: usize| {
            celle.resize(n, String::new());
            celle.iter_mut().for_each(String::clear);
        };

        // complessi
        w.inizia(tc.0)?;
        for p in Piano::new(&self.territorio, self.seme, self.unita) {
            if let (Some(c), true) = (p.complesso, p.primo_del_complesso) {
                pulisci(&mut celle, tc.1.len());
                self.complesso(c, &p, &mut celle);
                w.riga(&celle)?;
                riep.complessi += 1;
            }
        }
        w.finisci()?;

        // fabbricati
        w.inizia(tf.0)?;
        for p in Piano::new(&self.territorio, self.seme, self.unita) {
            pulisci(&mut celle, tf.1.len());
            self.fabbricato(&p, Some(&mut celle));
            w.riga(&celle)?;
            riep.fabbricati += 1;
        }
        w.finisci()?;

        // unita
        w.inizia(tu.0)?;
        for p in Piano::new(&self.territorio, self.seme, self.unita) {
            let f = self.fabbricato(&p, None);
            let mut r = Prng::new(mescola(self.seme, (p.indice << 1) | 1));
            let primo_sub = r.tra(1, 3) as u64;
            let per_scala = r.tra(6, 12) as u64;
            let mut interno = 0u64;
            for k in 0..p.n_unita {
                pulisci(&mut celle, tu.1.len());
                let sub = primo_sub + k;
                let scala = if p.n_unita > per_scala {
                    Some((b'A' + (k / per_scala).min(25) as u8) as char)
                } else {
                    None
                };
                self.unita(&mut r, &p, &f, k, sub, scala, &mut interno, &mut celle);
                w.riga(&celle)?;
                riep.unita += 1;
            }
        }
        w.finisci()?;
        w.chiudi()?;
        Ok(riep)
    }

    fn complesso(&self, c: u64, p: &PianoFabbricato, celle: &mut [String]) {
        let mut r = Prng::new(mescola(self.seme, 0xC0_0000_0000 + c));
        let comune = &self.territorio.comuni[p.comune];
        let _ = write!(celle[col_c::codice_complesso], "CPX{:05}", c + 1);
        let tipo = r.pesato(TIPI_COMPLESSO);
        if r.prob(0.3) {
            let _ = write!(
                celle[col_c::denominazione],
                "{tipo} {} – lotto {}",
                r.elemento(NOMI_STRADA),
                r.tra(1, 30)
            );
        } else {
            let _ = write!(
                celle[col_c::denominazione],
                "{tipo} {}",
                r.elemento(NOMI_COMPLESSO)
            );
        }
        celle[col_c::comune_istat].push_str(&comune.istat);
        match r.sotto(10) {
            0..=1 => {
                let _ = write!(
                    celle[col_c::note],
                    "Piano di zona L. 167/1962, lotto {}",
                    r.tra(1, 40)
                );
            }
            2 => celle[col_c::note].push_str("Programma di recupero urbano"),
            _ => {}
        }
    }

    /// The building of a plan entry; its row too when `celle` is given.
    fn fabbricato(&self, p: &PianoFabbricato, celle: Option<&mut Vec<String>>) -> Fabbricato {
        let mut r = Prng::new(mescola(self.seme, p.indice << 1));
        let comune = &self.territorio.comuni[p.comune];
        let anno_costruzione = if r.prob(0.7) {
            r.tra(1960, 1995)
        } else {
            r.tra(1950, 2015)
        };
        let per_piano = r.tra(2, 4);
        let numero_piani = ((p.n_unita as i64 + per_piano - 1) / per_piano).clamp(1, 12);
        let ascensore = numero_piani >= 5 || (numero_piani >= 3 && r.prob(0.3));
        // Parcels unique per Comune: sheet = ordinal mod F, parcel in a band of 7 per round.
        let h = comune
            .istat
            .bytes()
            .fold(7u64, |h, b| h * 31 + u64::from(b));
        let fogli = 20 + h % 160;
        let foglio = 1 + p.ordinale_comune % fogli;
        let particella = 50 + (p.ordinale_comune / fogli) * 7 + r.sotto(7);
        let sezione = if comune.capoluogo {
            *r.elemento(&["A", "B", "C"])
        } else {
            ""
        };
        let f = Fabbricato {
            codice: format!("FAB{:06}", p.indice + 1),
            anno_costruzione,
            numero_piani,
            ascensore,
            sezione,
            foglio,
            particella,
        };
        let Some(c) = celle else { return f };
        c[col_f::codice_fabbricato].push_str(&f.codice);
        if let Some(k) = p.complesso {
            let _ = write!(c[col_f::codice_complesso], "CPX{:05}", k + 1);
        }
        c[col_f::comune_istat].push_str(&comune.istat);
        let _ = write!(
            c[col_f::indirizzo],
            "{} {}",
            r.pesato(TIPI_STRADA),
            r.elemento(NOMI_STRADA)
        );
        let civico = r.tra(1, 220);
        match r.sotto(20) {
            0 => c[col_f::numero_civico].push_str("SNC"),
            1..=2 => {
                let _ = write!(
                    c[col_f::numero_civico],
                    "{civico}/{}",
                    r.elemento(&["A", "B", "C"])
                );
            }
            3..=4 => {
                let _ = write!(
                    c[col_f::numero_civico],
                    "{civico}{}",
                    r.elemento(&["A", "B"])
                );
            }
            _ => {
                let _ = write!(c[col_f::numero_civico], "{civico}");
            }
        }
        let cap = if comune.capoluogo {
            comune.cap * 100 + 21 + r.sotto(12) as u32
        } else {
            comune.cap * 100 + 10 + (h % 60) as u32
        };
        let _ = write!(c[col_f::cap], "{cap}");
        // A few km around the Comune.
        let lat = (comune.lat + (r.unif() * 2.0 - 1.0) * 0.02).clamp(39.8, 42.2);
        let lon = (comune.lon + (r.unif() * 2.0 - 1.0) * 0.025).clamp(15.0, 18.5);
        let _ = write!(c[col_f::latitudine], "{lat:.6}");
        let _ = write!(c[col_f::longitudine], "{lon:.6}");
        let _ = write!(c[col_f::foglio], "{foglio}");
        let _ = write!(c[col_f::particella], "{particella}");
        let _ = write!(c[col_f::anno_costruzione], "{anno_costruzione}");
        let _ = write!(c[col_f::numero_piani], "{numero_piani}");
        c[col_f::ascensore].push_str(if ascensore { "SI" } else { "NO" });
        let titolo = r.pesato(TITOLI);
        c[col_f::titolo_possesso].push_str(titolo);
        if titolo == "GESTIONE" {
            c[col_f::cf_proprietario].push_str(&cf_giuridica(&mut r));
        }
        c[col_f::stato_conservazione].push_str(r.pesato(STATI_CONSERVAZIONE));
        f
    }

    #[allow(clippy::too_many_arguments)]
    fn unita(
        &self,
        r: &mut Prng,
        p: &PianoFabbricato,
        f: &Fabbricato,
        k: u64,
        subalterno: u64,
        scala: Option<char>,
        interno: &mut u64,
        c: &mut [String],
    ) {
        let tipologia = r.pesato(TIPOLOGIE);
        let _ = write!(c[col_u::codice_unita], "UI{:08}", p.prima_unita + k + 1);
        c[col_u::codice_fabbricato].push_str(&f.codice);
        c[col_u::tipologia].push_str(match tipologia {
            Tipologia::Alloggio => "ALLOGGIO",
            Tipologia::Box => "BOX",
            Tipologia::PostoAuto => "POSTO_AUTO",
            Tipologia::Negozio => "NEGOZIO",
            Tipologia::Ufficio => "UFFICIO",
            Tipologia::Magazzino => "MAGAZZINO",
        });
        c[col_u::sezione_urbana].push_str(f.sezione);
        let _ = write!(c[col_u::foglio], "{}", f.foglio);
        let _ = write!(c[col_u::particella], "{}", f.particella);
        let _ = write!(c[col_u::subalterno], "{subalterno}");
        let categoria = match tipologia {
            Tipologia::Alloggio => r.pesato(CATEGORIE_ALLOGGIO),
            Tipologia::Box => "C/6",
            Tipologia::PostoAuto => {
                if r.prob(0.7) {
                    "C/6"
                } else {
                    "C/7"
                }
            }
            Tipologia::Negozio => "C/1",
            Tipologia::Ufficio => "A/10",
            Tipologia::Magazzino => {
                if r.prob(0.8) {
                    "C/2"
                } else {
                    "C/3"
                }
            }
        };
        c[col_u::categoria_catastale].push_str(categoria);
        // Surface (tenths of m²) and rooms.
        let (superficie, vani) = match tipologia {
            Tipologia::Alloggio => {
                // A bell around 70 m², within 35–120.
                let s = (350 + r.sotto(851) as i64 + 350 + r.sotto(851) as i64) / 2;
                let s = if r.prob(0.7) { s / 10 * 10 } else { s };
                let vani = ((s as f64 / 10.0 / 16.0) * 2.0).round().clamp(3.0, 16.0) as i64;
                (s, Some(vani))
            }
            Tipologia::Ufficio => {
                let s = r.tra(40, 150) * 10;
                (
                    s,
                    Some(((s as f64 / 10.0 / 18.0) * 2.0).round().max(2.0) as i64),
                )
            }
            Tipologia::Box => (r.tra(12, 30) * 10, None),
            Tipologia::PostoAuto => (r.tra(10, 15) * 10, None),
            Tipologia::Negozio => (r.tra(25, 160) * 10, None),
            Tipologia::Magazzino => (r.tra(6, 60) * 10, None),
        };
        // Cadastral income: per room for A, per m² for C.
        let rendita = match vani {
            Some(v) => v * r.tra(2_000, 6_000),
            None => {
                let per_mq = match tipologia {
                    Tipologia::Negozio => r.tra(800, 2_500),
                    _ => r.tra(150, 600),
                };
                superficie * per_mq / 10
            }
        };
        euro(&mut c[col_u::rendita_catastale], rendita);
        // Floor.
        let piano = match tipologia {
            Tipologia::Alloggio | Tipologia::Ufficio => {
                let livello = r.sotto(f.numero_piani as u64) as i64;
                if livello == 0 {
                    if r.prob(0.3) {
                        "R".to_string()
                    } else {
                        "T".to_string()
                    }
                } else {
                    livello.to_string()
                }
            }
            Tipologia::Negozio => "T".to_string(),
            Tipologia::Box | Tipologia::PostoAuto | Tipologia::Magazzino => {
                if r.prob(0.6) {
                    "S1".to_string()
                } else {
                    "T".to_string()
                }
            }
        };
        c[col_u::piano].push_str(&piano);
        let abitativa = matches!(tipologia, Tipologia::Alloggio | Tipologia::Ufficio);
        if abitativa {
            if let Some(s) = scala {
                c[col_u::scala].push(s);
            }
            *interno += 1;
            let _ = write!(c[col_u::interno], "{interno}");
        }
        decimi(&mut c[col_u::superficie_utile_mq], superficie);
        if let Some(v) = vani {
            decimi(&mut c[col_u::numero_vani], v * 5);
        }
        c[col_u::classe_energetica].push_str(if abitativa { r.pesato(CLASSI) } else { "" });
        let accessibile = piano == "T" || piano == "R" || (f.ascensore && r.prob(0.5));
        c[col_u::accessibile_disabili].push_str(if accessibile { "SI" } else { "NO" });
        c[col_u::regime].push_str(r.pesato(REGIMI));
        let stato = if tipologia == Tipologia::Alloggio {
            r.pesato(STATI_ALLOGGIO)
        } else {
            r.pesato(STATI_ALTRE)
        };
        c[col_u::stato_occupazione].push_str(stato);
        if stato == "ASSEGNATO" {
            let anno = r.tra(f.anno_costruzione.max(1965) + 1, ULTIMO_ANNO);
            let _ = write!(
                c[col_u::data_assegnazione],
                "{anno}-{:02}-{:02}",
                r.tra(1, 12),
                r.tra(1, 28)
            );
            let canone = match tipologia {
                Tipologia::Alloggio => r.tra(4_000, 40_000),
                Tipologia::Box | Tipologia::PostoAuto => r.tra(2_000, 8_000),
                Tipologia::Magazzino => r.tra(3_000, 15_000),
                Tipologia::Negozio | Tipologia::Ufficio => r.tra(15_000, 80_000),
            };
            // Rents are often whole euros.
            euro(
                &mut c[col_u::canone_mensile],
                if r.prob(0.4) {
                    canone / 100 * 100
                } else {
                    canone
                },
            );
        }
        if tipologia == Tipologia::Alloggio {
            let occupanti = match stato {
                "ASSEGNATO" => r.pesato(&[(1, 25), (2, 30), (3, 20), (4, 15), (5, 7), (6, 3)]),
                "OCCUPATO_SENZA_TITOLO" => r.tra(1, 5),
                _ => 0,
            };
            let _ = write!(c[col_u::numero_occupanti], "{occupanti}");
        }
        let intervento = if stato == "IN_RISTRUTTURAZIONE" {
            Some(r.tra(f.anno_costruzione.max(2018), ULTIMO_ANNO))
        } else if r.prob(0.4) {
            let da = (f.anno_costruzione + 10).min(ULTIMO_ANNO);
            Some(r.tra(da, ULTIMO_ANNO))
        } else {
            None
        };
        if let Some(anno) = intervento {
            let _ = write!(c[col_u::anno_ultimo_intervento], "{anno}");
            // CUP exist since 2003: letter, 2 digits, letter, 2-digit year, 9 digits.
            if anno >= 2003 && r.prob(0.7) {
                let _ = write!(
                    c[col_u::cup_ultimo_intervento],
                    "{}{:02}{}{:02}{:09}",
                    r.elemento(&['B', 'C', 'D', 'E', 'F', 'G', 'H', 'J']),
                    r.tra(10, 99),
                    r.elemento(&['B', 'D', 'E', 'H', 'J']),
                    anno % 100,
                    r.sotto(1_000_000_000)
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writers.

trait Scrittore {
    /// Starts a table: writes its header (the spec's field names).
    fn inizia(&mut self, t: &'static Tabella) -> io::Result<()>;
    /// A row, in the spec's field order; an empty string is an empty cell.
    fn riga(&mut self, celle: &[String]) -> io::Result<()>;
    fn finisci(&mut self) -> io::Result<()>;
    fn chiudi(self) -> io::Result<()>;
}

fn intestazione(t: &Tabella) -> Vec<&'static str> {
    t.campi.iter().map(|c| c.nome).collect()
}

/// One CSV record: `,` separator, fields quoted only when needed, `\n` line end.
fn scrivi_record<S: AsRef<str>>(w: &mut impl Write, celle: &[S]) -> io::Result<()> {
    for (i, c) in celle.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        let c = c.as_ref();
        if c.contains([',', '"', '\n', '\r']) {
            w.write_all(b"\"")?;
            w.write_all(c.replace('"', "\"\"").as_bytes())?;
            w.write_all(b"\"")?;
        } else {
            w.write_all(c.as_bytes())?;
        }
    }
    w.write_all(b"\n")
}

fn errore_zip(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        altro => io::Error::other(altro.to_string()),
    }
}

/// Buffers rows and hands them to the ZIP writer in large blocks (the deflater works better on
/// large writes).
struct ScrittoreZip {
    zip: zip::ZipWriter<BufWriter<File>>,
    buffer: Vec<u8>,
}

impl ScrittoreZip {
    fn new(p: &Path) -> io::Result<Self> {
        let f = BufWriter::with_capacity(256 * 1024, File::create(p)?);
        Ok(Self {
            zip: zip::ZipWriter::new(f),
            buffer: Vec::with_capacity(128 * 1024),
        })
    }
    fn svuota(&mut self) -> io::Result<()> {
        self.zip.write_all(&self.buffer)?;
        self.buffer.clear();
        Ok(())
    }
}

impl Scrittore for ScrittoreZip {
    fn inizia(&mut self, t: &'static Tabella) -> io::Result<()> {
        self.svuota()?;
        let opzioni = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        self.zip
            .start_file(format!("{}.csv", t.nome), opzioni)
            .map_err(errore_zip)?;
        scrivi_record(&mut self.buffer, &intestazione(t))
    }
    fn riga(&mut self, celle: &[String]) -> io::Result<()> {
        scrivi_record(&mut self.buffer, celle)?;
        if self.buffer.len() >= 64 * 1024 {
            self.svuota()?;
        }
        Ok(())
    }
    fn finisci(&mut self) -> io::Result<()> {
        self.svuota()
    }
    fn chiudi(mut self) -> io::Result<()> {
        self.svuota()?;
        self.zip.finish().map_err(errore_zip)?.flush()
    }
}

struct ScrittoreCartella {
    cartella: std::path::PathBuf,
    w: Option<BufWriter<File>>,
}

impl ScrittoreCartella {
    fn new(p: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(p)?;
        Ok(Self {
            cartella: p.to_path_buf(),
            w: None,
        })
    }
}

impl Scrittore for ScrittoreCartella {
    fn inizia(&mut self, t: &'static Tabella) -> io::Result<()> {
        let f = File::create(self.cartella.join(format!("{}.csv", t.nome)))?;
        let mut w = BufWriter::with_capacity(256 * 1024, f);
        scrivi_record(&mut w, &intestazione(t))?;
        self.w = Some(w);
        Ok(())
    }
    fn riga(&mut self, celle: &[String]) -> io::Result<()> {
        match &mut self.w {
            Some(w) => scrivi_record(w, celle),
            None => Err(io::Error::other("tabella non iniziata")),
        }
    }
    fn finisci(&mut self) -> io::Result<()> {
        match self.w.take() {
            Some(mut w) => w.flush(),
            None => Ok(()),
        }
    }
    fn chiudi(mut self) -> io::Result<()> {
        self.finisci()
    }
}

/// How an XLSX cell is written, from the field's type: numbers and dates as such (as Excel
/// users write them), everything else as text (codes keep their leading zeros).
#[derive(Clone, Copy)]
enum TipoCella {
    Testo,
    Numero,
    Data,
}

struct ScrittoreXlsx {
    percorso: std::path::PathBuf,
    libro: rust_xlsxwriter::Workbook,
    /// Index of the sheet being written, and sheets added so far.
    foglio: usize,
    aggiunti: usize,
    riga: u32,
    tipi: Vec<TipoCella>,
    formato_data: rust_xlsxwriter::Format,
    intestazione: rust_xlsxwriter::Format,
}

fn errore_xlsx(e: rust_xlsxwriter::XlsxError) -> io::Error {
    match e {
        rust_xlsxwriter::XlsxError::IoError(e) => e,
        altro => io::Error::other(altro.to_string()),
    }
}

impl ScrittoreXlsx {
    /// `dominio` names the flow in the workbook's title.
    fn new(p: &Path, dominio: &str) -> Self {
        let mut libro = rust_xlsxwriter::Workbook::new();
        // A fixed creation date: the same options give the same bytes.
        let data =
            rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 1, 1).expect("data costante valida");
        libro.set_properties(
            &rust_xlsxwriter::DocProperties::new()
                .set_creation_datetime(&data)
                .set_title(format!("PUSH – {dominio} (dati generati)")),
        );
        Self {
            percorso: p.to_path_buf(),
            libro,
            foglio: 0,
            aggiunti: 0,
            riga: 0,
            tipi: Vec::new(),
            formato_data: rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd"),
            intestazione: rust_xlsxwriter::Format::new().set_bold(),
        }
    }
}

impl Scrittore for ScrittoreXlsx {
    fn inizia(&mut self, t: &'static Tabella) -> io::Result<()> {
        let ws = self
            .libro
            .add_worksheet_with_constant_memory()
            .map_err(errore_xlsx)?;
        ws.set_name(t.nome).map_err(errore_xlsx)?;
        for (i, c) in t.campi.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, c.nome, &self.intestazione)
                .map_err(errore_xlsx)?;
        }
        self.tipi = t
            .campi
            .iter()
            .map(|c| match c.tipo {
                Tipo::Intero | Tipo::Numero { .. } | Tipo::Denaro => TipoCella::Numero,
                Tipo::Data => TipoCella::Data,
                _ => TipoCella::Testo,
            })
            .collect();
        self.riga = 1;
        self.foglio = self.aggiunti;
        self.aggiunti += 1;
        Ok(())
    }
    fn riga(&mut self, celle: &[String]) -> io::Result<()> {
        let ws = self
            .libro
            .worksheet_from_index(self.foglio)
            .map_err(errore_xlsx)?;
        for (i, (v, tipo)) in celle.iter().zip(&self.tipi).enumerate() {
            if v.is_empty() {
                continue;
            }
            let col = i as u16;
            match tipo {
                TipoCella::Testo => ws.write_string(self.riga, col, v),
                TipoCella::Numero => match v.parse::<f64>() {
                    Ok(n) => ws.write_number(self.riga, col, n),
                    Err(_) => ws.write_string(self.riga, col, v),
                },
                TipoCella::Data => {
                    let p = |a: usize, b: usize| v.get(a..b).and_then(|s| s.parse::<u32>().ok());
                    match (p(0, 4), p(5, 7), p(8, 10)) {
                        (Some(a), Some(m), Some(g)) => {
                            match rust_xlsxwriter::ExcelDateTime::from_ymd(
                                a as u16, m as u8, g as u8,
                            ) {
                                Ok(d) => ws.write_datetime_with_format(
                                    self.riga,
                                    col,
                                    &d,
                                    &self.formato_data,
                                ),
                                Err(_) => ws.write_string(self.riga, col, v),
                            }
                        }
                        _ => ws.write_string(self.riga, col, v),
                    }
                }
            }
            .map_err(errore_xlsx)?;
        }
        self.riga += 1;
        Ok(())
    }
    fn finisci(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn chiudi(mut self) -> io::Result<()> {
        self.libro.save(&self.percorso).map_err(errore_xlsx)
    }
}

// The `programmi` and `contabilita` generators, on the same machinery (declared after the
// `colonne!` macro, which they use).
pub mod contabilita;

#[cfg(test)]
mod test {
    use super::*;
    use crate::lettori::dati::Dati;
    use crate::{Dichiarante, Opzioni, valida_file};

    fn opz(unita: u64, seme: u64, ente: &str) -> OpzioniGenera {
        OpzioniGenera {
            unita,
            seme,
            ente: ente.into(),
        }
    }

    fn valida(p: &Path, ente: &str) -> crate::Report {
        let mut o = Opzioni::new(dominio::orologio::oggi());
        o.dichiarante = Dichiarante::da_codice(ente);
        assert!(o.dichiarante.is_some());
        let nome = p.file_name().unwrap().to_string_lossy().to_string();
        valida_file(&nome, Dati::File(p.into()), patrimonio::dominio(), &o, None)
    }

    fn assert_pulito(r: &crate::Report, righe: u64) {
        assert!(
            r.valido && r.errori == 0 && r.avvisi == 0,
            "errori {} avvisi {} conteggi {:?} prime segnalazioni {:?}",
            r.errori,
            r.avvisi,
            r.conteggi,
            r.segnalazioni.iter().take(5).collect::<Vec<_>>()
        );
        let unita = r.tabelle.iter().find(|(n, _)| n == "unita").unwrap();
        assert_eq!(unita.1.righe, righe);
    }

    #[test]
    fn colonne_nell_ordine_della_specifica() {
        verifica_colonne().unwrap();
    }

    #[test]
    fn zip_csv_valido_senza_avvisi() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("patrimonio.zip");
        let riep =
            genera_patrimonio(&opz(2_000, 42, "ARCA-PC"), FormatoGenerato::ZipCsv, &p).unwrap();
        assert_eq!(riep.unita, 2_000);
        // ~1 building per 8–20 units.
        assert!((100..=250).contains(&riep.fabbricati), "{riep:?}");
        assert!(riep.complessi > 0);
        let r = valida(&p, "ARCA-PC");
        assert_pulito(&r, 2_000);
        let f = r.tabelle.iter().find(|(n, _)| n == "fabbricati").unwrap();
        assert_eq!(f.1.righe, riep.fabbricati);
    }

    #[test]
    fn xlsx_valido_senza_avvisi() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("patrimonio.xlsx");
        let riep =
            genera_patrimonio(&opz(2_000, 42, "ARCA-PC"), FormatoGenerato::Xlsx, &p).unwrap();
        assert_eq!(riep.unita, 2_000);
        let r = valida(&p, "ARCA-PC");
        assert_pulito(&r, 2_000);
    }

    #[test]
    fn un_comune_solo_nel_suo_territorio() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lecce.zip");
        genera_patrimonio(&opz(3_000, 7, "075035"), FormatoGenerato::ZipCsv, &p).unwrap();
        // fuori_territorio would be a warning: none.
        assert_pulito(&valida(&p, "075035"), 3_000);
        let p = dir.path().join("regione.zip");
        genera_patrimonio(&opz(3_000, 8, "REGIONE"), FormatoGenerato::ZipCsv, &p).unwrap();
        assert_pulito(&valida(&p, "REGIONE"), 3_000);
    }

    #[test]
    fn stesso_seme_stessi_byte() {
        let dir = tempfile::tempdir().unwrap();
        for (formato, est) in [
            (FormatoGenerato::ZipCsv, "zip"),
            (FormatoGenerato::Xlsx, "xlsx"),
        ] {
            let a = dir.path().join(format!("a.{est}"));
            let b = dir.path().join(format!("b.{est}"));
            let c = dir.path().join(format!("c.{est}"));
            genera_patrimonio(&opz(1_500, 3, "ARCA-PC"), formato, &a).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1100));
            genera_patrimonio(&opz(1_500, 3, "ARCA-PC"), formato, &b).unwrap();
            genera_patrimonio(&opz(1_500, 4, "ARCA-PC"), formato, &c).unwrap();
            let (a, b, c) = (
                std::fs::read(a).unwrap(),
                std::fs::read(b).unwrap(),
                std::fs::read(c).unwrap(),
            );
            assert!(a == b, "{est}: stesso seme, byte diversi");
            assert!(a != c, "{est}: semi diversi, stessi byte");
        }
    }

    #[test]
    fn cartella_csv_e_contenuto_realistico() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("flusso");
        let riep = genera_patrimonio(
            &opz(5_000, 11, "ARCA-PC"),
            FormatoGenerato::CartellaCsv,
            &out,
        )
        .unwrap();
        let testo = |n: &str| std::fs::read_to_string(out.join(n)).unwrap();
        let (c, f, u) = (
            testo("complessi.csv"),
            testo("fabbricati.csv"),
            testo("unita.csv"),
        );
        for (t, s) in [("complessi", &c), ("fabbricati", &f), ("unita", &u)] {
            let spec = patrimonio::dominio().tabella(t).unwrap();
            let attesa: Vec<&str> = spec.campi.iter().map(|c| c.nome).collect();
            assert_eq!(s.lines().next().unwrap(), attesa.join(","));
            assert!(!s.starts_with('\u{feff}') && !s.contains('\r'));
        }
        assert_eq!(c.lines().count() as u64 - 1, riep.complessi);
        assert_eq!(f.lines().count() as u64 - 1, riep.fabbricati);
        assert_eq!(u.lines().count() as u64 - 1, 5_000);
        // The mix: mostly dwellings, ~70 % of them assigned.
        let mut r = csv::Reader::from_path(out.join("unita.csv")).unwrap();
        let (mut alloggi, mut assegnati, mut altre) = (0, 0, 0);
        for rec in r.records() {
            let rec = rec.unwrap();
            if &rec[col_u::tipologia] == "ALLOGGIO" {
                alloggi += 1;
                let s: f64 = rec[col_u::superficie_utile_mq].parse().unwrap();
                assert!((35.0..=120.0).contains(&s));
                if &rec[col_u::stato_occupazione] == "ASSEGNATO" {
                    assegnati += 1;
                    let canone: f64 = rec[col_u::canone_mensile].parse().unwrap();
                    assert!((40.0..=400.0).contains(&canone));
                }
            } else {
                altre += 1;
            }
        }
        assert!(alloggi > 4_000 && altre > 300, "{alloggi} {altre}");
        let quota = f64::from(assegnati) / f64::from(alloggi);
        assert!((0.65..0.75).contains(&quota), "{quota}");
        // Only the Comuni of BA and BT; coordinates in Puglia.
        let mut r = csv::Reader::from_path(out.join("fabbricati.csv")).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            let c = riferimento::comune(&rec[col_f::comune_istat]).unwrap();
            assert!(["BA", "BT"].contains(&c.sigla_provincia.as_str()));
            let lat: f64 = rec[col_f::latitudine].parse().unwrap();
            let lon: f64 = rec[col_f::longitudine].parse().unwrap();
            assert!((39.8..=42.2).contains(&lat) && (15.0..=18.5).contains(&lon));
        }
    }

    #[test]
    fn ente_sconosciuto_e_formati() {
        let dir = tempfile::tempdir().unwrap();
        let e = genera_patrimonio(
            &opz(10, 1, "ARCA-XX"),
            FormatoGenerato::ZipCsv,
            &dir.path().join("x.zip"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let e = genera_patrimonio(
            &opz(2_000_000, 1, "REGIONE"),
            FormatoGenerato::Xlsx,
            &dir.path().join("x.xlsx"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            FormatoGenerato::da_percorso(Path::new("a/b.ZIP")),
            Some(FormatoGenerato::ZipCsv)
        );
        assert_eq!(
            FormatoGenerato::da_percorso(Path::new("b.xlsx")),
            Some(FormatoGenerato::Xlsx)
        );
        assert_eq!(
            FormatoGenerato::da_percorso(Path::new("out/")),
            Some(FormatoGenerato::CartellaCsv)
        );
        assert_eq!(
            FormatoGenerato::da_percorso(Path::new("out")),
            Some(FormatoGenerato::CartellaCsv)
        );
        assert_eq!(FormatoGenerato::da_percorso(Path::new("out.csv")), None);
    }

    #[test]
    fn codice_fiscale_giuridico_valido() {
        let mut r = Prng::new(5);
        for _ in 0..200 {
            let cf = cf_giuridica(&mut r);
            assert!(dominio::codice_fiscale::partita_iva_valida(&cf), "{cf}");
        }
    }
}
