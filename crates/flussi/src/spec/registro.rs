//! How a domain's accepted data is kept and shown: the register part of a domain's definition.
//!
//! The platform has one register engine (storage, merge, lists, record pages, exports, API);
//! everything it needs to know about a domain is here: the Italian labels of tables, fields and
//! enumeration values, which fields are listed, filtered, sorted and searched, each table's
//! record key and parent, where its records are on a map, and how a flow merges. Adding a
//! domain's register means writing one [`RegistroDominio`]; no other list of its fields exists.

use super::{Dominio, Tabella, Tipo};

/// How an accepted flow changes the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fusione {
    /// The flow is the entity's whole data for the domain (spec README §4): records it does not
    /// carry are closed, changed ones get a new version, the rest stay as they are.
    Istantanea,
}

/// How a register record is identified within its entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChiaveRegistro {
    /// The table's key fields, joined by `|`.
    Campi,
    /// A table without a key (e.g. `erogazioni`): the listed fields (the parent's key) and the
    /// fingerprint of the whole row; a row repeated identically in the flow gets `#2`, `#3`…
    Contenuto(&'static [&'static str]),
}

/// A filter offered on a list (query parameter = the field's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filtro {
    /// Equality on a field of the table.
    Campo(&'static str),
    /// Equality on a field of the parent record (e.g. units by their building's comune), as
    /// valid on the same day.
    Genitore(&'static str),
}

impl Filtro {
    pub fn campo(self) -> &'static str {
        match self {
            Filtro::Campo(c) | Filtro::Genitore(c) => c,
        }
    }
}

/// What the free-text search (`q`) looks at, besides the record's key. Case-insensitive
/// substring. Kept as a list so that it can be indexed (issue 12) without changing its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cerca {
    Campo(&'static str),
    /// Fields joined by `/` (e.g. `foglio/particella/subalterno`).
    Unione(&'static [&'static str]),
    /// A field of the parent record.
    Genitore(&'static str),
}

/// Where a record is, for maps and GeoJSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posizione {
    /// WGS84 decimal degrees in two fields of the record.
    Coordinate {
        latitudine: &'static str,
        longitudine: &'static str,
    },
    /// The parent record's position (e.g. a unit is where its building is).
    DelGenitore,
}

/// The parent of a table's records: `campo` holds the key of a record of `tabella`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Genitore {
    pub tabella: &'static str,
    pub campo: &'static str,
}

/// The register of one table.
#[derive(Clone, Debug)]
pub struct RegistroTabella {
    /// The spec table.
    pub tabella: &'static str,
    /// Plural label: «Unità immobiliari».
    pub etichetta: &'static str,
    /// Singular label with its article, for sentences: «l'unità», «il fabbricato».
    pub con_articolo: &'static str,
    /// Singular label for titles: «Unità immobiliare».
    pub singolare: &'static str,
    pub chiave: ChiaveRegistro,
    pub genitore: Option<Genitore>,
    /// The fields shown as columns of a list (the key comes first anyway).
    pub elencati: &'static [&'static str],
    pub filtri: &'static [Filtro],
    /// Sort orders offered besides the key (fields of the table).
    pub ordinabili: &'static [&'static str],
    pub cercati: &'static [Cerca],
    /// Fields that describe a record in one line (after its code): «Via Roma, 3».
    pub descrittivi: &'static [&'static str],
    pub posizione: Option<Posizione>,
    /// Fields with an index of their own (frequent filters over every entity).
    pub indicizzati: &'static [&'static str],
    /// A stored cross-entity key computed by the domain's platform checks (patrimonio:
    /// `catasto`, the cadastral identity of a unit), with an index on the current versions.
    pub incrocio: Option<&'static str>,
}

impl RegistroTabella {
    /// The name of the table's storage (`reg_<tabella>`; table names are unique across
    /// domains, see the test `nomi_delle_tabelle_unici`).
    pub fn nome_archivio(&self) -> String {
        format!("reg_{}", self.tabella)
    }
}

