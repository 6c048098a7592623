//! The codice fiscale of a natural person: the one identifier of a person in PUSH.
//!
//! Parsed once (upper-cased, trimmed, check character verified, omocodia accepted) and then
//! passed around as this newtype, so no code path can carry an unchecked string.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ErroreDominio;

/// A checked 16-character codice fiscale, upper case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceFiscale(String);

/// Positions (0-based) that hold digits, which omocodia may replace with letters.
const POSIZIONI_NUMERICHE: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
const LETTERE_OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
const MESI: &[u8] = b"ABCDEHLMPRST";

/// Value of a character in an odd (1-based) position, per the Ministry's table.
fn valore_dispari(c: u8) -> u32 {
    const TABELLA: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let i = if c.is_ascii_digit() {
        c - b'0'
    } else {
        c - b'A'
    };
    TABELLA[i as usize]
}

fn valore_pari(c: u8) -> u32 {
    if c.is_ascii_digit() {
        (c - b'0') as u32
    } else {
        (c - b'A') as u32
    }
}

/// The check character for the first 15 characters (already validated as A–Z/0–9).
fn carattere_controllo(primi15: &[u8]) -> u8 {
    let somma: u32 = primi15
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i % 2 == 0 {
                valore_dispari(c)
            } else {
                valore_pari(c)
            }
        })
        .sum();
    b'A' + (somma % 26) as u8
}

impl CodiceFiscale {
    /// Parses a codice fiscale, accepting lower case, surrounding spaces and omocodia.
    pub fn parse(input: &str) -> Result<Self, ErroreDominio> {
        let cf = input.trim().to_ascii_uppercase();
        let errore = |m: &str| ErroreDominio::valore("codice_fiscale", m.to_string());
        if cf.is_empty() {
            return Err(errore("Il codice fiscale è obbligatorio."));
        }
        if cf.chars().count() != 16 {
            return Err(errore(&format!(
                "Il codice fiscale deve avere 16 caratteri: ne ha {}.",
                cf.chars().count()
            )));
        }
        let b = cf.as_bytes();
        if !b
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(errore(
                "Il codice fiscale può contenere solo lettere e cifre.",
            ));
        }
        for (i, &c) in b.iter().enumerate().take(15) {
            let deve_essere_cifra = POSIZIONI_NUMERICHE.contains(&i);
            let ok = if deve_essere_cifra {
                c.is_ascii_digit() || LETTERE_OMOCODIA.contains(&c)
            } else {
                c.is_ascii_uppercase()
            };
            if !ok {
                return Err(errore(&format!(
                    "Il codice fiscale non ha la forma prevista (carattere {} «{}»).",
                    i + 1,
                    c as char
                )));
            }
        }
        if !MESI.contains(&b[8]) {
            return Err(errore(
                "Il codice fiscale contiene una lettera del mese non valida.",
            ));
        }
        if !b[15].is_ascii_uppercase() || carattere_controllo(&b[..15]) != b[15] {
            return Err(errore(
                "Il codice fiscale non è valido: il carattere di controllo non corrisponde. Verifichi di averlo scritto correttamente.",
            ));
        }
        Ok(Self(cf))
    }

    /// Parses the fiscal number as SPID/CIE gateways send it: `TINIT-XXXXXXXXXXXXXXXX` or bare.
    pub fn da_attributo_spid(valore: &str) -> Result<Self, ErroreDominio> {
        let v = valore.trim();
        let v = v
            .strip_prefix("TINIT-")
            .or_else(|| v.strip_prefix("tinit-"))
            .unwrap_or(v);
        Self::parse(v)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds a valid codice fiscale from its first 15 characters by appending the check
    /// character. Used to make obviously fictitious demo people.
    pub fn con_controllo(primi15: &str) -> Result<Self, ErroreDominio> {
        let p = primi15.trim().to_ascii_uppercase();
        if p.len() != 15
            || !p
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(ErroreDominio::valore(
                "codice_fiscale",
                "Servono 15 caratteri alfanumerici.",
            ));
        }
        let c = carattere_controllo(p.as_bytes()) as char;
        Self::parse(&format!("{p}{c}"))
    }
}

impl TryFrom<String> for CodiceFiscale {
    type Error = ErroreDominio;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CodiceFiscale> for String {
    fn from(c: CodiceFiscale) -> String {
        c.0
    }
}

impl fmt::Display for CodiceFiscale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CodiceFiscale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodiceFiscale({})", self.0)
    }
}

/// Check digit of an 11-digit codice fiscale of a legal person or partita IVA.
pub fn partita_iva_valida(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let somma: u32 = b[..10]
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let d = (c - b'0') as u32;
            if i % 2 == 0 {
                d
            } else {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            }
        })
        .sum();
    (10 - somma % 10) % 10 == (b[10] - b'0') as u32
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn accetta_un_codice_valido_anche_minuscolo_e_con_spazi() {
        let cf = CodiceFiscale::parse("  rssmra80a01h501u ").expect("valido");
        assert_eq!(cf.as_str(), "RSSMRA80A01H501U");
    }

    #[test]
    fn rifiuta_il_carattere_di_controllo_sbagliato() {
        let e = CodiceFiscale::parse("RSSMRA80A01H501V").unwrap_err();
        assert!(e.to_string().contains("carattere di controllo"));
    }

    #[test]
    fn rifiuta_lunghezza_e_forma() {
        assert!(CodiceFiscale::parse("RSSMRA80A01H501").is_err());
        assert!(CodiceFiscale::parse("").is_err());
        assert!(CodiceFiscale::parse("1SSMRA80A01A662X").is_err());
        assert!(CodiceFiscale::parse("RSSMRA80Z01A662X").is_err(), "mese Z");
    }

    #[test]
    fn accetta_omocodia() {
        // 80 -> UL (8->U, 0->L), check character recomputed.
        let cf = CodiceFiscale::con_controllo("RSSMRAULA01H501").expect("omocodico");
        assert!(CodiceFiscale::parse(cf.as_str()).is_ok());
        // a letter outside LMNPQRSTUV in a digit position is refused
        assert!(CodiceFiscale::con_controllo("RSSMRAZLA01H501").is_err());
    }

    #[test]
    fn attributo_spid_con_o_senza_prefisso() {
        assert_eq!(
            CodiceFiscale::da_attributo_spid("TINIT-RSSMRA80A01H501U")
                .unwrap()
                .as_str(),
            "RSSMRA80A01H501U"
        );
        assert!(CodiceFiscale::da_attributo_spid("RSSMRA80A01H501U").is_ok());
    }

    #[test]
    fn partita_iva() {
        assert!(partita_iva_valida("80017210727")); // Regione Puglia
        assert!(!partita_iva_valida("80017210728"));
        assert!(!partita_iva_valida("8001721072"));
    }
}
