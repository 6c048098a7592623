//! The one CSV writer of the platform: every CSV that PUSH produces (reports of `push validate`,
//! of the public validator, of the API and of the reserved area; register exports; the API's
//! entity list) is written through [`ScrittoreCsv`], on the `csv` crate (quoting, CRLF line
//! ends), with one rule against spreadsheet formula injection: a cell that a spreadsheet would
//! run as a formula — one starting with `=`, `+`, `-`, `@`, a tab or a carriage return — gets a
//! leading apostrophe, unless the whole cell is a number (`-12,5`, `-12.5`, `+3` stay as they
//! are). These files echo values from files sent by others and are opened in Excel by people who
//! trust them: `-2+3+cmd|' /C calc'!A0` must arrive as text.

use std::borrow::Cow;
use std::io::Write;

/// A CSV writer that neutralises formulas in every cell.
pub struct ScrittoreCsv<W: Write> {
    w: csv::Writer<W>,
}

impl ScrittoreCsv<Vec<u8>> {
    /// A writer into memory; [`ScrittoreCsv::testo`] gives the CSV.
    pub fn in_memoria() -> Self {
        Self::new(Vec::new())
    }

    /// The CSV written so far, as text (the cells are `&str`, so it is UTF-8).
    pub fn testo(self) -> Result<String, std::io::Error> {
        let byte = self.finisci()?;
        String::from_utf8(byte).map_err(std::io::Error::other)
    }
}

impl<W: Write> ScrittoreCsv<W> {
    pub fn new(w: W) -> Self {
        Self {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(w),
        }
    }

    /// Writes one record; each cell passes through [`neutralizza`].
    pub fn riga<I, S>(&mut self, celle: I) -> Result<(), std::io::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.w
            .write_record(
                celle
                    .into_iter()
                    .map(|c| neutralizza(c.as_ref()).into_owned()),
            )
            .map_err(std::io::Error::other)
    }

    /// Flushes and gives the inner writer back.
    pub fn finisci(self) -> Result<W, std::io::Error> {
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

/// The cell as a spreadsheet may safely open it: with a leading `'` when it would otherwise be
/// read as a formula (see the module doc).
pub fn neutralizza(cella: &str) -> Cow<'_, str> {
    let pericolosa = matches!(
        cella.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if pericolosa && !e_numero(cella) {
        Cow::Owned(format!("'{cella}"))
    } else {
        Cow::Borrowed(cella)
    }
}

/// A number as people write it: an optional sign, then digits, with `.` or `,` only between
/// digits (`-12,5`, `-1.234,56`, `+3`). Nothing else — a cell made only of these characters
/// cannot be a formula.
fn e_numero(s: &str) -> bool {
    let cifre = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let (Some(primo), Some(ultimo)) = (cifre.first(), cifre.last()) else {
        return false;
    };
    primo.is_ascii_digit()
        && ultimo.is_ascii_digit()
        && cifre
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b'.' || *b == b',')
        && !cifre
            .windows(2)
            .any(|w| !w[0].is_ascii_digit() && !w[1].is_ascii_digit())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn formule_neutralizzate() {
        for (dentro, fuori) in [
            ("=1+1", "'=1+1"),
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+39 080 123", "'+39 080 123"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("+", "'+"),
            ("-cmd", "'-cmd"),
            ("-1e5", "'-1e5"),
            ("-12,", "'-12,"),
            ("-.5", "'-.5"),
            ("-1..2", "'-1..2"),
            ("-12 ", "'-12 "),
        ] {
            assert_eq!(neutralizza(dentro), fuori, "{dentro:?}");
        }
    }

    #[test]
    fn numeri_e_testi_intatti() {
        for x in [
            "-12,5",
            "-12.5",
            "+3",
            "-1.234,56",
            "-0",
            "42",
            "Via Roma, 3",
            "",
            "a=b",
            "U-001",
            "'già",
        ] {
            assert_eq!(neutralizza(x), x, "{x:?}");
        }
    }

    #[test]
    fn righe_con_virgolette_e_crlf() {
        let mut w = ScrittoreCsv::in_memoria();
        w.riga(["codice", "indirizzo"]).expect("w");
        w.riga(["=1+2", "Via \"Nuova\", 3"]).expect("w");
        w.riga(["-2+3+cmd|' /C calc'!A0", "-12,5"]).expect("w");
        assert_eq!(
            w.testo().expect("csv"),
            "codice,indirizzo\r\n'=1+2,\"Via \"\"Nuova\"\", 3\"\r\n'-2+3+cmd|' /C calc'!A0,\"-12,5\"\r\n"
        );
    }
}