/// The register of a domain.
#[derive(Clone, Debug)]
pub struct RegistroDominio {
    pub fusione: Fusione,
    /// Whether the platform accepts this domain's flows yet (its platform checks exist); until
    /// then its uploads are refused in Italian, though its storage and pages exist.
    pub aperto: bool,
    /// Labels of fields (by name, for every table of the domain).
    pub etichette_campi: &'static [(&'static str, &'static str)],
    /// Labels of enumerated and yes/no values (by stored value).
    pub etichette_valori: &'static [(&'static str, &'static str)],
    /// The tables kept in the register, in the order the pages show them.
    pub tabelle: Vec<RegistroTabella>,
}

impl RegistroDominio {
    pub fn tabella(&self, nome: &str) -> Option<&RegistroTabella> {
        self.tabelle.iter().find(|t| t.tabella == nome)
    }
}

/// A stored code made readable: `SFITTO_DA_RISTRUTTURARE` → «Sfitto da ristrutturare».
pub fn leggibile(v: &str) -> String {
    let t = v.replace('_', " ").to_lowercase();
    let mut c = t.chars();
    match c.next() {
        Some(p) => p.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Dominio {
    /// The register table of a spec table, if the domain keeps it.
    pub fn registro_di(&self, tabella: &str) -> Option<&RegistroTabella> {
        self.registro.as_ref()?.tabella(tabella)
    }

    /// The Italian label of a field.
    pub fn etichetta_campo(&self, campo: &str) -> String {
        if let Some((_, e)) = self
            .registro
            .as_ref()
            .and_then(|r| r.etichette_campi.iter().find(|(c, _)| *c == campo))
        {
            return (*e).to_string();
        }
        leggibile(campo)
    }

    /// The Italian label of a stored value of a field (enumerations and yes/no readable; other
    /// values as they are).
    pub fn etichetta_valore(&self, tabella: &str, campo: &str, valore: &str) -> String {
        let tipo = self
            .tabella(tabella)
            .and_then(|t| t.campi.iter().find(|c| c.nome == campo))
            .map(|c| &c.tipo);
        if !matches!(tipo, Some(Tipo::Enum(_) | Tipo::Booleano)) {
            return valore.to_string();
        }
        match valore {
            "SI" => return "Sì".into(),
            "NO" => return "No".into(),
            _ => {}
        }
        if let Some((_, e)) = self
            .registro
            .as_ref()
            .and_then(|r| r.etichette_valori.iter().find(|(v, _)| *v == valore))
        {
            return (*e).to_string();
        }
        leggibile(valore)
    }
}

/// The domain and register table of a register table name (unique across domains).
pub fn tabella_registro(
    nome: &str,
) -> Option<(&'static Dominio, &'static Tabella, &'static RegistroTabella)> {
    super::DOMINI.iter().find_map(|d| {
        let d = super::dominio(d)?;
        let r = d.registro_di(nome)?;
        Some((d, d.tabella(nome)?, r))
    })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::spec::{DOMINI, dominio};

    fn campo_esiste(d: &Dominio, t: &str, c: &str) -> bool {
        d.tabella(t).and_then(|t| t.indice(c)).is_some()
    }

    /// Every name a register definition uses is a field of its table (or of the parent), so a
    /// renamed field cannot leave a list, filter or index pointing at nothing.
    #[test]
    fn le_definizioni_nominano_campi_esistenti() {
        for nome in DOMINI {
            let d = dominio(nome).unwrap();
            let Some(r) = &d.registro else { continue };
            for rt in &r.tabelle {
                let t = rt.tabella;
                let tab = d.tabella(t).unwrap_or_else(|| panic!("{nome}: {t}"));
                if rt.chiave == ChiaveRegistro::Campi {
                    assert!(!tab.chiave.is_empty(), "{nome}.{t}: senza chiave");
                }
                if let ChiaveRegistro::Contenuto(campi) = rt.chiave {
                    for c in campi {
                        assert!(campo_esiste(d, t, c), "{nome}.{t}: {c}");
                    }
                }
                let g = rt.genitore;
                if let Some(g) = g {
                    assert!(campo_esiste(d, t, g.campo), "{nome}.{t}: {}", g.campo);
                    assert!(d.registro_di(g.tabella).is_some(), "{nome}: {}", g.tabella);
                }
                for c in rt
                    .elencati
                    .iter()
                    .chain(rt.ordinabili)
                    .chain(rt.descrittivi)
                    .chain(rt.indicizzati)
                {
                    assert!(campo_esiste(d, t, c), "{nome}.{t}: {c}");
                }
                for f in rt.filtri {
                    match f {
                        Filtro::Campo(c) => assert!(campo_esiste(d, t, c), "{nome}.{t}: {c}"),
                        Filtro::Genitore(c) => {
                            let g = g.unwrap_or_else(|| panic!("{nome}.{t}: senza genitore"));
                            assert!(campo_esiste(d, g.tabella, c), "{nome}.{t}: {c}");
                        }
                    }
                }
                for c in rt.cercati {
                    match c {
                        Cerca::Campo(c) => assert!(campo_esiste(d, t, c), "{nome}.{t}: {c}"),
                        Cerca::Unione(v) => {
                            for c in *v {
                                assert!(campo_esiste(d, t, c), "{nome}.{t}: {c}");
                            }
                        }
                        Cerca::Genitore(c) => {
                            let g = g.unwrap_or_else(|| panic!("{nome}.{t}: senza genitore"));
                            assert!(campo_esiste(d, g.tabella, c), "{nome}.{t}: {c}");
                        }
                    }
                }
                match rt.posizione {
                    Some(Posizione::Coordinate {
                        latitudine,
                        longitudine,
                    }) => {
                        assert!(campo_esiste(d, t, latitudine) && campo_esiste(d, t, longitudine))
                    }
                    Some(Posizione::DelGenitore) => {
                        let g = g.unwrap_or_else(|| panic!("{nome}.{t}: senza genitore"));
                        assert!(d.registro_di(g.tabella).and_then(|p| p.posizione).is_some());
                    }
                    None => {}
                }
                // Numbers and dates are stored as canonical text: sorting them would be
                // lexicographic, so only text-like fields may be sort orders.
                for c in rt.ordinabili {
                    let tipo = &tab.campi[tab.indice(c).unwrap()].tipo;
                    assert!(
                        !matches!(
                            tipo,
                            Tipo::Intero | Tipo::Numero { .. } | Tipo::Denaro | Tipo::Data
                        ),
                        "{nome}.{t}: {c} non ordinabile come testo"
                    );
                }
                for c in &tab.campi {
                    let e = d.etichetta_campo(c.nome);
                    assert!(!e.is_empty() && !e.contains('_'), "{nome}.{t}: {e}");
                }
            }
        }
    }

    #[test]
    fn nomi_delle_tabelle_unici() {
        let mut visti = std::collections::HashSet::new();
        for nome in DOMINI {
            let d = dominio(nome).unwrap();
            for rt in d.registro.iter().flat_map(|r| &r.tabelle) {
                assert!(visti.insert(rt.tabella), "{nome}: {} ripetuta", rt.tabella);
                let n = rt.nome_archivio();
                assert!(
                    n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{n}"
                );
            }
        }
        // Every current domain has a register.
        assert_eq!(
            DOMINI
                .iter()
                .filter(|d| dominio(d).unwrap().registro.is_some())
                .count(),
            3
        );
    }

    #[test]
    fn etichette() {
        let d = dominio("patrimonio").unwrap();
        assert_eq!(d.etichetta_campo("cap"), "CAP");
        assert_eq!(d.etichetta_campo("campo_nuovo"), "Campo nuovo");
        assert_eq!(
            d.etichetta_valore("unita", "stato_occupazione", "SFITTO_DA_RISTRUTTURARE"),
            "Sfitto da ristrutturare"
        );
        assert_eq!(
            d.etichetta_valore("fabbricati", "titolo_possesso", "PROPRIETA"),
            "Proprietà"
        );
        assert_eq!(d.etichetta_valore("fabbricati", "ascensore", "SI"), "Sì");
        assert_eq!(
            d.etichetta_valore("fabbricati", "indirizzo", "VIA_X"),
            "VIA_X"
        );
        let (dom, t, r) = tabella_registro("sal").unwrap();
        assert_eq!(
            (dom.nome, t.nome, r.genitore.unwrap().tabella),
            ("contabilita", "sal", "interventi")
        );
    }
}
