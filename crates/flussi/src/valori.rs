//! The value rules of `validazione.md` §2: from a [`Cella`] as read to a typed [`Valore`], or
//! the first problem in the stated priority (`obbligatorio` is the caller's, then `tipo`,
//! `lunghezza`, `formato` and the special formats, `valore_non_ammesso`, `minimo`/`massimo`,
//! `data_futura`).

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};

use crate::lettori::Cella;
use crate::riferimento;
use crate::spec::{Campo, Limite, Tipo};

/// A typed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Valore {
    Testo(String),
    Intero(i64),
    Numero(f64),
    /// Euro cents.
    Denaro(i64),
    Data(NaiveDate),
    Booleano(bool),
}

impl Valore {
    pub fn testo(&self) -> Option<&str> {
        match self {
            Valore::Testo(s) => Some(s),
            _ => None,
        }
    }
    pub fn numero(&self) -> Option<f64> {
        match self {
            Valore::Intero(i) => Some(*i as f64),
            Valore::Numero(n) => Some(*n),
            Valore::Denaro(c) => Some(*c as f64 / 100.0),
            _ => None,
        }
    }
    pub fn data(&self) -> Option<NaiveDate> {
        match self {
            Valore::Data(d) => Some(*d),
            _ => None,
        }
    }
    pub fn centesimi(&self) -> Option<i64> {
        match self {
            Valore::Denaro(c) => Some(*c),
            _ => None,
        }
    }
    pub fn intero(&self) -> Option<i64> {
        match self {
            Valore::Intero(i) => Some(*i),
            _ => None,
        }
    }
    /// The value as canonical text (for keys, exports and diffs).
    pub fn canonico(&self) -> String {
        let mut s = String::new();
        self.canonico_in(&mut s);
        s
    }

    /// Appends the canonical text to `out`, without allocating when `out` has room (the
    /// platform writes a million rows' values into reused buffers).
    pub fn canonico_in(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Valore::Testo(s) => out.push_str(s),
            Valore::Intero(i) => {
                let _ = write!(out, "{i}");
            }
            Valore::Numero(n) => scrivi_numero(out, *n),
            Valore::Denaro(c) => {
                let _ = write!(
                    out,
                    "{}{}.{:02}",
                    if *c < 0 { "-" } else { "" },
                    c.unsigned_abs() / 100,
                    c.unsigned_abs() % 100
                );
            }
            // chrono's `%Y` signs years beyond four digits; those keep its form.
            Valore::Data(d) if (0..=9999).contains(&d.year()) => {
                let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
            }
            Valore::Data(d) => {
                let _ = write!(out, "{}", d.format("%Y-%m-%d"));
            }
            Valore::Booleano(b) => out.push_str(if *b { "SI" } else { "NO" }),
        }
    }
}

/// A value problem: the code and the Italian message.
#[derive(Clone, Debug, PartialEq)]
pub struct Problema {
    pub codice: &'static str,
    pub messaggio: String,
}

fn problema(codice: &'static str, messaggio: String) -> Problema {
    Problema { codice, messaggio }
}

/// A number written without exponent and without a useless `.0`.
pub fn formatta_numero(n: f64) -> String {
    let mut s = String::new();
    scrivi_numero(&mut s, n);
    s
}

/// [`formatta_numero`], appended to `out`.
fn scrivi_numero(out: &mut String, n: f64) {
    use std::fmt::Write;
    if n.fract() == 0.0 && n.abs() < 1e15 {
        let _ = write!(out, "{}", n as i64);
    } else {
        let inizio = out.len();
        let _ = write!(out, "{n}");
        if out[inizio..].contains('e') {
            out.truncate(inizio);
            let _ = write!(out, "{n:.6}");
            let fine = out.trim_end_matches('0').len();
            out.truncate(fine);
        }
    }
}

