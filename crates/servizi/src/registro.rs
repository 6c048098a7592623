//! The shared registers, from the service side: how a valid flow's rows become canonical
//! records (the "staging" file written while validating), how they are compared with an
//! entity's current register (the difference shown to the reviewer), how they are merged on
//! acceptance, and the in-platform checks `catasto_conteso` and `rimozione`.
//!
//! Generic over the domain: the tables, keys and fields come from the spec (`flussi::spec`);
//! only the cadastral key of `unita` is specific to `patrimonio`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use archivio::{NuovaVersione, RigaErrata, Tavola, copia_campo};
use flussi::spec::{Dominio, Tabella};
use flussi::valori::Valore;
use flussi::{Aggiunta, Osservatore};
use sha2::{Digest, Sha256};

/// The most rows in error kept with their values (as the report keeps 10 000 issues).
pub const MAX_RIGHE_ERRATE: usize = 10_000;

/// The register table of a spec table, if the domain has a register.
pub fn tavola(t: &'static Tabella) -> Option<Tavola> {
    if t.chiave.is_empty() {
        return None;
    }
    Tavola::new(t.nome, t.campi.iter().map(|c| c.nome).collect()).ok()
}

/// The tables of a domain that have a register, in the spec's order.
pub fn tavole(d: &'static Dominio) -> Vec<(&'static Tabella, Tavola)> {
    d.tabelle
        .iter()
        .filter_map(|t| tavola(t).map(|v| (t, v)))
        .collect()
}

/// Whether the platform can merge flows of this domain (it has register tables).
pub fn ha_registro(d: &'static Dominio) -> bool {
    !tavole(d).is_empty()
}

