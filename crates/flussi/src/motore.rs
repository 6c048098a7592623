//! The validation engine: reads a [`Sorgente`] table by table in the spec's order, maps headers,
//! applies the value rules to every cell, the generic key and reference checks, and the domain's
//! row and table rules; collects the issues into a [`Report`].

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::impronte::{Impronta, Impronte, scrivi_parte};
use crate::lettori::{Cella, Continua, ErroreLettura, Evento, Limiti, Sorgente};
use crate::regole::{self, Contesto, Regole};
use crate::report::{InfoTabellaReport, Posizione, Raccolta, Report, Segnalazione};
use crate::spec::{Dominio, Gravita, Obbligo, Tabella};
use crate::valori::{Valore, interpreta_in, testo_cella};

/// Who declares the flow (enables `fuori_territorio`).
#[derive(Clone, Debug, PartialEq)]
pub enum Dichiarante {
    Comune(String),
    /// An ARCA with the province abbreviations it covers.
    Arca(Vec<String>),
    Regione,
}

impl Dichiarante {
    /// From an entity code: ISTAT code, ARCA code or `REGIONE`.
    pub fn da_codice(codice: &str) -> Option<Dichiarante> {
        let c = codice.trim().to_ascii_uppercase();
        if c == "REGIONE" {
            return Some(Dichiarante::Regione);
        }
        if let Some(a) = crate::riferimento::arca_per_codice(&c) {
            return Some(Dichiarante::Arca(a.province.clone()));
        }
        let c = if c.len() == 5 { format!("0{c}") } else { c };
        crate::riferimento::comune(&c).map(|_| Dichiarante::Comune(c))
    }
}

/// Reference data for cross-flow checks; `None` = not available (offline without the file).
#[derive(Clone, Debug, Default)]
pub struct Riferimenti {
    /// Codes of the Region's programmes (`programma_sconosciuto`).
    pub programmi: Option<HashSet<String>>,
    /// Building codes of the entity's asset register (`fabbricato_sconosciuto`).
    pub fabbricati: Option<HashSet<String>>,
}

/// Called while reading: (table, data rows read so far in it).
pub type Avanzamento = std::sync::Arc<dyn Fn(&str, u64) + Send + Sync>;

/// How often (in rows) progress is reported.
pub const PASSO_AVANZAMENTO: u64 = 10_000;

/// Options of one validation.
#[derive(Clone)]
pub struct Opzioni {
    /// "Today" for `data_futura` and the current year.
    pub oggi: NaiveDate,
    pub dichiarante: Option<Dichiarante>,
    pub riferimenti: Riferimenti,
    pub limiti: Limiti,
    pub avanzamento: Option<Avanzamento>,
}

impl std::fmt::Debug for Opzioni {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opzioni")
            .field("oggi", &self.oggi)
            .field("dichiarante", &self.dichiarante)
            .field("limiti", &self.limiti)
            .finish_non_exhaustive()
    }
}

impl Opzioni {
    pub fn new(oggi: NaiveDate) -> Self {
        Self {
            oggi,
            dichiarante: None,
            riferimenti: Riferimenti::default(),
            limiti: Limiti::default(),
            avanzamento: None,
        }
    }
}

/// Watches the rows as they are validated: the platform uses it to keep the canonical rows of a
/// flow, the rows in error with their values, and to add the checks that need the shared
/// database (`catasto_conteso`, `rimozione`). The engine stays pure: it only calls back.
pub trait Osservatore {
    /// One data row after all its row checks. `valori` are the typed values (`None` = empty or
    /// failed), `testi` the values as read; `errata` tells whether the row got an error.
    fn riga(
        &mut self,
        tabella: &'static Tabella,
        numero: u64,
        valori: &[Option<Valore>],
        testi: &[Option<String>],
        errata: bool,
    );
    /// After every table and rule: more issues to add to the report (warnings of the platform).
    fn fine(&mut self) -> Vec<Aggiunta> {
        Vec::new()
    }
}

