//! Money: an amount in euro held as whole cents (`i64`), never as a float, in storage and in
//! arithmetic (issue 9). Parsed from the stored/JSON form `1234.56` (or an Italian `1234,56`,
//! no thousands separators), written for programs as `"1234.56"` (the API's money string,
//! `api.md`) and for people as `1.234.567,89 €`.
//!
//! Sums saturate instead of overflowing: an `i64` of cents holds ±92 000 billion euro, so a
//! saturated sum means corrupt data, and it must not panic a request.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ErroreDominio;

/// An amount in euro, in cents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Importo(i64);

impl Importo {
    pub const ZERO: Importo = Importo(0);

    pub const fn da_centesimi(c: i64) -> Self {
        Importo(c)
    }

    pub const fn centesimi(self) -> i64 {
        self.0
    }

    /// `1234.56`, `1234,5`, `-3`, `+0.07`: at most two decimals, no thousands separators, no
    /// exponent (the money rule of `validazione.md` §2). Exact: the digits are read as
    /// integers, never through a float.
    pub fn parse(s: &str) -> Result<Self, ErroreDominio> {
        let errore = || {
            ErroreDominio::valore(
                "importo",
                format!(
                    "«{}» non è un importo in euro: scriva le cifre con al massimo due decimali, senza separatore delle migliaia (es. 1234,56).",
                    s.trim()
                ),
            )
        };
        let t = s.trim();
        let (negativo, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (intera, frazione) = match t.find(['.', ',']) {
            Some(i) => (&t[..i], &t[i + 1..]),
            None => (t, ""),
        };
        let cifre = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if intera.is_empty()
            || !cifre(intera)
            || !cifre(frazione)
            || frazione.len() > 2
            || (t.len() > intera.len() && frazione.is_empty())
        {
            return Err(errore());
        }
        let euro: i64 = intera.parse().map_err(|_| errore())?;
        let cent: i64 = match frazione.len() {
            0 => 0,
            1 => frazione.parse::<i64>().map_err(|_| errore())? * 10,
            _ => frazione.parse().map_err(|_| errore())?,
        };
        let c = euro
            .checked_mul(100)
            .and_then(|e| e.checked_add(cent))
            .ok_or_else(errore)?;
        Ok(Importo(if negativo { -c } else { c }))
    }

    /// The stored and JSON form: a dot and two decimals, `-1234.05`.
    pub fn testo(self) -> String {
        let segno = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{segno}{}.{:02}", a / 100, a % 100)
    }

    /// As people read it: `1.234.567,89 €`.
    pub fn italiano(self) -> String {
        let segno = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!(
            "{segno}{},{:02} €",
            crate::numeri::naturale_it(a / 100),
            a % 100
        )
    }

    /// `self / di × 100` as hundredths of a percent, rounded half away from zero (integer
    /// arithmetic: `avanzamento_finanziario` of `api.md`); `None` when `di` is zero.
    pub fn percentuale_di(self, di: Importo) -> Option<Percentuale> {
        if di.0 == 0 {
            return None;
        }
        let num = i128::from(self.0) * 10_000;
        let den = i128::from(di.0);
        let q = num / den;
        let r = num % den;
        // Half away from zero: compare twice the remainder with the divisor.
        let q = if 2 * r.abs() >= den.abs() {
            q + if (num < 0) != (den < 0) { -1 } else { 1 }
        } else {
            q
        };
        Some(Percentuale(
            q.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        ))
    }
}

impl fmt::Display for Importo {
    /// The Italian form, for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.italiano())
    }
}

impl Add for Importo {
    type Output = Importo;
    fn add(self, o: Importo) -> Importo {
        Importo(self.0.saturating_add(o.0))
    }
}

impl AddAssign for Importo {
    fn add_assign(&mut self, o: Importo) {
        *self = *self + o;
    }
}

impl Sub for Importo {
    type Output = Importo;
    fn sub(self, o: Importo) -> Importo {
        Importo(self.0.saturating_sub(o.0))
    }
}

impl Sum for Importo {
    fn sum<I: Iterator<Item = Importo>>(it: I) -> Importo {
        it.fold(Importo::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Importo> for Importo {
    fn sum<I: Iterator<Item = &'a Importo>>(it: I) -> Importo {
        it.copied().sum()
    }
}

/// Money in JSON is a string with a dot and two decimals (`api.md`), never a number.
impl Serialize for Importo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.testo())
    }
}

impl<'de> Deserialize<'de> for Importo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Importo::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A percentage held as hundredths (`4567` = 45,67 %): rounded once, exactly, where it is
/// computed; shown with two decimals. In JSON a number (`api.md`: `avanzamento_finanziario`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percentuale(i64);

