//! The one clock. PUSH serves the Puglia Region, so "today" is the civil date in Rome
//! (Europe/Rome, CET/CEST, from the IANA database through `chrono-tz`) for every layer: the
//! protocol year of a submitted flow, the date register versions become valid, "not after
//! today" checks, the dates on pages and in file names. Instants are stored in UTC; they are
//! turned into Rome time only here, so the server's own time zone never matters.
//!
//! The functions taking an instant (`oggi_a`, `anno_a`, …) are the rule; the ones without
//! read the system clock. [`Orologio`] is the clock the platform holds: the system clock in
//! service, a fixed instant in tests (so midnight and New Year's Eve can be tried at will).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The Region's time zone.
pub const FUSO: Tz = chrono_tz::Europe::Rome;

/// Now, truncated to microseconds (what PostgreSQL keeps), so values read back compare equal
/// to the values written.
pub fn ora() -> DateTime<Utc> {
    tronca(Utc::now())
}

fn tronca(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// An instant in Italian civil time.
pub fn ora_locale(istante: DateTime<Utc>) -> DateTime<Tz> {
    istante.with_timezone(&FUSO)
}

/// The date in Rome at an instant.
pub fn oggi_a(istante: DateTime<Utc>) -> NaiveDate {
    ora_locale(istante).date_naive()
}

/// Today's date in Rome.
pub fn oggi() -> NaiveDate {
    oggi_a(ora())
}

/// The year in Rome at an instant (the protocol year).
pub fn anno_a(istante: DateTime<Utc>) -> i32 {
    ora_locale(istante).year()
}

/// The instant a Rome day begins: a filter "from 31/12" starts at 23:00 UTC on 30/12 in
/// winter. Midnight always exists in Rome (the clocks change at 02:00 and 03:00); should a
/// rule ever skip it, the day begins at the first instant after the gap.
pub fn inizio_giorno(d: NaiveDate) -> DateTime<Utc> {
    let mezzanotte = d.and_time(chrono::NaiveTime::MIN);
    (0..=3)
        .find_map(|h| {
            FUSO.from_local_datetime(&(mezzanotte + chrono::Duration::hours(h)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&mezzanotte))
}

/// `31/12/2026 23:59`: an instant as Italians read it, in Rome time.
pub fn data_ora_it(istante: DateTime<Utc>) -> String {
    ora_locale(istante).format("%d/%m/%Y %H:%M").to_string()
}

/// `31/12/2026`: the Rome date of an instant.
pub fn data_it(istante: DateTime<Utc>) -> String {
    ora_locale(istante).format("%d/%m/%Y").to_string()
}

/// The clock the platform reads: the system's, or one fixed at an instant that a test can move.
/// Clones share the fixed instant, so moving it moves every copy (the server's too).
#[derive(Clone, Debug, Default)]
pub struct Orologio {
    fisso: Option<Arc<AtomicI64>>,
}

impl Orologio {
    /// The system clock.
    pub fn sistema() -> Self {
        Self::default()
    }

    /// A clock stopped at `istante` (to the microsecond).
    pub fn fisso(istante: DateTime<Utc>) -> Self {
        Self {
            fisso: Some(Arc::new(AtomicI64::new(istante.timestamp_micros()))),
        }
    }

    /// Moves a fixed clock to `istante`; `false` (and nothing changes) on the system clock.
    pub fn imposta(&self, istante: DateTime<Utc>) -> bool {
        match &self.fisso {
            Some(f) => {
                f.store(istante.timestamp_micros(), Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Now, by this clock.
    pub fn ora(&self) -> DateTime<Utc> {
        match &self.fisso {
            Some(f) => {
                DateTime::from_timestamp_micros(f.load(Ordering::SeqCst)).unwrap_or_else(ora)
            }
            None => ora(),
        }
    }

    /// Today's date in Rome, by this clock.
    pub fn oggi(&self) -> NaiveDate {
        oggi_a(self.ora())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(a: i32, m: u32, g: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(a, m, g, h, min, 0).unwrap()
    }

    fn data(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }

    #[test]
    fn mezzanotte_d_inverno_un_ora_avanti() {
        // Winter: Rome is UTC+1.
        assert_eq!(oggi_a(utc(2026, 1, 15, 22, 30)), data(2026, 1, 15));
        assert_eq!(data_ora_it(utc(2026, 1, 15, 22, 30)), "15/01/2026 23:30");
        assert_eq!(oggi_a(utc(2026, 1, 15, 23, 30)), data(2026, 1, 16));
        assert_eq!(data_ora_it(utc(2026, 1, 15, 23, 30)), "16/01/2026 00:30");
        assert_eq!(data_it(utc(2026, 1, 15, 23, 30)), "16/01/2026");
    }

    #[test]
    fn mezzanotte_d_estate_due_ore_avanti() {
        // Summer: Rome is UTC+2, so 22:30 UTC is already tomorrow.
        assert_eq!(oggi_a(utc(2026, 7, 15, 21, 30)), data(2026, 7, 15));
        assert_eq!(oggi_a(utc(2026, 7, 15, 22, 30)), data(2026, 7, 16));
        assert_eq!(data_ora_it(utc(2026, 7, 15, 22, 30)), "16/07/2026 00:30");
    }

    #[test]
    fn cambi_dell_ora_legale() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(data_ora_it(utc(2026, 3, 29, 0, 59)), "29/03/2026 01:59");
        assert_eq!(data_ora_it(utc(2026, 3, 29, 1, 0)), "29/03/2026 03:00");
        assert_eq!(data_ora_it(utc(2026, 10, 25, 0, 59)), "25/10/2026 02:59");
        assert_eq!(data_ora_it(utc(2026, 10, 25, 1, 0)), "25/10/2026 02:00");
    }

    #[test]
    fn capodanno_a_roma_prima_che_a_greenwich() {
        let t = utc(2026, 12, 31, 23, 30);
        assert_eq!(anno_a(t), 2027);
        assert_eq!(oggi_a(t), data(2027, 1, 1));
        assert_eq!(anno_a(utc(2026, 12, 31, 22, 59)), 2026);
        assert_eq!(data_ora_it(utc(2026, 12, 31, 22, 59)), "31/12/2026 23:59");
    }

    #[test]
    fn inizio_del_giorno_a_roma() {
        assert_eq!(inizio_giorno(data(2026, 12, 31)), utc(2026, 12, 30, 23, 0));
        assert_eq!(inizio_giorno(data(2026, 7, 1)), utc(2026, 6, 30, 22, 0));
        // The days the clocks change still begin at local midnight.
        assert_eq!(inizio_giorno(data(2026, 3, 29)), utc(2026, 3, 28, 23, 0));
        assert_eq!(inizio_giorno(data(2026, 10, 25)), utc(2026, 10, 24, 22, 0));
    }

    #[test]
    fn orologio_fisso_condiviso_tra_le_copie() {
        let o = Orologio::fisso(utc(2026, 12, 31, 22, 30));
        let copia = o.clone();
        assert_eq!(copia.oggi(), data(2026, 12, 31));
        assert!(o.imposta(utc(2026, 12, 31, 23, 30)));
        assert_eq!(copia.oggi(), data(2027, 1, 1));
        assert_eq!(copia.ora(), utc(2026, 12, 31, 23, 30));
        assert!(!Orologio::sistema().imposta(utc(2026, 1, 1, 0, 0)));
    }
}