/// An issue added by an [`Osservatore`]; always a warning.
#[derive(Clone, Debug)]
pub struct Aggiunta {
    pub tabella: &'static str,
    pub riga: Option<u64>,
    pub campo: Option<&'static str>,
    pub valore: Option<String>,
    pub codice: &'static str,
    pub messaggio: String,
}

/// A typed row handed to the domain rules.
pub struct Riga<'a> {
    pub numero: u64,
    pub tabella: &'static Tabella,
    pub valori: &'a [Option<Valore>],
    /// Fields whose value failed a value rule: row checks that need them are skipped.
    pub falliti: &'a [bool],
    /// The values as read (for `valore` in the report).
    pub testi: &'a [Option<String>],
}

impl Riga<'_> {
    fn i(&self, campo: &str) -> usize {
        self.tabella.indice(campo).unwrap_or(usize::MAX)
    }
    /// The typed value of a field, `None` if empty or failed.
    pub fn v(&self, campo: &str) -> Option<&Valore> {
        self.valori.get(self.i(campo)).and_then(Option::as_ref)
    }
    pub fn testo(&self, campo: &str) -> Option<&str> {
        self.v(campo).and_then(Valore::testo)
    }
    pub fn fallito(&self, campo: &str) -> bool {
        self.falliti.get(self.i(campo)).copied().unwrap_or(false)
    }
    /// Usable for a row check: given and valid, or empty; `false` when it failed.
    pub fn utilizzabile(&self, campo: &str) -> bool {
        !self.fallito(campo)
    }
    pub fn letto(&self, campo: &str) -> Option<&str> {
        self.letto_i(self.i(campo))
    }
    /// [`Riga::v`] by field index (rules that resolve their fields once).
    pub fn v_i(&self, i: usize) -> Option<&Valore> {
        self.valori.get(i).and_then(Option::as_ref)
    }
    pub fn testo_i(&self, i: usize) -> Option<&str> {
        self.v_i(i).and_then(Valore::testo)
    }
    pub fn utilizzabile_i(&self, i: usize) -> bool {
        !self.falliti.get(i).copied().unwrap_or(false)
    }
    pub fn letto_i(&self, i: usize) -> Option<&str> {
        self.testi.get(i).and_then(|t| t.as_deref())
    }
}

fn normalizza_nome(s: &str) -> String {
    s.trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
}

/// Validates a source against a domain.
pub fn valida(sorgente: &mut dyn Sorgente, dominio: &'static Dominio, opzioni: &Opzioni) -> Report {
    let mut m = Motore::new(dominio, opzioni);
    m.esegui(sorgente);
    m.report()
}

/// A report for a file that could not be opened at all.
pub fn report_errore_file(dominio: &'static Dominio, e: &ErroreLettura) -> Report {
    let opz = Opzioni::new(NaiveDate::default());
    let mut m = Motore::new(dominio, &opz);
    m.errore_lettura(None, e);
    m.report()
}

pub(crate) struct Motore<'o> {
    pub dominio: &'static Dominio,
    pub opzioni: &'o Opzioni,
    pub out: Raccolta,
    righe: Vec<(String, InfoTabellaReport)>,
    /// Fingerprints of the keys seen per table (for `chiave_duplicata` and references).
    chiavi: HashMap<&'static str, Impronte>,
    regole: Box<dyn Regole>,
    pub firme: Vec<crate::lettori::firma::Firma>,
    /// A table could not be read whole: checks across tables would only add noise.
    incompleto: bool,
    /// Tables not read whole (references to them are not checked).
    tabelle_incomplete: HashSet<&'static str>,
    /// Tables whose keys cannot be trusted for references, with why (for
    /// `controllo_non_eseguito`): a required table missing, a table not read whole, a key
    /// column missing.
    non_verificabili: HashMap<&'static str, String>,
    /// Required tables missing from the flow (the domain rules skip their checks).
    mancanti: HashSet<&'static str>,
    pub osservatore: Option<&'o mut dyn Osservatore>,
}

