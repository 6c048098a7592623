//! Reminder templates: text with placeholders in braces (`{ente}`, `{mancante}`,
//! `{scadenza}`, `{link}`). A template is checked when saved, so that a misspelt placeholder is
//! refused there and never reaches an entity as literal text. `{{` and `}}` write a brace.

use crate::ErroreDominio;

/// The placeholders a reminder may use, with what they stand for (shown beside the editor).
pub const SEGNAPOSTO: [(&str, &str); 4] = [
    ("ente", "la denominazione dell'ente"),
    ("mancante", "che cosa l'ente deve ancora fare"),
    ("scadenza", "la scadenza (gg/mm/aaaa), o «al più presto»"),
    ("link", "l'indirizzo della pagina da cui provvedere"),
];

enum Pezzo<'a> {
    Testo(&'a str),
    Segnaposto(&'a str),
}

fn pezzi(t: &str) -> Result<Vec<Pezzo<'_>>, String> {
    let mut v = Vec::new();
    let mut resto = t;
    while let Some(i) = resto.find(['{', '}']) {
        v.push(Pezzo::Testo(&resto[..i]));
        let dopo = &resto[i + 1..];
        let c = resto.as_bytes()[i];
        if dopo.as_bytes().first() == Some(&c) {
            // `{{` or `}}`: a literal brace.
            v.push(Pezzo::Testo(&resto[i..i + 1]));
            resto = &dopo[1..];
            continue;
        }
        if c == b'}' {
            return Err(
                "una parentesi graffa chiusa «}» senza la sua aperta (per scriverla usi «}}»)"
                    .into(),
            );
        }
        let Some(fine) = dopo.find('}') else {
            return Err(
                "una parentesi graffa aperta «{» non è chiusa (per scriverla usi «{{»)".into(),
            );
        };
        v.push(Pezzo::Segnaposto(dopo[..fine].trim()));
        resto = &dopo[fine + 1..];
    }
    v.push(Pezzo::Testo(resto));
    Ok(v)
}

/// Checks a template's text: every placeholder must be known.
pub fn verifica(campo: &'static str, t: &str) -> Result<(), ErroreDominio> {
    let errore = |messaggio: String| ErroreDominio::Valore { campo, messaggio };
    for p in pezzi(t).map_err(errore)? {
        if let Pezzo::Segnaposto(n) = p
            && !SEGNAPOSTO.iter().any(|(k, _)| *k == n)
        {
            let noti = SEGNAPOSTO
                .iter()
                .map(|(k, _)| format!("{{{k}}}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(errore(format!(
                "il segnaposto «{{{n}}}» non esiste; quelli disponibili sono {noti}"
            )));
        }
    }
    Ok(())
}

/// Fills a checked template; `valore` gives each placeholder's text.
pub fn compila(t: &str, valore: impl Fn(&str) -> String) -> Result<String, ErroreDominio> {
    let mut s = String::with_capacity(t.len() + 64);
    for p in pezzi(t).map_err(|messaggio| ErroreDominio::Valore {
        campo: "corpo",
        messaggio,
    })? {
        match p {
            Pezzo::Testo(x) => s.push_str(x),
            Pezzo::Segnaposto(n) => s.push_str(&valore(n)),
        }
    }
    Ok(s)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn segnaposto_noti_e_ignoti() {
        assert!(
            verifica(
                "corpo",
                "Gentile {ente}, manca {mancante} entro {scadenza}: {link}"
            )
            .is_ok()
        );
        let e = verifica("corpo", "Gentile {ente}, {nome_sindaco}").unwrap_err();
        assert!(e.to_string().contains("nome_sindaco"), "{e}");
        assert!(verifica("corpo", "aperta { senza chiusa").is_err());
        assert!(verifica("corpo", "chiusa } sola").is_err());
        assert_eq!(
            compila("{{x}} {ente}!", |n| format!("<{n}>")).unwrap(),
            "{x} <ente>!"
        );
    }
}
