//! Flows: their domain (which decides the area that may send them) and their lifecycle state
//! (spec README §4), as types that parse.

use serde::Serialize;

use crate::{Area, ErroreDominio};

/// The domain of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DominioFlusso {
    Patrimonio,
    Contabilita,
    Programmi,
}

impl DominioFlusso {
    /// The domain after "flusso" or "aggiornamento" in Italian text: «del patrimonio».
    pub fn genitivo(self) -> &'static str {
        match self {
            Self::Patrimonio => "del patrimonio",
            Self::Contabilita => "della contabilità dei cantieri",
            Self::Programmi => "dei programmi di finanziamento",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ErroreDominio> {
        match s.trim().to_lowercase().as_str() {
            "patrimonio" => Ok(Self::Patrimonio),
            "contabilita" => Ok(Self::Contabilita),
            "programmi" => Ok(Self::Programmi),
            _ => Err(ErroreDominio::valore(
                "dominio",
                "Il dominio del flusso deve essere patrimonio, contabilita o programmi.",
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patrimonio => "patrimonio",
            Self::Contabilita => "contabilita",
            Self::Programmi => "programmi",
        }
    }
    /// The area a referent needs to send it.
    pub fn area(self) -> Area {
        match self {
            Self::Patrimonio => Area::Patrimonio,
            Self::Contabilita | Self::Programmi => Area::Programmi,
        }
    }
    pub fn etichetta(self) -> &'static str {
        match self {
            Self::Patrimonio => "Patrimonio",
            Self::Contabilita => "Contabilità dei cantieri",
            Self::Programmi => "Programmi",
        }
    }
}

/// The lifecycle state of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatoFlusso {
    Caricato,
    InValidazione,
    NonValido,
    Valido,
    Inviato,
    Accettato,
    Respinto,
    Superato,
    Ritirato,
}

impl StatoFlusso {
    pub const TUTTI: [StatoFlusso; 9] = [
        Self::Caricato,
        Self::InValidazione,
        Self::NonValido,
        Self::Valido,
        Self::Inviato,
        Self::Accettato,
        Self::Respinto,
        Self::Superato,
        Self::Ritirato,
    ];
    /// Whether the entity may still withdraw it: not yet submitted (spec README §4).
    pub fn ritirabile(self) -> bool {
        matches!(
            self,
            Self::Caricato | Self::InValidazione | Self::NonValido | Self::Valido
        )
    }
    pub fn parse(s: &str) -> Result<Self, ErroreDominio> {
        Self::TUTTI
            .into_iter()
            .find(|t| t.as_str() == s.trim().to_lowercase())
            .ok_or_else(|| {
                ErroreDominio::valore("stato", format!("Stato del flusso sconosciuto: «{s}»."))
            })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Caricato => "caricato",
            Self::InValidazione => "in_validazione",
            Self::NonValido => "non_valido",
            Self::Valido => "valido",
            Self::Inviato => "inviato",
            Self::Accettato => "accettato",
            Self::Respinto => "respinto",
            Self::Superato => "superato",
            Self::Ritirato => "ritirato",
        }
    }
    /// The Italian label shown to people.
    pub fn etichetta(self) -> &'static str {
        match self {
            Self::Caricato => "Caricato",
            Self::InValidazione => "In validazione",
            Self::NonValido => "Non valido",
            Self::Valido => "Valido, da inviare",
            Self::Inviato => "Inviato, in esame",
            Self::Accettato => "Accettato",
            Self::Respinto => "Respinto",
            Self::Superato => "Superato",
            Self::Ritirato => "Ritirato dall'ente",
        }
    }
}

/// Comparing with the stored text (`f.stato == "accettato"`), for tests and templates' data.
macro_rules! confronta_testo {
    ($t:ty) => {
        impl PartialEq<&str> for $t {
            fn eq(&self, altro: &&str) -> bool {
                self.as_str() == *altro
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, altro: &str) -> bool {
                self.as_str() == altro
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
confronta_testo!(DominioFlusso);
confronta_testo!(StatoFlusso);

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn stati_e_domini_si_rileggono() {
        for s in StatoFlusso::TUTTI {
            assert_eq!(StatoFlusso::parse(s.as_str()).unwrap(), s);
        }
        assert!(StatoFlusso::parse("boh").is_err());
        assert_eq!(
            DominioFlusso::parse("Patrimonio").unwrap().area(),
            Area::Patrimonio
        );
        assert_eq!(
            DominioFlusso::parse("contabilita").unwrap().area(),
            Area::Programmi
        );
        assert!(DominioFlusso::parse("x").is_err());
    }
}
