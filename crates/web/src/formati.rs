//! Values as an Italian civil servant reads them: `1.234.567`, `1.234,56 €`, `31/12/2026`,
//! `31/12/2026 23:59` (Europe/Rome), `Mario Rossi (RSSMRA80A01H501U)`. The one place pages
//! format numbers, money, dates and people: handlers call these functions and templates the
//! filters [`registra`] adds (`numero`, `euro`, `data`, `data_ora`, `persona`), so every page
//! agrees.
//! Exports for programs (CSV, JSON, GeoJSON) keep the stored forms.

use chrono::{DateTime, NaiveDate, Utc};
use dominio::orologio;
use minijinja::{Environment, Value};

/// An integer with Italian thousands separators: `1234567` → `1.234.567`.
pub fn intero(n: i64) -> String {
    dominio::numeri::intero_it(n)
}

/// A decimal as stored (`1234.5`, `-0.25`, `12`) in Italian form (`1.234,5`), with at least
/// `decimali` digits after the comma (zeros added, none removed). `None` if it is not a plain
/// decimal number.
pub fn decimale(s: &str, decimali: usize) -> Option<String> {
    let s = s.trim();
    let (segno, resto) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (parte_intera, frazione) = resto.split_once('.').unwrap_or((resto, ""));
    if parte_intera.is_empty()
        || !parte_intera.bytes().all(|b| b.is_ascii_digit())
        || !frazione.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let intera: u64 = parte_intera.parse().ok()?;
    let mut out = format!("{segno}{}", dominio::numeri::naturale_it(intera));
    if !frazione.is_empty() || decimali > 0 {
        out.push(',');
        out.push_str(frazione);
        for _ in frazione.len()..decimali {
            out.push('0');
        }
    }
    Some(out)
}

/// An amount in euro as stored (`1234.5`) → `1.234,50 €`; `None` if not a number.
pub fn euro(s: &str) -> Option<String> {
    decimale(s, 2).map(|x| format!("{x} €"))
}

/// A day: `31/12/2026`.
pub fn giorno(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A person as people expect to read them: name first, the codice fiscale to be sure.
/// Without a known name, the code alone.
pub fn persona(nome: Option<&str>, cf: &str) -> String {
    match nome.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} ({cf})"),
        None => cf.to_string(),
    }
}

/// `numero`: integers grouped, decimals with a comma; nothing stays empty; anything else as
/// it is.
fn filtro_numero(v: Value) -> String {
    if v.is_none() || v.is_undefined() {
        return String::new();
    }
    if let Some(n) = v.as_i64() {
        return intero(n);
    }
    let testo = v.to_string();
    decimale(&testo, 0).unwrap_or(testo)
}

/// `euro`: an amount (number or stored string) → `1.234,56 €`; empty stays empty.
fn filtro_euro(v: Value) -> String {
    if v.is_none() || v.is_undefined() {
        return String::new();
    }
    let testo = v.to_string();
    if testo.trim().is_empty() {
        return String::new();
    }
    euro(&testo).unwrap_or(testo)
}

/// `data_ora`: an RFC 3339 instant → `31/12/2026 23:59`, Italian civil time.
fn filtro_data_ora(v: String) -> String {
    DateTime::parse_from_rfc3339(&v)
        .map(|d| orologio::data_ora_it(d.with_timezone(&Utc)))
        .unwrap_or(v)
}