/// The fingerprint of a record's canonical values (stable across versions of Rust: SHA-256).
pub fn impronta(campi: &[Option<String>]) -> i64 {
    let mut h = Sha256::new();
    for c in campi {
        match c {
            Some(s) => {
                h.update([1u8]);
                h.update(s.as_bytes());
            }
            None => h.update([0u8]),
        }
        h.update([0x1f]);
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// The key of a record: its key fields joined by `|`.
fn chiave(t: &Tabella, campi: &[Option<String>]) -> Option<String> {
    let mut parti = Vec::with_capacity(t.chiave.len());
    for k in t.chiave {
        parti.push(campi.get(t.indice(k)?)?.clone()?);
    }
    Some(parti.join("|"))
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
    let catasto = leggi_campo(parti.next()?);
    Some(NuovaVersione {
        chiave,
        impronta,
        catasto,
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
}

/// The observer of a validation inside the platform: writes the canonical rows of every
/// table with a register to staging files, keeps the rows in error with their values, and
/// adds `catasto_conteso` and `rimozione`.
pub struct Raccoglitore {
    cartella: PathBuf,
    file: HashMap<&'static str, BufWriter<std::fs::File>>,
    pub righe_errate: Vec<RigaErrata>,
    pub righe_errate_totali: u64,
    comune_fabbricato: HashMap<String, String>,
    cx: Contesto,
    unita_lette: u64,
    aggiunte: Vec<Aggiunta>,
    pub errore_io: Option<std::io::Error>,
    linea: String,
    /// Row of a `catasto_conteso` unit → the entity that holds it, for the Region's view only
    /// (the first [`flussi::report::MAX_SEGNALAZIONI`]: rows arrive in order, so these cover
    /// every such issue the report keeps).
    pub contesi: HashMap<u64, String>,
}

impl Raccoglitore {
    pub fn new(cartella: PathBuf, cx: Contesto) -> std::io::Result<Self> {
        std::fs::create_dir_all(&cartella)?;
        Ok(Self {
            cartella,
            file: HashMap::new(),
            righe_errate: Vec::new(),
            righe_errate_totali: 0,
            comune_fabbricato: HashMap::new(),
            cx,
            unita_lette: 0,
            aggiunte: Vec::new(),
            errore_io: None,
            linea: String::new(),
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
        if t.chiave.is_empty() || self.errore_io.is_some() {
            return;
        }
        let campi: Vec<Option<String>> = valori
            .iter()
            .map(|v| v.as_ref().map(Valore::canonico))
            .collect();
        let Some(k) = chiave(t, &campi) else {
            return;
        };
        let campo = |n: &str| {
            t.indice(n)
                .and_then(|i| campi.get(i))
                .and_then(|v| v.clone())
        };
        let mut catasto = None;
        if t.nome == "fabbricati"
            && let Some(c) = campo("comune_istat")
        {
            self.comune_fabbricato.insert(k.clone(), c);
        }
        if t.nome == "unita" {
            self.unita_lette += 1;
            self.cx.unita_attuali.remove(&k);
            let comune =
                campo("codice_fabbricato").and_then(|f| self.comune_fabbricato.get(&f).cloned());
            if let (Some(comune), Some(fo), Some(pa), Some(su)) = (
                comune,
                campo("foglio"),
                campo("particella"),
                campo("subalterno"),
            ) {
                let sez = campo("sezione_urbana").unwrap_or_default();
                let c = format!("{comune}|{sez}|{fo}|{pa}|{su}");
                if let Some(altro) = self.cx.catasti_altrui.get(&c) {
                    // The entity is warned without learning whose register holds the unit;
                    // the Region sees who (kept beside the issue, never in its text).
                    if self.contesi.len() < flussi::report::MAX_SEGNALAZIONI {
                        self.contesi.insert(numero, altro.clone());
                    }
                    self.aggiunte.push(Aggiunta {
                        tabella: "unita",
                        riga: Some(numero),
                        campo: Some("subalterno"),
                        valore: Some(su.clone()),
                        codice: "catasto_conteso",
                        messaggio: format!(
                            "L'unità catastale (comune {comune}, foglio {fo}, particella {pa}, subalterno {su}) è già nel registro accettato di un altro ente: la Regione verificherà a chi appartiene."
                        ),
                    });
                }
                catasto = Some(c);
            }
        }
        let mut linea = std::mem::take(&mut self.linea);
        linea.clear();
        copia_campo(&mut linea, Some(&k));
        linea.push('\t');
        linea.push_str(&impronta(&campi).to_string());
        linea.push('\t');
        copia_campo(&mut linea, catasto.as_deref());
        for c in &campi {
            linea.push('\t');
            copia_campo(&mut linea, c.as_deref());
        }
        linea.push('\n');
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

/// A register table of `patrimonio` by name (`complessi`, `fabbricati`, `unita`).
pub fn tavola_patrimonio(nome: &str) -> Option<Tavola> {
    let d = flussi::spec::dominio("patrimonio")?;
    tavole(d)
        .into_iter()
        .find(|(t, _)| t.nome == nome)
        .map(|(_, v)| v)
}

impl crate::Piattaforma {
    /// Which entity a subject's register query covers: the Region any (or all, `None`); an
    /// entity's people and tokens only their own (given, or implied when they have one).
    pub fn ambito_registro(
        &self,
        s: &dominio::Soggetto,
        ente: Option<&str>,
    ) -> crate::Esito<Option<String>> {
        use dominio::politica::{Azione, autorizza};
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
        autorizza(s, &Azione::VedereDatiArea(&e, dominio::Area::Patrimonio))?;
        Ok(Some(e.as_str().to_string()))
    }

    /// A page of a `patrimonio` register list, for the subject (see [`Self::ambito_registro`]).
    pub async fn elenco_registro(
        &self,
        s: &dominio::Soggetto,
        tabella: &str,
        mut filtro: archivio::FiltroRegistro,
    ) -> crate::Esito<(Tavola, Vec<archivio::Versione>)> {
        let t = tavola_patrimonio(tabella).ok_or(crate::ErroreServizio::NonTrovato)?;
        filtro.ente = self.ambito_registro(s, filtro.ente.as_deref())?;
        let v = self.db.elenco_registro(&t, &filtro).await?;
        Ok((t, v))
    }

    /// Every version of one record of an entity's register (owner and Region).
    pub async fn storia_registro(
        &self,
        s: &dominio::Soggetto,
        tabella: &str,
        ente: &str,
        chiave: &str,
    ) -> crate::Esito<(Tavola, Vec<archivio::Versione>)> {
        let t = tavola_patrimonio(tabella).ok_or(crate::ErroreServizio::NonTrovato)?;
        let e = dominio::CodiceEnte::parse(ente).map_err(|_| crate::ErroreServizio::NonTrovato)?;
        dominio::politica::autorizza(
            s,
            &dominio::Azione::VedereDatiArea(&e, dominio::Area::Patrimonio),
        )
        .map_err(|n| match n {
            dominio::Negato::NonAutenticato => crate::ErroreServizio::Negato(n),
            _ => crate::ErroreServizio::NonTrovato,
        })?;
        let v = self.db.storia(&t, e.as_str(), chiave).await?;
        if v.is_empty() {
            return Err(crate::ErroreServizio::NonTrovato);
        }
        Ok((t, v))
    }
}

#[cfg(test)]
mod test {
    use super::*;

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
        assert_eq!(r.catasto, None);
        assert_eq!(r.campi, campi);
        assert_eq!(r.impronta, impronta(&campi));
        assert_ne!(impronta(&[None]), impronta(&[Some(String::new())]));
    }
}
