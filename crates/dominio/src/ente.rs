//! Entities (*enti*) and areas of competence: the codes that name them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErroreDominio;

/// The code of an entity: a Comune's 6-digit ISTAT code, an ARCA code (`ARCA-…`) or `REGIONE`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceEnte(String);

pub const REGIONE: &str = "REGIONE";

impl CodiceEnte {
    pub fn parse(input: &str) -> Result<Self, ErroreDominio> {
        let s = input.trim().to_ascii_uppercase();
        let comune = s.len() == 6 && s.bytes().all(|c| c.is_ascii_digit());
        // A 5-digit code that lost its leading zero in a spreadsheet.
        if s.len() == 5 && s.bytes().all(|c| c.is_ascii_digit()) {
            return Ok(Self(format!("0{s}")));
        }
        let arca = s.starts_with("ARCA-")
            && s.len() <= 12
            && s[5..].len() >= 2
            && s[5..].bytes().all(|c| c.is_ascii_uppercase());
        if comune || arca || s == REGIONE {
            Ok(Self(s))
        } else {
            Err(ErroreDominio::valore(
                "ente",
                format!(
                    "«{}» non è il codice di un ente: usi il codice ISTAT del Comune (6 cifre), il codice dell'ARCA (es. ARCA-PC) o REGIONE.",
                    input.trim()
                ),
            ))
        }
    }

    pub fn regione() -> Self {
        Self(REGIONE.to_string())
    }

    pub fn is_regione(&self) -> bool {
        self.0 == REGIONE
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn tipo(&self) -> TipoEnte {
        if self.is_regione() {
            TipoEnte::Regione
        } else if self.0.starts_with("ARCA-") {
            TipoEnte::Arca
        } else {
            TipoEnte::Comune
        }
    }
}

impl TryFrom<String> for CodiceEnte {
    type Error = ErroreDominio;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<CodiceEnte> for String {
    fn from(c: CodiceEnte) -> String {
        c.0
    }
}
impl fmt::Display for CodiceEnte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
/// A code reads as its text wherever a `&str` is expected (SQL binds, maps keyed by code).
impl std::ops::Deref for CodiceEnte {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}
impl PartialEq<&str> for CodiceEnte {
    fn eq(&self, altro: &&str) -> bool {
        self.0 == *altro
    }
}
impl PartialEq<str> for CodiceEnte {
    fn eq(&self, altro: &str) -> bool {
        self.0 == altro
    }
}
impl fmt::Debug for CodiceEnte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodiceEnte({})", self.0)
    }
}

/// The kind of an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TipoEnte {
    Comune,
    Arca,
    Regione,
}

impl TipoEnte {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comune => "COMUNE",
            Self::Arca => "ARCA",
            Self::Regione => "REGIONE",
        }
    }
    pub fn etichetta(self) -> &'static str {
        match self {
            Self::Comune => "Comune",
            Self::Arca => "ARCA",
            Self::Regione => "Regione",
        }
    }
}

impl FromStr for TipoEnte {
    type Err = ErroreDominio;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "COMUNE" => Ok(Self::Comune),
            "ARCA" => Ok(Self::Arca),
            "REGIONE" => Ok(Self::Regione),
            _ => Err(ErroreDominio::valore(
                "tipo",
                format!("Tipo di ente sconosciuto: {s}"),
            )),
        }
    }
}

/// An area of competence a referent (or a machine token) is accredited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Area {
    Patrimonio,
    Programmi,
}

impl Area {
    pub const TUTTE: [Area; 2] = [Area::Patrimonio, Area::Programmi];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patrimonio => "PATRIMONIO",
            Self::Programmi => "PROGRAMMI",
        }
    }

    /// Parses a comma-separated list such as `PATRIMONIO,PROGRAMMI` (case-insensitive).
    pub fn parse_elenco(s: &str) -> Result<Vec<Area>, ErroreDominio> {
        let mut aree = Vec::new();
        for parte in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let a: Area = parte.parse()?;
            if !aree.contains(&a) {
                aree.push(a);
            }
        }
        if aree.is_empty() {
            return Err(ErroreDominio::valore(
                "aree",
                "Indichi almeno un'area: PATRIMONIO e/o PROGRAMMI.",
            ));
        }
        aree.sort();
        Ok(aree)
    }

    pub fn elenco(aree: &[Area]) -> String {
        aree.iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl FromStr for Area {
    type Err = ErroreDominio;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PATRIMONIO" => Ok(Self::Patrimonio),
            "PROGRAMMI" => Ok(Self::Programmi),
            altro => Err(ErroreDominio::valore(
                "aree",
                format!("«{altro}» non è un'area: le aree sono PATRIMONIO e PROGRAMMI."),
            )),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn codici() {
        assert_eq!(CodiceEnte::parse("72006").unwrap().as_str(), "072006");
        assert_eq!(CodiceEnte::parse("arca-pc").unwrap().tipo(), TipoEnte::Arca);
        assert!(CodiceEnte::parse("regione").unwrap().is_regione());
        assert!(CodiceEnte::parse("BARI").is_err());
        assert!(CodiceEnte::parse("1234567").is_err());
    }

    #[test]
    fn aree() {
        assert_eq!(
            Area::parse_elenco("programmi, patrimonio,PATRIMONIO").unwrap(),
            vec![Area::Patrimonio, Area::Programmi]
        );
        assert!(Area::parse_elenco("").is_err());
        assert!(Area::parse_elenco("CASA").is_err());
    }
}