impl Percentuale {
    pub const fn da_centesimi(c: i64) -> Self {
        Percentuale(c)
    }
    pub const fn centesimi(self) -> i64 {
        self.0
    }
    /// `parte / totale × 100` of two counts, rounded once as [`Importo::percentuale_di`]
    /// (integer arithmetic); `None` when the total is zero.
    pub fn di(parte: i64, totale: i64) -> Option<Percentuale> {
        Importo::da_centesimi(parte).percentuale_di(Importo::da_centesimi(totale))
    }
    /// The value as a number (for JSON and charts): `45.67`.
    pub fn numero(self) -> f64 {
        self.0 as f64 / 100.0
    }
    /// `45,67 %`.
    pub fn italiano(self) -> String {
        let segno = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!(
            "{segno}{},{:02} %",
            crate::numeri::naturale_it(a / 100),
            a % 100
        )
    }
}

impl Serialize for Percentuale {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.numero())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn lettura_esatta() {
        for (s, c) in [
            ("1234.56", 123_456),
            ("1234,5", 123_450),
            ("0.07", 7),
            ("-3", -300),
            ("+12.00", 1200),
            (" 7 ", 700),
            // A float would give 1.0000000000000002e16 here; integers stay exact.
            ("92233720368547758.07", i64::MAX),
            ("0.1", 10),
        ] {
            assert_eq!(Importo::parse(s).unwrap().centesimi(), c, "{s}");
        }
        for s in [
            "",
            "-",
            "1.234,56",
            "1,234.5",
            "1.",
            ".5",
            "1.234",
            "1e3",
            "12 €",
            "abc",
            "1..2",
            "92233720368547758.08",
        ] {
            assert!(Importo::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn forme_scritte() {
        let i = Importo::da_centesimi(123_456_789);
        assert_eq!(i.testo(), "1234567.89");
        assert_eq!(i.italiano(), "1.234.567,89 €");
        assert_eq!(i.to_string(), "1.234.567,89 €");
        assert_eq!(Importo::da_centesimi(5).testo(), "0.05");
        assert_eq!(Importo::da_centesimi(-5).testo(), "-0.05");
        assert_eq!(Importo::da_centesimi(-100_000).italiano(), "-1.000,00 €");
        assert_eq!(Importo::da_centesimi(99_999).italiano(), "999,99 €");
        assert_eq!(Importo::ZERO.italiano(), "0,00 €");
        assert_eq!(
            Importo::da_centesimi(i64::MIN).testo(),
            "-92233720368547758.08"
        );
        assert_eq!(
            serde_json::to_string(&Importo::da_centesimi(123_456)).unwrap(),
            r#""1234.56""#
        );
        let letto: Importo = serde_json::from_str(r#""10.5""#).unwrap();
        assert_eq!(letto.centesimi(), 1050);
        assert!(serde_json::from_str::<Importo>("10.5").is_err());
    }

    #[test]
    fn somme_senza_traboccare() {
        let v = [
            Importo::da_centesimi(10),
            Importo::da_centesimi(20),
            Importo::da_centesimi(-5),
        ];
        assert_eq!(v.iter().sum::<Importo>().centesimi(), 25);
        assert_eq!(
            (Importo::da_centesimi(i64::MAX) + Importo::da_centesimi(1)).centesimi(),
            i64::MAX
        );
    }

    #[test]
    fn percentuali_arrotondate_a_due_decimali() {
        let p = |a: i64, b: i64| {
            Importo::da_centesimi(a)
                .percentuale_di(Importo::da_centesimi(b))
                .map(Percentuale::centesimi)
        };
        // 1/3 = 33,333… → 33,33; 2/3 = 66,666… → 66,67.
        assert_eq!(p(1, 3), Some(3333));
        assert_eq!(p(2, 3), Some(6667));
        // 1/8 = 12,5 % exactly; 1/20 000 = 0,005 %: half a hundredth rounds away from zero.
        assert_eq!(p(1, 8), Some(1250));
        assert_eq!(p(1, 20_000), Some(1));
        assert_eq!(p(-1, 20_000), Some(-1));
        assert_eq!(p(1, 20_001), Some(0));
        assert_eq!(p(150, 100), Some(15_000));
        assert_eq!(p(0, 100), Some(0));
        assert_eq!(p(5, 0), None);
        assert_eq!(Percentuale::da_centesimi(4567).italiano(), "45,67 %");
        assert_eq!(
            serde_json::to_string(&Percentuale::da_centesimi(4567)).unwrap(),
            "45.67"
        );
    }
}