impl<'o> Motore<'o> {
    pub fn new(dominio: &'static Dominio, opzioni: &'o Opzioni) -> Self {
        Self {
            dominio,
            opzioni,
            out: Raccolta::default(),
            righe: Vec::new(),
            chiavi: HashMap::new(),
            regole: regole::per_dominio(dominio.nome),
            firme: Vec::new(),
            incompleto: false,
            tabelle_incomplete: HashSet::new(),
            non_verificabili: HashMap::new(),
            mancanti: HashSet::new(),
            osservatore: None,
        }
    }

    /// Asks the observer for its issues (call after [`Motore::esegui`], before the report).
    pub fn chiudi_osservatore(&mut self) {
        let Some(o) = self.osservatore.as_mut() else {
            return;
        };
        for a in o.fine() {
            let Some((ti, t)) = self
                .dominio
                .tabelle
                .iter()
                .enumerate()
                .find(|(_, t)| t.nome == a.tabella)
            else {
                continue;
            };
            segnala(
                &mut self.out,
                ti,
                t,
                a.riga,
                a.campo,
                a.valore.as_deref(),
                a.codice,
                Gravita::Avviso,
                a.messaggio,
            );
        }
    }

    pub fn report(self) -> Report {
        let (segnalazioni, troncato, conteggi, errori, avvisi) = self.out.chiudi();
        let mut firme = self.firme;
        let firma = if firme.is_empty() {
            None
        } else {
            Some(firme.remove(0))
        };
        Report {
            dominio: self.dominio.nome.to_string(),
            valido: errori == 0,
            errori,
            avvisi,
            troncato,
            tabelle: self.righe,
            conteggi,
            segnalazioni,
            firma,
            firme,
        }
    }

    /// Adds a file-level issue for a reading error.
    pub fn errore_lettura(&mut self, tabella: Option<(usize, &str)>, e: &ErroreLettura) {
        self.incompleto = true;
        let codice = match e {
            ErroreLettura::Illeggibile(_) => "file_illeggibile",
            ErroreLettura::Codifica(_) => "codifica_non_valida",
            ErroreLettura::Limite(_) => "limite_superato",
            ErroreLettura::FormatoNonSupportato(_) => "formato_non_supportato",
            ErroreLettura::Firma(_) => "firma_non_valida",
        };
        let mut testo = e.to_string();
        if let Some(p) = testo.get(..1) {
            testo = format!("{}{}", p.to_uppercase(), &testo[1..]);
        }
        if !testo.ends_with('.') {
            testo.push('.');
        }
        let pos = Posizione {
            tabella: tabella.map(|(i, _)| i + 1).unwrap_or(0),
            riga: 0,
            campo: 0,
        };
        self.out.aggiungi(
            pos,
            Segnalazione {
                tabella: tabella.map(|(_, t)| t.to_string()),
                riga: None,
                campo: None,
                valore: None,
                codice: codice.into(),
                gravita: Gravita::Errore,
                messaggio: testo,
            },
        );
    }

    fn segnala_tabella(
        &mut self,
        ti: Option<usize>,
        tabella: &str,
        codice: &str,
        gravita: Gravita,
        messaggio: String,
    ) {
        let pos = Posizione {
            tabella: ti.map(|i| i + 1).unwrap_or(usize::MAX),
            riga: 0,
            campo: 0,
        };
        self.out.aggiungi(
            pos,
            Segnalazione {
                tabella: Some(tabella.into()),
                riga: None,
                campo: None,
                valore: None,
                codice: codice.into(),
                gravita,
                messaggio,
            },
        );
    }