/// The cell as text, as the report shows it (`valore`); `None` when empty.
pub fn testo_cella(c: &Cella) -> Option<String> {
    match c {
        Cella::Vuota => None,
        Cella::Testo(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Cella::Numero(n) => Some(formatta_numero(*n)),
        Cella::Data(d) => Some(if d.time() == chrono::NaiveTime::MIN {
            d.date().format("%Y-%m-%d").to_string()
        } else {
            d.format("%Y-%m-%d %H:%M:%S").to_string()
        }),
        Cella::Booleano(b) => Some(if *b { "SI" } else { "NO" }.into()),
        Cella::Errore(e) => Some(e.clone()),
    }
}

fn parse_numero(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let inizio = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == inizio {
        return None;
    }
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.replace(',', ".").parse().ok()
}

/// Decimals written in a numeric text.
fn decimali(s: &str) -> usize {
    s.split(['.', ',']).nth(1).map(str::len).unwrap_or(0)
}

fn parse_data(s: &str) -> Result<NaiveDate, bool> {
    // Ok(date), Err(true) = right shape but impossible date, Err(false) = wrong shape.
    let forma_iso = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    if forma_iso {
        let (a, m, g) = (&s[0..4], &s[5..7], &s[8..10]);
        if [a, m, g]
            .iter()
            .all(|p| p.bytes().all(|c| c.is_ascii_digit()))
        {
            return match (a.parse(), m.parse(), g.parse()) {
                (Ok(a), Ok(m), Ok(g)) => NaiveDate::from_ymd_opt(a, m, g).ok_or(true),
                _ => Err(false),
            };
        }
        return Err(false);
    }
    let parti: Vec<&str> = s.split('/').collect();
    if parti.len() == 3
        && (1..=2).contains(&parti[0].len())
        && (1..=2).contains(&parti[1].len())
        && parti[2].len() == 4
        && parti.iter().all(|p| p.bytes().all(|c| c.is_ascii_digit()))
    {
        return match (parti[2].parse(), parti[1].parse(), parti[0].parse()) {
            (Ok(a), Ok(m), Ok(g)) => NaiveDate::from_ymd_opt(a, m, g).ok_or(true),
            _ => Err(false),
        };
    }
    Err(false)
}

fn valore_limite(l: Limite, oggi: NaiveDate) -> (f64, bool) {
    match l {
        Limite::Incluso(v) => (v, false),
        Limite::Escluso(v) => (v, true),
        Limite::AnnoCorrente => (f64::from(oggi.year()), false),
    }
}

fn descrivi_intervallo(c: &Campo, oggi: NaiveDate) -> String {
    let f = |l: Limite| {
        let (v, e) = valore_limite(l, oggi);
        (formatta_numero(v).replace('.', ","), e)
    };
    match (c.minimo.map(f), c.massimo.map(f)) {
        (Some((a, false)), Some((b, false))) => format!("tra {a} e {b}"),
        (Some((a, true)), Some((b, false))) => format!("maggiore di {a} e al massimo {b}"),
        (Some((a, false)), None) => format!("almeno {a}"),
        (Some((a, true)), None) => format!("maggiore di {a}"),
        (None, Some((b, _))) => format!("al massimo {b}"),
        _ => String::new(),
    }
}

/// The cell as the text a text rule checks: a text cell trimmed (borrowed, no copy), other
/// cells written out.
fn testo_da_cella<'a>(c: &'a Cella, tipo: &Tipo) -> Result<Cow<'a, str>, Problema> {
    match c {
        Cella::Testo(s) => Ok(Cow::Borrowed(s.trim())),
        Cella::Numero(n) => {
            // A numeric cell in a code column: 41 is the text «41»; a Comune gets its zero back.
            let s = formatta_numero(*n);
            Ok(Cow::Owned(
                if matches!(tipo, Tipo::Comune) && s.len() == 5 {
                    format!("0{s}")
                } else {
                    s
                },
            ))
        }
        Cella::Data(d) => Ok(Cow::Owned(d.date().format("%Y-%m-%d").to_string())),
        Cella::Booleano(b) => Ok(Cow::Borrowed(if *b { "SI" } else { "NO" })),
        Cella::Errore(e) => Err(problema(
            "tipo",
            format!("la cella contiene «{e}» invece di un valore"),
        )),
        Cella::Vuota => Ok(Cow::Borrowed("")),
    }
}

