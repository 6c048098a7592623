//! Small values that parse: e-mail/PEC addresses, phone numbers, bounded free text.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ErroreDominio;

/// An e-mail (or PEC) address, syntactically checked and lower-cased.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// `campo` names the form field for the error message.
    pub fn parse_campo(input: &str, campo: &'static str) -> Result<Self, ErroreDominio> {
        let s = input.trim().to_ascii_lowercase();
        let errore = || {
            ErroreDominio::valore(
                campo,
                format!(
                    "L'indirizzo «{}» non è un indirizzo di posta valido: deve avere la forma nome@dominio.it.",
                    input.trim()
                ),
            )
        };
        if s.is_empty() {
            return Err(ErroreDominio::valore(
                campo,
                "L'indirizzo di posta è obbligatorio.",
            ));
        }
        if s.len() > 254 {
            return Err(errore());
        }
        let (locale, dominio) = s.split_once('@').ok_or_else(errore)?;
        let locale_ok = !locale.is_empty()
            && locale.len() <= 64
            && !locale.starts_with('.')
            && !locale.ends_with('.')
            && !locale.contains("..")
            && locale
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._%+-'".contains(c));
        let etichette: Vec<&str> = dominio.split('.').collect();
        let dominio_ok = etichette.len() >= 2
            && etichette.iter().all(|e| {
                !e.is_empty()
                    && e.len() <= 63
                    && !e.starts_with('-')
                    && !e.ends_with('-')
                    && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && etichette
                .last()
                .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
        if locale_ok && dominio_ok {
            Ok(Self(s))
        } else {
            Err(errore())
        }
    }

    pub fn parse(input: &str) -> Result<Self, ErroreDominio> {
        Self::parse_campo(input, "email")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ErroreDominio;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

/// Trimmed text of bounded length (in characters), required or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Testo(String);

impl Testo {
    pub fn parse(
        input: &str,
        campo: &'static str,
        etichetta: &str,
        min: usize,
        max: usize,
    ) -> Result<Self, ErroreDominio> {
        let s = input.trim();
        let n = s.chars().count();
        if n == 0 && min > 0 {
            return Err(ErroreDominio::valore(
                campo,
                format!("Il campo «{etichetta}» è obbligatorio."),
            ));
        }
        if n < min || n > max {
            return Err(ErroreDominio::valore(
                campo,
                format!("Il campo «{etichetta}» deve avere da {min} a {max} caratteri: ne ha {n}."),
            ));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(ErroreDominio::valore(
                campo,
                format!("Il campo «{etichetta}» contiene caratteri non ammessi."),
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A phone number: digits, spaces, and an optional leading `+`; 6–20 digits.
pub fn telefono(input: &str) -> Result<String, ErroreDominio> {
    let s = input.trim();
    let cifre = s.chars().filter(char::is_ascii_digit).count();
    let ok = !s.is_empty()
        && s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || c == ' ' || c == '.' || c == '/' || (c == '+' && i == 0)
        })
        && (6..=20).contains(&cifre);
    if ok {
        Ok(s.to_string())
    } else {
        Err(ErroreDominio::valore(
            "telefono",
            format!(
                "Il numero di telefono «{s}» non è valido: scriva solo cifre, spazi ed eventualmente il prefisso +39."
            ),
        ))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn email() {
        assert_eq!(
            Email::parse(" Protocollo@PEC.Comune.Bari.it ")
                .unwrap()
                .as_str(),
            "protocollo@pec.comune.bari.it"
        );
        for m in [
            "",
            "a",
            "a@",
            "@b.it",
            "a@b",
            "a@b.i",
            "a b@c.it",
            "a@-b.it",
            "a..b@c.it",
            "a@b..it",
        ] {
            assert!(Email::parse(m).is_err(), "{m}");
        }
    }

    #[test]
    fn testo_e_telefono() {
        assert!(Testo::parse("  ", "n", "Nome", 1, 10).is_err());
        assert!(Testo::parse("abcdefghijk", "n", "Nome", 1, 10).is_err());
        assert_eq!(
            Testo::parse(" àèì ", "n", "Nome", 1, 3).unwrap().as_str(),
            "àèì"
        );
        assert!(telefono("+39 080 5401111").is_ok());
        assert!(telefono("080-abc").is_err());
        assert!(telefono("12").is_err());
    }
}