    pub fn esegui(&mut self, sorgente: &mut dyn Sorgente) {
        let trovate = match sorgente.tabelle() {
            Ok(t) => t,
            Err(e) => {
                self.errore_lettura(None, &e);
                return;
            }
        };
        // Match found tables to the spec's, case-insensitively.
        let mut per_tabella: HashMap<&'static str, String> = HashMap::new();
        for t in &trovate {
            let n = normalizza_nome(&t.nome);
            let n = n.strip_suffix(".csv").unwrap_or(&n).to_string();
            // The explanatory sheet of our own template is not data.
            if n == crate::esporta::FOGLIO_LEGGIMI.to_lowercase() {
                continue;
            }
            match self.dominio.tabelle.iter().find(|s| s.nome == n) {
                Some(s) if !t.nascosta && !per_tabella.contains_key(s.nome) => {
                    per_tabella.insert(s.nome, t.nome.clone());
                }
                Some(_) if t.nascosta => self.segnala_tabella(
                    None,
                    &t.nome,
                    "tabella_sconosciuta",
                    Gravita::Avviso,
                    format!("Il foglio «{}» è nascosto ed è stato ignorato: se contiene i dati, lo renda visibile.", t.nome),
                ),
                _ => {
                    let attese = self.dominio.tabelle.iter().map(|t| t.nome).collect::<Vec<_>>().join(", ");
                    self.segnala_tabella(
                        None,
                        &t.nome,
                        "tabella_sconosciuta",
                        Gravita::Avviso,
                        format!("La tabella «{}» non è prevista dal flusso {} ed è stata ignorata (tabelle previste: {attese}).", t.nome, self.dominio.nome),
                    )
                }
            }
        }
        for (ti, tabella) in self.dominio.tabelle.iter().enumerate() {
            let Some(nome_trovato) = per_tabella.get(tabella.nome).cloned() else {
                if tabella.obbligatoria {
                    self.mancanti.insert(tabella.nome);
                    self.non_verificabili
                        .insert(tabella.nome, format!("manca la tabella {}", tabella.nome));
                    self.segnala_tabella(
                        Some(ti),
                        tabella.nome,
                        "tabella_mancante",
                        Gravita::Errore,
                        format!("Manca la tabella obbligatoria «{}» (un foglio o un file CSV con questo nome).", tabella.nome),
                    );
                }
                continue;
            };
            let righe = self.leggi_tabella(sorgente, ti, tabella, &nome_trovato);
            self.righe
                .push((tabella.nome.to_string(), InfoTabellaReport { righe }));
            if righe == 0 && tabella.obbligatoria && !self.tabelle_incomplete.contains(tabella.nome)
            {
                self.segnala_tabella(
                    Some(ti),
                    tabella.nome,
                    "tabella_vuota",
                    Gravita::Errore,
                    format!(
                        "La tabella obbligatoria «{}» non contiene righe.",
                        tabella.nome
                    ),
                );
            }
        }
        if !self.incompleto {
            let mut cx = Contesto {
                dominio: self.dominio,
                opzioni: self.opzioni,
                out: &mut self.out,
                mancanti: &self.mancanti,
            };
            self.regole.fine(&mut cx);
        }
    }