/// Whether a cell is a missing value (empty, or only white space).
fn vuota(c: &Cella) -> bool {
    match c {
        Cella::Vuota => true,
        Cella::Testo(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Applies the field's rules to a cell. `Ok(None)`: empty (the caller decides on `obbligatorio`).
pub fn interpreta(c: &Campo, cella: &Cella, oggi: NaiveDate) -> Result<Option<Valore>, Problema> {
    let mut v = None;
    interpreta_in(c, cella, oggi, &mut v)?;
    Ok(v)
}

/// Like [`interpreta`], writing the value into `posto` (left `None` when the cell is empty or
/// fails). The engine calls it for every cell with the same slots: a text value reuses the
/// buffer of the slot's previous text, so a row of texts costs no allocation.
pub(crate) fn interpreta_in(
    c: &Campo,
    cella: &Cella,
    oggi: NaiveDate,
    posto: &mut Option<Valore>,
) -> Result<(), Problema> {
    let buffer = match posto.take() {
        Some(Valore::Testo(mut b)) => {
            b.clear();
            b
        }
        _ => String::new(),
    };
    if vuota(cella) {
        return Ok(());
    }
    let nome = c.nome;
    let v = match &c.tipo {
        Tipo::Intero => match cella {
            Cella::Numero(n) if n.fract() == 0.0 && n.abs() < 9e15 => Valore::Intero(*n as i64),
            Cella::Numero(n) => {
                return Err(problema(
                    "tipo",
                    format!(
                        "Il campo {nome} deve essere un numero intero: trovato «{}».",
                        formatta_numero(*n)
                    ),
                ));
            }
            _ => {
                let s = testo_da_cella(cella, &c.tipo)?;
                let cifre = s.strip_prefix(['+', '-']).unwrap_or(&s);
                match (cifre.bytes().all(|b| b.is_ascii_digit()) && !cifre.is_empty())
                    .then(|| s.parse::<i64>())
                {
                    Some(Ok(i)) => Valore::Intero(i),
                    _ => {
                        return Err(problema(
                            "tipo",
                            format!("Il campo {nome} deve essere un numero intero: trovato «{s}»."),
                        ));
                    }
                }
            }
        },
        Tipo::Numero { .. } | Tipo::Denaro => {
            let (n, dec, letto) = match cella {
                Cella::Numero(n) => (*n, None, None),
                _ => {
                    let s = testo_da_cella(cella, &c.tipo)?;
                    match parse_numero(&s) {
                        Some(n) => (n, Some(decimali(&s)), Some(s)),
                        None => {
                            return Err(problema(
                                "tipo",
                                format!(
                                    "Il campo {nome} deve essere un numero (decimali con la virgola o il punto, senza separatore delle migliaia): trovato «{s}»."
                                ),
                            ));
                        }
                    }
                }
            };
            if matches!(c.tipo, Tipo::Denaro) {
                let centesimi = (n * 100.0).round();
                let troppi = match dec {
                    Some(d) => d > 2,
                    None => (n * 100.0 - centesimi).abs() > 1e-6,
                };
                if troppi {
                    return Err(problema(
                        "formato",
                        format!(
                            "Il campo {nome} è un importo in euro e può avere al massimo 2 decimali: trovato «{}».",
                            testo_cella(cella).unwrap_or_default()
                        ),
                    ));
                }
                // Money is never a float (issue 9): written text is read digit by digit into
                // cents; only a spreadsheet's numeric cell, a binary float in the file itself,
                // is rounded to the cent.
                let esatti = letto
                    .as_deref()
                    .and_then(|s| dominio::Importo::parse(s).ok())
                    .map(dominio::Importo::centesimi);
                Valore::Denaro(esatti.unwrap_or(centesimi as i64))
            } else {
                if let Tipo::Numero { passo: Some(p) } = c.tipo {
                    let k = n / p;
                    if (k - k.round()).abs() > 1e-9 {
                        return Err(problema(
                            "formato",
                            format!(
                                "Il campo {nome} va indicato a passi di {}: trovato «{}».",
                                formatta_numero(p).replace('.', ","),
                                testo_cella(cella).unwrap_or_default()
                            ),
                        ));
                    }
                }
                Valore::Numero(n)
            }
        }
        Tipo::Data => match cella {
            Cella::Data(d) => Valore::Data(d.date()),
            _ => {
                let s = testo_da_cella(cella, &c.tipo)?;
                match parse_data(&s) {
                    Ok(d) => Valore::Data(d),
                    Err(true) => {
                        return Err(problema(
                            "tipo",
                            format!("Il campo {nome} contiene una data che non esiste: «{s}»."),
                        ));
                    }
                    Err(false) => {
                        return Err(problema(
                            "tipo",
                            format!(
                                "Il campo {nome} deve essere una data nella forma AAAA-MM-GG o GG/MM/AAAA: trovato «{s}»."
                            ),
                        ));
                    }
                }
            }
        },
        Tipo::Booleano => match cella {
            Cella::Booleano(b) => Valore::Booleano(*b),
            _ => {
                let s = testo_da_cella(cella, &c.tipo)?;
                // ASCII-only case folding, as before: «sÌ» and «SÌ» are yes, «sì» is not.
                let si = ["SI", "S", "SÌ"].iter().any(|v| s.eq_ignore_ascii_case(v));
                let no = ["NO", "N"].iter().any(|v| s.eq_ignore_ascii_case(v));
                if si {
                    Valore::Booleano(true)
                } else if no {
                    Valore::Booleano(false)
                } else {
                    return Err(problema(
                        "tipo",
                        format!("Il campo {nome} ammette SI o NO: trovato «{s}»."),
                    ));
                }
            }
        },
        tipo => {
            let s = testo_da_cella(cella, tipo)?;
            let mut buffer = buffer;
            interpreta_testo(c, tipo, &s, &mut buffer)?;
            Valore::Testo(buffer)
        }
    };
    // minimo / massimo
    if let Some(n) = v.numero() {
        let fuori_min = c
            .minimo
            .map(|l| valore_limite(l, oggi))
            .is_some_and(|(m, escl)| if escl { n <= m } else { n < m });
        let fuori_max = c
            .massimo
            .map(|l| valore_limite(l, oggi))
            .is_some_and(|(m, escl)| if escl { n >= m } else { n > m });
        if fuori_min || fuori_max {
            return Err(problema(
                if fuori_min { "minimo" } else { "massimo" },
                format!(
                    "Il campo {nome} deve essere {}: trovato «{}».",
                    descrivi_intervallo(c, oggi),
                    testo_cella(cella).unwrap_or_default()
                ),
            ));
        }
    }
    if c.non_futura
        && let Some(d) = v.data()
        && d > oggi
    {
        return Err(problema(
            "data_futura",
            format!(
                "Il campo {nome} non può essere successivo a oggi ({}): trovato «{}».",
                oggi.format("%d/%m/%Y"),
                d.format("%d/%m/%Y")
            ),
        ));
    }
    *posto = Some(v);
    Ok(())
}

/// Writes `s` upper-cased (ASCII only, like `to_ascii_uppercase`) into `out`.
fn maiuscolo_in(s: &str, out: &mut String) {
    out.push_str(s);
    out.make_ascii_uppercase();
}

/// The rules of the text types: the canonical value is written into `out` (empty on entry).
fn interpreta_testo(c: &Campo, tipo: &Tipo, s: &str, out: &mut String) -> Result<(), Problema> {
    let nome = c.nome;
    match tipo {
        Tipo::Codice => {
            let b = s.as_bytes();
            let ok = !b.is_empty()
                && b.len() <= 30
                && b[0].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"._/-".contains(c));
            if ok {
                out.push_str(s);
                Ok(())
            } else {
                Err(problema(
                    "formato",
                    format!(
                        "Il campo {nome} deve essere un codice di 1–30 caratteri (lettere, cifre e . _ / -, iniziando con una lettera o una cifra): trovato «{s}»."
                    ),
                ))
            }
        }
        Tipo::Testo { min, max } => {
            // Bytes bound characters from above (and ASCII text is the common case).
            let n = if s.is_ascii() {
                s.len()
            } else {
                s.chars().count()
            };
            if n < *min || n > *max {
                Err(problema(
                    "lunghezza",
                    format!("Il campo {nome} deve avere da {min} a {max} caratteri: ne ha {n}."),
                ))
            } else {
                out.push_str(s);
                Ok(())
            }
        }
        Tipo::Modello(m) => {
            match m.normalizza {
                Some(f) => *out = f(s),
                None => out.push_str(s),
            }
            if m.verifica(out) {
                Ok(())
            } else {
                Err(problema(
                    "formato",
                    format!("Il campo {nome} deve essere {}: trovato «{s}».", m.atteso),
                ))
            }
        }
        Tipo::Enum(valori) => {
            maiuscolo_in(s, out);
            if valori.contains(&out.as_str()) {
                Ok(())
            } else {
                Err(problema(
                    "valore_non_ammesso",
                    format!(
                        "Il campo {nome} ammette solo {}: trovato «{s}».",
                        elenco(valori)
                    ),
                ))
            }
        }
        Tipo::Comune => {
            if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
                out.push('0');
            }
            out.push_str(s);
            if riferimento::comune(out).is_some() {
                Ok(())
            } else {
                Err(problema(
                    "comune_sconosciuto",
                    format!(
                        "Il campo {nome} deve essere il codice ISTAT di un Comune della Puglia (6 cifre, es. 072006 per Bari): trovato «{s}»."
                    ),
                ))
            }
        }
        Tipo::CfGiuridica => {
            if dominio::codice_fiscale::partita_iva_valida(s) {
                out.push_str(s);
                Ok(())
            } else {
                Err(problema(
                    "codice_fiscale",
                    format!(
                        "Il campo {nome} deve essere il codice fiscale di una persona giuridica (11 cifre con cifra di controllo valida): trovato «{s}»."
                    ),
                ))
            }
        }
        Tipo::PartitaIva => {
            if dominio::codice_fiscale::partita_iva_valida(s) {
                out.push_str(s);
                Ok(())
            } else {
                Err(problema(
                    "partita_iva",
                    format!(
                        "Il campo {nome} deve essere una partita IVA (11 cifre con cifra di controllo valida): trovato «{s}»."
                    ),
                ))
            }
        }
        Tipo::Cup => {
            maiuscolo_in(s, out);
            let b = out.as_bytes();
            let ok = b.len() == 15
                && b[0].is_ascii_uppercase()
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit()
                && b[3].is_ascii_uppercase()
                && b[4..].iter().all(u8::is_ascii_digit);
            if ok {
                Ok(())
            } else {
                Err(problema(
                    "cup",
                    format!(
                        "Il campo {nome} deve essere un CUP di 15 caratteri (lettera, 2 cifre, lettera, 11 cifre, es. B31B12000390001): trovato «{s}»."
                    ),
                ))
            }
        }
        Tipo::Cig => {
            maiuscolo_in(s, out);
            let ok = out.len() == 10
                && out
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            if ok {
                Ok(())
            } else {
                Err(problema(
                    "cig",
                    format!(
                        "Il campo {nome} deve essere un CIG di 10 caratteri (cifre e lettere maiuscole): trovato «{s}»."
                    ),
                ))
            }
        }
        _ => {
            out.push_str(s);
            Ok(())
        }
    }
}

fn elenco(v: &[&str]) -> String {
    match v.split_last() {
        Some((ultimo, resto)) if !resto.is_empty() => format!("{} o {ultimo}", resto.join(", ")),
        Some((ultimo, _)) => ultimo.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::spec::{Obbligo, patrimonio};

    fn oggi() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn campo(tabella: &str, nome: &str) -> &'static Campo {
        let t = patrimonio::dominio().tabella(tabella).unwrap();
        &t.campi[t.indice(nome).unwrap()]
    }

    fn t(s: &str) -> Cella {
        Cella::Testo(s.into())
    }

    #[test]
    fn valori_insidiosi() {
        let u = |n: &str, c: Cella| interpreta(campo("unita", n), &c, oggi());
        assert_eq!(
            u("superficie_utile_mq", t("65,5")).unwrap(),
            Some(Valore::Numero(65.5))
        );
        // Money from text is exact to the cent, beyond what a float holds (2^53 cents).
        let finanziato = {
            let t = crate::spec::contabilita::dominio()
                .tabella("interventi")
                .unwrap();
            &t.campi[t.indice("importo_finanziato").unwrap()]
        };
        assert_eq!(
            interpreta(finanziato, &t("90071992547409.93"), oggi()).unwrap(),
            Some(Valore::Denaro(9_007_199_254_740_993))
        );
        assert_eq!(
            u("canone_mensile", t("120,50")).unwrap(),
            Some(Valore::Denaro(12050))
        );
        assert_eq!(
            u("canone_mensile", t("120,505")).unwrap_err().codice,
            "formato"
        );
        assert_eq!(
            u("canone_mensile", t("1.200,50")).unwrap_err().codice,
            "tipo"
        );
        assert_eq!(u("canone_mensile", t("1e3")).unwrap_err().codice, "tipo");
        assert_eq!(
            u("data_assegnazione", t("15/03/2010")).unwrap(),
            Some(Valore::Data(NaiveDate::from_ymd_opt(2010, 3, 15).unwrap()))
        );
        assert_eq!(
            u("data_assegnazione", t("30/02/2010")).unwrap_err().codice,
            "tipo"
        );
        assert_eq!(
            u("data_assegnazione", t("2030-01-01")).unwrap_err().codice,
            "data_futura"
        );
        assert_eq!(
            u("tipologia", t("alloggio")).unwrap(),
            Some(Valore::Testo("ALLOGGIO".into()))
        );
        assert_eq!(
            u("categoria_catastale", t("A03")).unwrap(),
            Some(Valore::Testo("A/3".into()))
        );
        assert_eq!(
            u("categoria_catastale", t("A/12")).unwrap_err().codice,
            "formato"
        );
        assert_eq!(u("subalterno", t("1a")).unwrap_err().codice, "formato");
        assert_eq!(
            u("foglio", Cella::Numero(41.0)).unwrap(),
            Some(Valore::Testo("41".into()))
        );
        assert_eq!(
            u("numero_vani", t("3,5")).unwrap(),
            Some(Valore::Numero(3.5))
        );
        assert_eq!(u("numero_vani", t("3,3")).unwrap_err().codice, "formato");
        assert_eq!(u("numero_vani", t("0")).unwrap_err().codice, "minimo");
        assert_eq!(
            u("superficie_utile_mq", t("0")).unwrap_err().codice,
            "minimo"
        );
        assert_eq!(
            u("accessibile_disabili", t("s")).unwrap(),
            Some(Valore::Booleano(true))
        );
        assert_eq!(
            u("accessibile_disabili", t("forse")).unwrap_err().codice,
            "tipo"
        );
        assert_eq!(
            u("cup_ultimo_intervento", t("b31b12000390001")).unwrap(),
            Some(Valore::Testo("B31B12000390001".into()))
        );
        assert_eq!(
            u("anno_ultimo_intervento", t("2027")).unwrap_err().codice,
            "massimo"
        );
        assert_eq!(
            u("numero_occupanti", Cella::Numero(2.5))
                .unwrap_err()
                .codice,
            "tipo"
        );
        assert_eq!(u("piano", t("  ")).unwrap(), None);
        let f = |n: &str, c: Cella| interpreta(campo("fabbricati", n), &c, oggi());
        assert_eq!(
            f("comune_istat", Cella::Numero(72006.0)).unwrap(),
            Some(Valore::Testo("072006".into()))
        );
        assert_eq!(
            f("comune_istat", t("72006")).unwrap(),
            Some(Valore::Testo("072006".into()))
        );
        assert_eq!(
            f("comune_istat", t("058091")).unwrap_err().codice,
            "comune_sconosciuto"
        );
        assert_eq!(
            f("cf_proprietario", t("80017210727")).unwrap(),
            Some(Valore::Testo("80017210727".into()))
        );
        assert_eq!(
            f("cf_proprietario", t("80017210728")).unwrap_err().codice,
            "codice_fiscale"
        );
        assert_eq!(
            f("numero_civico", t("12/b")).unwrap(),
            Some(Valore::Testo("12/B".into()))
        );
        assert_eq!(
            f("numero_civico", t("snc")).unwrap(),
            Some(Valore::Testo("SNC".into()))
        );
        assert_eq!(f("indirizzo", t("Vi")).unwrap_err().codice, "lunghezza");
        assert_eq!(
            f("anno_costruzione", Cella::Errore("#DIV/0!".into()))
                .unwrap_err()
                .codice,
            "tipo"
        );
        assert_eq!(
            campo("fabbricati", "cf_proprietario").obbligo,
            Obbligo::Condizionato("obbligatorio se titolo_possesso = GESTIONE")
        );
    }

    /// The canonical text written into a buffer is the one `canonico` returns, for every kind
    /// of value (the register's staging rows and fingerprints depend on it).
    #[test]
    fn canonico_in_uguale_a_canonico_di_prima() {
        let casi = [
            (Valore::Testo("a b".into()), "a b"),
            (Valore::Intero(-42), "-42"),
            (Valore::Numero(3.0), "3"),
            (Valore::Numero(2.5), "2.5"),
            (Valore::Numero(1e20), "100000000000000000000"),
            (Valore::Numero(1.5e-7), "0.00000015"),
            (Valore::Denaro(-5), "-0.05"),
            (Valore::Denaro(123_456), "1234.56"),
            (
                Valore::Data(NaiveDate::from_ymd_opt(2024, 2, 9).unwrap()),
                "2024-02-09",
            ),
            (
                Valore::Data(NaiveDate::from_ymd_opt(987, 1, 1).unwrap()),
                "0987-01-01",
            ),
            (
                Valore::Data(NaiveDate::from_ymd_opt(12345, 1, 1).unwrap()),
                "+12345-01-01",
            ),
            (Valore::Booleano(true), "SI"),
        ];
        let mut buf = String::from("x");
        for (v, atteso) in casi {
            assert_eq!(v.canonico(), atteso, "{v:?}");
            buf.truncate(1);
            v.canonico_in(&mut buf);
            assert_eq!(&buf[1..], atteso, "{v:?}");
        }
    }
}