/// `data`: an RFC 3339 instant (its Italian day) or a `YYYY-MM-DD` day → `31/12/2026`.
fn filtro_data(v: String) -> String {
    if let Ok(d) = DateTime::parse_from_rfc3339(&v) {
        return orologio::data_it(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(&v, "%Y-%m-%d")
        .map(giorno)
        .unwrap_or(v)
}

/// `persona(nomi)`: a codice fiscale with its name from the map `nomi` (cf → name) the handler
/// looked up → `Mario Rossi (RSSMRA80A01H501U)`; a code without a name stays as it is.
fn filtro_persona(cf: String, nomi: Option<Value>) -> String {
    let nome = nomi
        .and_then(|n| n.get_item(&Value::from(cf.as_str())).ok())
        .filter(|v| !v.is_undefined() && !v.is_none())
        .map(|v| v.to_string());
    persona(nome.as_deref(), &cf)
}

/// Adds the formatting filters to the template environment.
pub fn registra(env: &mut Environment<'static>) {
    env.add_filter("numero", filtro_numero);
    env.add_filter("euro", filtro_euro);
    env.add_filter("data_ora", filtro_data_ora);
    env.add_filter("data", filtro_data);
    env.add_filter("persona", filtro_persona);
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn numeri_all_italiana() {
        assert_eq!(intero(0), "0");
        assert_eq!(intero(999), "999");
        assert_eq!(intero(1234), "1.234");
        assert_eq!(intero(1_234_567), "1.234.567");
        assert_eq!(intero(-1234), "-1.234");
        assert_eq!(decimale("1234.5", 0).as_deref(), Some("1.234,5"));
        assert_eq!(decimale("1234.56", 2).as_deref(), Some("1.234,56"));
        assert_eq!(decimale("12", 0).as_deref(), Some("12"));
        assert_eq!(decimale("-0.25", 0).as_deref(), Some("-0,25"));
        assert_eq!(decimale("abc", 0), None);
        assert_eq!(decimale("1.2.3", 0), None);
        assert_eq!(decimale("", 0), None);
        assert_eq!(euro("1234.5").as_deref(), Some("1.234,50 €"));
        assert_eq!(euro("181").as_deref(), Some("181,00 €"));
        assert_eq!(euro("1000000.05").as_deref(), Some("1.000.000,05 €"));
    }

    #[test]
    fn date_e_persone() {
        assert_eq!(
            giorno(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            "31/12/2026"
        );
        assert_eq!(filtro_data("2018-03-01".into()), "01/03/2018");
        // 23:30 UTC on 31 December is already 1 January in Rome.
        assert_eq!(filtro_data("2026-12-31T23:30:00Z".into()), "01/01/2027");
        assert_eq!(
            filtro_data_ora("2026-07-01T10:00:00Z".into()),
            "01/07/2026 12:00"
        );
        assert_eq!(filtro_data("non una data".into()), "non una data");
        assert_eq!(
            persona(Some("Mario Rossi"), "RSSMRA80A01H501U"),
            "Mario Rossi (RSSMRA80A01H501U)"
        );
        assert_eq!(persona(Some(" "), "RSSMRA80A01H501U"), "RSSMRA80A01H501U");
        assert_eq!(persona(None, "token:3"), "token:3");
    }

    #[test]
    fn filtri_nei_modelli() {
        let mut env = Environment::new();
        registra(&mut env);
        let r = |t: &str, v: Value| env.render_str(t, minijinja::context! { v }).unwrap();
        assert_eq!(r("{{ v|numero }}", Value::from(1_048_576)), "1.048.576");
        assert_eq!(r("{{ v|numero }}", Value::from("63.5")), "63,5");
        assert_eq!(r("{{ v|numero }}", Value::from(())), "");
        assert_eq!(r("{{ v|euro }}", Value::from("72.59")), "72,59 €");
        assert_eq!(r("{{ v|euro }}", Value::from(())), "");
        let nomi = Value::from_serialize(std::collections::HashMap::from([(
            "RSSMRA80A01H501U",
            "Mario Rossi",
        )]));
        let p = |cf: &str| {
            env.render_str("{{ cf|persona(nomi) }}", minijinja::context! { cf, nomi })
                .unwrap()
        };
        assert_eq!(p("RSSMRA80A01H501U"), "Mario Rossi (RSSMRA80A01H501U)");
        assert_eq!(p("token:3"), "token:3");
    }
}