    /// Streams one table; returns the number of data rows read.
    fn leggi_tabella(
        &mut self,
        sorgente: &mut dyn Sorgente,
        ti: usize,
        t: &'static Tabella,
        nome_trovato: &str,
    ) -> u64 {
        let n_campi = t.campi.len();
        // Column index in the file → field index in the spec.
        let mut mappa: Vec<Option<usize>> = Vec::new();
        let mut colonna_di: Vec<Option<usize>> = vec![None; n_campi];
        let mut intestazione_vista = false;
        let mut righe = 0u64;
        let mut valori: Vec<Option<Valore>> = vec![None; n_campi];
        let mut falliti = vec![false; n_campi];
        let mut testi: Vec<Option<String>> = vec![None; n_campi];
        let mut celle_nominate: Vec<Cella> = vec![Cella::Vuota; n_campi];
        let mut campi_json_visti: HashSet<String> = HashSet::new();
        let limite_righe = self.opzioni.limiti.max_righe;
        let mut superato = false;
        let dominio = self.dominio;
        let opzioni = self.opzioni;
        let mut chiavi_tabella = self.chiavi.remove(t.nome).unwrap_or_default();
        // Field indices of the key and of the references, resolved once for the whole table.
        // A reference to a table whose keys cannot be trusted is not checked: one
        // `controllo_non_eseguito` says so, instead of one `riferimento_mancante` per row.
        let indici = |campi: &[&str]| -> Vec<usize> {
            campi
                .iter()
                .map(|c| t.indice(c).unwrap_or(usize::MAX))
                .collect()
        };
        let chiave: Vec<usize> = indici(t.chiave);
        let mut riferimenti: Vec<(&'static crate::spec::Riferimento, Vec<usize>)> = Vec::new();
        // References not checked, with why, and how many rows had a value for them.
        let mut saltati: Vec<(&'static crate::spec::Riferimento, Vec<usize>, String, u64)> =
            Vec::new();
        for r in &t.riferimenti {
            match self.non_verificabili.get(r.tabella) {
                Some(motivo) => saltati.push((r, indici(r.campi), motivo.clone(), 0)),
                None if self.tabelle_incomplete.contains(r.tabella) => {}
                None => riferimenti.push((r, indici(r.campi))),
            }
        }
        let mut chiave_senza_colonna: Option<&'static str> = None;
        let esito = {
            let out = &mut self.out;
            let regole = &mut self.regole;
            let chiavi_altre = &self.chiavi;
            let mancanti = &self.mancanti;
            let osservatore = &mut self.osservatore;
            let mut visita = |ev: Evento<'_>| -> Continua {
                match ev {
                    Evento::Intestazione(celle) => {
                        intestazione_vista = true;
                        let mut visti: HashMap<String, usize> = HashMap::new();
                        mappa = celle
                            .iter()
                            .enumerate()
                            .map(|(col, c)| {
                                let nome = normalizza_nome(&testo_cella(c).unwrap_or_default());
                                if nome.is_empty() {
                                    return None;
                                }
                                if visti.insert(nome.clone(), col).is_some() {
                                    segnala(out, ti, t, None, Some(&nome), None, "campo_duplicato", Gravita::Errore, format!("La colonna «{nome}» compare più di una volta: ne lasci una sola."));
                                    return None;
                                }
                                match t.indice(&nome) {
                                    Some(i) => {
                                        colonna_di[i] = Some(col);
                                        Some(i)
                                    }
                                    None => {
                                        segnala(out, ti, t, None, Some(&nome), None, "campo_sconosciuto", Gravita::Avviso, format!("La colonna «{nome}» non è prevista nella tabella {} ed è stata ignorata.", t.nome));
                                        None
                                    }
                                }
                            })
                            .collect();
                        chiave_senza_colonna = t
                            .chiave
                            .iter()
                            .copied()
                            .find(|k| t.indice(k).is_none_or(|i| colonna_di[i].is_none()));
                        for (i, c) in t.campi.iter().enumerate() {
                            if colonna_di[i].is_none() && c.obbligo == Obbligo::Si {
                                segnala(
                                    out,
                                    ti,
                                    t,
                                    None,
                                    Some(c.nome),
                                    None,
                                    "campo_mancante",
                                    Gravita::Errore,
                                    format!(
                                        "Manca la colonna obbligatoria «{}» nella tabella {}.",
                                        c.nome, t.nome
                                    ),
                                );
                            }
                        }
                        Continua::Si
                    }
                    Evento::RigaMalformata {
                        numero,
                        trovati,
                        attesi,
                    } => {
                        if righe >= limite_righe {
                            superato = true;
                            return Continua::No;
                        }
                        righe += 1;
                        segnala(
                            out,
                            ti,
                            t,
                            Some(numero),
                            None,
                            None,
                            "riga_malformata",
                            Gravita::Errore,
                            format!(
                                "La riga ha {trovati} valori ma l'intestazione ne ha {attesi}: controlli i separatori e le virgolette."
                            ),
                        );
                        Continua::Si
                    }
                    riga @ (Evento::Riga { .. } | Evento::RigaNominata { .. }) => {
                        if righe >= limite_righe {
                            superato = true;
                            return Continua::No;
                        }
                        righe += 1;
                        if righe.is_multiple_of(PASSO_AVANZAMENTO)
                            && let Some(a) = &opzioni.avanzamento
                        {
                            a(t.nome, righe);
                        }
                        let errori_prima = out.errori;
                        // Positional rows (CSV, XLSX) and named rows (JSON) differ only in how a
                        // field's cell is found.
                        let numero = match riga {
                            Evento::Riga { numero, celle } => {
                                for (i, col) in colonna_di.iter().enumerate() {
                                    let cella =
                                        col.and_then(|c| celle.get(c)).unwrap_or(&Cella::Vuota);
                                    elabora_cella(
                                        out,
                                        ti,
                                        t,
                                        i,
                                        numero,
                                        cella,
                                        opzioni,
                                        &mut valori,
                                        &mut falliti,
                                        &mut testi,
                                        col.is_none(),
                                    );
                                }
                                numero
                            }
                            Evento::RigaNominata { numero, campi } => {
                                for c in celle_nominate.iter_mut() {
                                    *c = Cella::Vuota;
                                }
                                for (nome, cella) in campi {
                                    let n = normalizza_nome(nome);
                                    match t.indice(&n) {
                                        Some(i) => celle_nominate[i] = cella.clone(),
                                        None => {
                                            if campi_json_visti.insert(n.clone()) {
                                                segnala(
                                                    out,
                                                    ti,
                                                    t,
                                                    None,
                                                    Some(&n),
                                                    None,
                                                    "campo_sconosciuto",
                                                    Gravita::Avviso,
                                                    format!(
                                                        "Il campo «{n}» non è previsto nella tabella {} ed è stato ignorato.",
                                                        t.nome
                                                    ),
                                                );
                                            }
                                        }
                                    }
                                }
                                for (i, cella) in celle_nominate.iter().enumerate() {
                                    elabora_cella(
                                        out,
                                        ti,
                                        t,
                                        i,
                                        numero,
                                        cella,
                                        opzioni,
                                        &mut valori,
                                        &mut falliti,
                                        &mut testi,
                                        false,
                                    );
                                }
                                numero
                            }
                            _ => return Continua::Si,
                        };
                        for (_, indici, _, n) in saltati.iter_mut() {
                            if indici
                                .iter()
                                .all(|&i| valori.get(i).is_some_and(Option::is_some))
                            {
                                *n += 1;
                            }
                        }
                        fine_riga(
                            out,
                            regole.as_mut(),
                            dominio,
                            opzioni,
                            ti,
                            t,
                            numero,
                            &valori,
                            &falliti,
                            &testi,
                            &chiave,
                            &riferimenti,
                            &mut chiavi_tabella,
                            chiavi_altre,
                            mancanti,
                        );
                        if let Some(o) = osservatore.as_mut() {
                            o.riga(t, numero, &valori, &testi, out.errori > errori_prima);
                        }
                        Continua::Si
                    }
                }
            };
            sorgente.leggi(nome_trovato, &mut visita)
        };
        self.chiavi.insert(t.nome, chiavi_tabella);
        let _ = intestazione_vista;
        // A reference check skipped is said once, when some row had a value it would have
        // checked (an optional table left empty needs no warning).
        for (r, _, motivo, n) in saltati {
            if n == 0 {
                continue;
            }
            let campo = r.campi[r.campi.len() - 1];
            segnala(
                &mut self.out,
                ti,
                t,
                None,
                Some(campo),
                None,
                "controllo_non_eseguito",
                Gravita::Avviso,
                format!(
                    "Il controllo dei riferimenti di {campo} alla tabella {} (riferimento_mancante) non è stato eseguito: {motivo}.",
                    r.tabella
                ),
            );
        }
        if let Some(k) = chiave_senza_colonna {
            self.non_verificabili
                .entry(t.nome)
                .or_insert_with(|| format!("nella tabella {} manca la colonna {k}", t.nome));
        }
        if esito.is_err() || superato {
            self.non_verificabili.insert(
                t.nome,
                format!("la tabella {} non è stata letta per intero", t.nome),
            );
        }
        if let Err(e) = esito {
            self.tabelle_incomplete.insert(t.nome);
            self.errore_lettura(Some((ti, t.nome)), &e);
        }
        if superato {
            self.tabelle_incomplete.insert(t.nome);
            self.errore_lettura(
                Some((ti, t.nome)),
                &ErroreLettura::Limite(format!(
                    "la tabella {} supera il numero massimo di righe ({}): la lettura si è fermata",
                    t.nome, limite_righe
                )),
            );
        }
        righe
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn segnala(
    out: &mut Raccolta,
    ti: usize,
    t: &Tabella,
    riga: Option<u64>,
    campo: Option<&str>,
    valore: Option<&str>,
    codice: &str,
    gravita: Gravita,
    messaggio: String,
) {
    let campo_pos = campo
        .and_then(|c| t.indice(c))
        .map(|i| i + 1)
        .unwrap_or(if campo.is_some() { usize::MAX } else { 0 });
    out.aggiungi(
        Posizione {
            tabella: ti + 1,
            riga: riga.unwrap_or(0),
            campo: campo_pos,
        },
        Segnalazione {
            tabella: Some(t.nome.to_string()),
            riga,
            campo: campo.map(str::to_string),
            valore: valore.map(str::to_string),
            codice: codice.to_string(),
            gravita,
            messaggio,
        },
    );
}

#[allow(clippy::too_many_arguments)]
fn elabora_cella(
    out: &mut Raccolta,
    ti: usize,
    t: &'static Tabella,
    i: usize,
    numero: u64,
    cella: &Cella,
    opzioni: &Opzioni,
    valori: &mut [Option<Valore>],
    falliti: &mut [bool],
    testi: &mut [Option<String>],
    colonna_assente: bool,
) {
    let c = &t.campi[i];
    testo_in(cella, &mut testi[i]);
    falliti[i] = false;
    match interpreta_in(c, cella, opzioni.oggi, &mut valori[i]) {
        Ok(()) if valori[i].is_some() => {}
        Ok(()) => {
            // A missing required column is reported once (`campo_mancante`), not on every row.
            if c.obbligo == Obbligo::Si && colonna_assente {
                falliti[i] = true;
            } else if c.obbligo == Obbligo::Si {
                falliti[i] = true;
                segnala(
                    out,
                    ti,
                    t,
                    Some(numero),
                    Some(c.nome),
                    None,
                    "obbligatorio",
                    Gravita::Errore,
                    format!("Il campo {} è obbligatorio ed è vuoto.", c.nome),
                );
            }
        }
        Err(p) => {
            falliti[i] = true;
            let gravita = Gravita::Errore;
            segnala(
                out,
                ti,
                t,
                Some(numero),
                Some(c.nome),
                testi[i].as_deref(),
                p.codice,
                gravita,
                p.messaggio,
            );
        }
    }
}

/// The cell as read, for the report (`valore`), into `posto`: a text cell reuses the slot's
/// buffer instead of allocating one per cell.
fn testo_in(cella: &Cella, posto: &mut Option<String>) {
    match cella {
        Cella::Testo(s) => {
            let t = s.trim();
            if t.is_empty() {
                *posto = None;
            } else if let Some(b) = posto {
                b.clear();
                b.push_str(t);
            } else {
                *posto = Some(t.to_owned());
            }
        }
        altra => *posto = testo_cella(altra),
    }
}

#[allow(clippy::too_many_arguments)]
fn fine_riga(
    out: &mut Raccolta,
    regole: &mut dyn Regole,
    dominio: &'static Dominio,
    opzioni: &Opzioni,
    ti: usize,
    t: &'static Tabella,
    numero: u64,
    valori: &[Option<Valore>],
    falliti: &[bool],
    testi: &[Option<String>],
    chiave: &[usize],
    riferimenti: &[(&'static crate::spec::Riferimento, Vec<usize>)],
    chiavi: &mut Impronte,
    chiavi_altre: &HashMap<&'static str, Impronte>,
    mancanti: &HashSet<&'static str>,
) {
    let riga = Riga {
        numero,
        tabella: t,
        valori,
        falliti,
        testi,
    };
    // The canonical text of the key's parts, made only to describe an issue.
    let parti = |indici: &[usize]| -> Vec<String> {
        indici
            .iter()
            .map(|&i| {
                valori
                    .get(i)
                    .and_then(Option::as_ref)
                    .map(Valore::canonico)
                    .unwrap_or_default()
            })
            .collect()
    };
    // Primary key: reported on the later row, on the key's last field.
    if !chiave.is_empty()
        && let Some(k) = impronta_valori(chiavi, valori, chiave)
        && !chiavi.inserisci(k)
    {
        let ultimo = t.chiave[t.chiave.len() - 1];
        let descr = t
            .chiave
            .iter()
            .zip(&parti(chiave))
            .map(|(c, v)| format!("{c} «{v}»"))
            .collect::<Vec<_>>()
            .join(", ");
        segnala(
            out,
            ti,
            t,
            Some(numero),
            Some(ultimo),
            riga.letto(ultimo),
            "chiave_duplicata",
            Gravita::Errore,
            format!(
                "La chiave ({descr}) compare già in una riga precedente della tabella {}.",
                t.nome
            ),
        );
    }
    // References to other tables of the same flow (read before, in the spec's order).
    for (r, indici) in riferimenti {
        let presente = match chiavi_altre.get(r.tabella) {
            Some(s) => match impronta_valori(s, valori, indici) {
                Some(k) => s.contiene(k),
                None => continue,
            },
            None if indici
                .iter()
                .all(|&i| valori.get(i).is_some_and(Option::is_some)) =>
            {
                false
            }
            None => continue,
        };
        if !presente {
            let campo = r.campi[r.campi.len() - 1];
            segnala(
                out,
                ti,
                t,
                Some(numero),
                Some(campo),
                riga.letto(campo),
                "riferimento_mancante",
                Gravita::Errore,
                format!(
                    "Il valore «{}» di {campo} non corrisponde a nessuna riga della tabella {}.",
                    parti(indici).join(", "),
                    r.tabella
                ),
            );
        }
    }
    let mut cx = Contesto {
        dominio,
        opzioni,
        out,
        mancanti,
    };
    regole.riga(&mut cx, ti, &riga);
}

/// The fingerprint, in `insieme`, of the values at `indici`; `None` when one is missing.
fn impronta_valori(
    insieme: &Impronte,
    valori: &[Option<Valore>],
    indici: &[usize],
) -> Option<Impronta> {
    if !indici
        .iter()
        .all(|&i| valori.get(i).is_some_and(Option::is_some))
    {
        return None;
    }
    Some(insieme.impronta_con(|h| {
        for &i in indici {
            match valori.get(i).and_then(Option::as_ref) {
                Some(Valore::Testo(s)) => scrivi_parte(h, s),
                Some(v) => scrivi_parte(h, &v.canonico()),
                None => {}
            }
        }
    }))
}
