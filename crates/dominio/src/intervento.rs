//! The computed keys of an intervention (`api.md`, "Shared databases"): amounts disbursed and
//! paid, physical and financial progress, delay, and whether the site is stalled. Pure
//! functions of the intervention's rows and of "today" (which the caller reads from
//! [`crate::orologio`]), so the list, the intervention page, the API, the exports and the
//! dashboards all agree, and the rules are tested on hand-computed cases.

use chrono::NaiveDate;
use serde::Serialize;

use crate::denaro::{Importo, Percentuale};

/// Default of the setting "a site is stalled after this many days without a SAL" (`api.md`:
/// 365; the platform's setting `PUSH_SOGLIA_FERMO_GIORNI`).
pub const SOGLIA_FERMO_GIORNI: u32 = 365;

/// The state in which a site can be stalled.
pub const STATO_LAVORI_IN_CORSO: &str = "LAVORI_IN_CORSO";

/// What the computation needs of the intervention itself.
#[derive(Clone, Debug, Default)]
pub struct Intervento<'a> {
    pub stato: &'a str,
    pub importo_finanziato: Importo,
    pub data_inizio_lavori: Option<NaiveDate>,
    pub data_fine_prevista: Option<NaiveDate>,
    pub data_fine_effettiva: Option<NaiveDate>,
}

/// What the computation needs of one SAL.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sal {
    pub numero: i64,
    pub data: NaiveDate,
    /// `percentuale_avanzamento`, as declared (0–100).
    pub percentuale: f64,
}

/// The computed keys, named as in `api.md`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calcolati {
    pub importo_erogato: Importo,
    pub importo_pagato: Importo,
    pub avanzamento_fisico: f64,
    pub avanzamento_finanziario: Percentuale,
    pub ritardo_giorni: Option<i64>,
    pub fermo: bool,
}

/// `avanzamento_fisico`: the `percentuale_avanzamento` of the SAL with the highest
/// `numero_sal`; `0` with no SAL.
pub fn avanzamento_fisico(sal: &[Sal]) -> f64 {
    sal.iter()
        .max_by_key(|s| s.numero)
        .map_or(0.0, |s| s.percentuale)
}

/// `avanzamento_finanziario`: `importo_erogato / importo_finanziato × 100`, rounded to two
/// decimals (half away from zero); `0` when nothing is financed (the spec requires a positive
/// amount, so only corrupt data gets there).
pub fn avanzamento_finanziario(erogato: Importo, finanziato: Importo) -> Percentuale {
    erogato.percentuale_di(finanziato).unwrap_or_default()
}

/// `ritardo_giorni`: days from `data_fine_prevista` to `data_fine_effettiva`, or to `oggi`
/// while the works are not finished (no actual end); `0` when not late; `None` without a
/// planned end.
pub fn ritardo_giorni(
    fine_prevista: Option<NaiveDate>,
    fine_effettiva: Option<NaiveDate>,
    oggi: NaiveDate,
) -> Option<i64> {
    let prevista = fine_prevista?;
    let fine = fine_effettiva.unwrap_or(oggi);
    Some((fine - prevista).num_days().max(0))
}

/// The first day on which [`ritardo_giorni`] is positive: never without a planned end or when
/// finished on time; [`InRitardo::Sempre`] when finished late (the delay is fixed then);
/// otherwise the day after the planned end. A dashboard stores this instead of a count that
/// would change every day, and counts "delayed on D" exactly for any D.
pub fn in_ritardo_dal(
    fine_prevista: Option<NaiveDate>,
    fine_effettiva: Option<NaiveDate>,
) -> Option<InRitardo> {
    let prevista = fine_prevista?;
    match fine_effettiva {
        Some(f) if f > prevista => Some(InRitardo::Sempre),
        Some(_) => None,
        None => prevista.succ_opt().map(InRitardo::Dal),
    }
}

/// When an intervention is late (see [`in_ritardo_dal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InRitardo {
    Sempre,
    Dal(NaiveDate),
}

impl InRitardo {
    pub fn il(self, giorno: NaiveDate) -> bool {
        match self {
            InRitardo::Sempre => true,
            InRitardo::Dal(d) => d <= giorno,
        }
    }
}

/// The day a stalled site is counted from: for works in progress, the last SAL's date or,
/// with none, the start of works; `None` when the site cannot be stalled. [`fermo`] is
/// "more than the threshold days after this day".
pub fn riferimento_fermo(
    stato: &str,
    sal: &[Sal],
    data_inizio_lavori: Option<NaiveDate>,
) -> Option<NaiveDate> {
    if stato != STATO_LAVORI_IN_CORSO {
        return None;
    }
    // The last SAL by date: the numbering and the dates go together in a valid flow
    // (`sequenza`), and the date is what "old" means.
    sal.iter().map(|s| s.data).max().or(data_inizio_lavori)
}

/// Whether a site whose [`riferimento_fermo`] is `riferimento` is stalled on `oggi`.
pub fn fermo_il(riferimento: NaiveDate, oggi: NaiveDate, soglia_giorni: u32) -> bool {
    (oggi - riferimento).num_days() > i64::from(soglia_giorni)
}

/// `fermo`: the works are in progress (`LAVORI_IN_CORSO`) and the last SAL (or, with none,
/// the start of works) is more than `soglia_giorni` days old. Exactly `soglia_giorni` days
/// is not yet stalled. Without either date nothing says the site stopped: not stalled.
pub fn fermo(
    stato: &str,
    sal: &[Sal],
    data_inizio_lavori: Option<NaiveDate>,
    oggi: NaiveDate,
    soglia_giorni: u32,
) -> bool {
    riferimento_fermo(stato, sal, data_inizio_lavori)
        .is_some_and(|d| fermo_il(d, oggi, soglia_giorni))
}

/// Every computed key of one intervention.
pub fn calcola(
    i: &Intervento<'_>,
    sal: &[Sal],
    erogazioni: impl IntoIterator<Item = Importo>,
    pagamenti: impl IntoIterator<Item = Importo>,
    oggi: NaiveDate,
    soglia_fermo_giorni: u32,
) -> Calcolati {
    let importo_erogato: Importo = erogazioni.into_iter().sum();
    let importo_pagato: Importo = pagamenti.into_iter().sum();
    Calcolati {
        importo_erogato,
        importo_pagato,
        avanzamento_fisico: avanzamento_fisico(sal),
        avanzamento_finanziario: avanzamento_finanziario(importo_erogato, i.importo_finanziato),
        ritardo_giorni: ritardo_giorni(i.data_fine_prevista, i.data_fine_effettiva, oggi),
        fermo: fermo(
            i.stato,
            sal,
            i.data_inizio_lavori,
            oggi,
            soglia_fermo_giorni,
        ),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn d(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }
    fn e(c: i64) -> Importo {
        Importo::da_centesimi(c)
    }
    fn sal(numero: i64, data: NaiveDate, percentuale: f64) -> Sal {
        Sal {
            numero,
            data,
            percentuale,
        }
    }

    #[test]
    fn avanzamento_fisico_dall_ultimo_sal_per_numero() {
        assert_eq!(avanzamento_fisico(&[]), 0.0);
        // Listed out of order: the highest number counts, not the last row nor the highest %.
        let v = [
            sal(2, d(2020, 6, 1), 40.5),
            sal(3, d(2020, 9, 1), 62.25),
            sal(1, d(2020, 3, 1), 15.0),
        ];
        assert_eq!(avanzamento_fisico(&v), 62.25);
    }

    #[test]
    fn avanzamento_finanziario_a_due_decimali() {
        // 1 234 567,89 of 3 000 000,00 = 41,1522… % → 41,15.
        assert_eq!(
            avanzamento_finanziario(e(123_456_789), e(300_000_000)).centesimi(),
            4115
        );
        // 1/3 → 33,33; 2/3 → 66,67; exactly 0,005 % → 0,01 %.
        assert_eq!(avanzamento_finanziario(e(100), e(300)).centesimi(), 3333);
        assert_eq!(avanzamento_finanziario(e(200), e(300)).centesimi(), 6667);
        assert_eq!(avanzamento_finanziario(e(1), e(20_000)).centesimi(), 1);
        assert_eq!(avanzamento_finanziario(e(0), e(500)).centesimi(), 0);
        assert_eq!(avanzamento_finanziario(e(500), e(500)).centesimi(), 10_000);
        assert_eq!(avanzamento_finanziario(e(500), e(0)).centesimi(), 0);
    }

    #[test]
    fn ritardo_in_giorni() {
        let oggi = d(2026, 11, 30);
        assert_eq!(ritardo_giorni(None, Some(d(2020, 1, 1)), oggi), None);
        // Finished 45 days late (2024 is a leap year: Feb has 29 days).
        assert_eq!(
            ritardo_giorni(Some(d(2024, 2, 1)), Some(d(2024, 3, 17)), oggi),
            Some(45)
        );
        // Finished early or on the day: 0.
        assert_eq!(
            ritardo_giorni(Some(d(2024, 2, 1)), Some(d(2024, 1, 1)), oggi),
            Some(0)
        );
        assert_eq!(
            ritardo_giorni(Some(d(2024, 2, 1)), Some(d(2024, 2, 1)), oggi),
            Some(0)
        );
        // Not finished: counted to today; a planned end in the future is not late.
        assert_eq!(ritardo_giorni(Some(d(2026, 10, 31)), None, oggi), Some(30));
        assert_eq!(ritardo_giorni(Some(d(2027, 1, 1)), None, oggi), Some(0));
    }

    #[test]
    fn in_ritardo_dal_coincide_con_ritardo_giorni() {
        // For every case and every day around it, "late on D" is "ritardo_giorni(D) > 0".
        let casi = [
            (None, None),
            (Some(d(2024, 2, 1)), None),
            (Some(d(2024, 2, 1)), Some(d(2024, 3, 17))),
            (Some(d(2024, 2, 1)), Some(d(2024, 2, 1))),
            (Some(d(2024, 2, 1)), Some(d(2024, 1, 1))),
        ];
        for (p, f) in casi {
            let r = in_ritardo_dal(p, f);
            let mut giorno = d(2023, 12, 1);
            while giorno < d(2024, 5, 1) {
                let atteso = ritardo_giorni(p, f, giorno).is_some_and(|g| g > 0);
                assert_eq!(
                    r.is_some_and(|r| r.il(giorno)),
                    atteso,
                    "{p:?} {f:?} {giorno}"
                );
                giorno = giorno.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn fermo_al_bordo_della_soglia() {
        let oggi = d(2026, 11, 30);
        let inizio = Some(d(2020, 1, 1));
        // Last SAL exactly 365 days ago: not stalled; 366: stalled.
        let a_365 = [sal(1, d(2025, 11, 30), 20.0)];
        let a_366 = [sal(1, d(2025, 11, 29), 20.0)];
        assert!(!fermo("LAVORI_IN_CORSO", &a_365, inizio, oggi, 365));
        assert!(fermo("LAVORI_IN_CORSO", &a_366, inizio, oggi, 365));
        // The threshold is a setting.
        assert!(!fermo("LAVORI_IN_CORSO", &a_366, inizio, oggi, 366));
        assert!(fermo("LAVORI_IN_CORSO", &a_365, inizio, oggi, 364));
        // The latest SAL counts, whatever the order of the rows.
        let v = [sal(2, d(2026, 6, 1), 50.0), sal(1, d(2019, 6, 1), 10.0)];
        assert!(!fermo("LAVORI_IN_CORSO", &v, inizio, oggi, 365));
        // Without SAL, the start of works: 365 days → not stalled, 366 → stalled.
        assert!(!fermo(
            "LAVORI_IN_CORSO",
            &[],
            Some(d(2025, 11, 30)),
            oggi,
            365
        ));
        assert!(fermo(
            "LAVORI_IN_CORSO",
            &[],
            Some(d(2025, 11, 29)),
            oggi,
            365
        ));
        // Only works in progress can be stalled.
        for stato in ["SOSPESO", "ULTIMATO", "AGGIUDICATO", "COLLAUDATO"] {
            assert!(!fermo(stato, &a_366, inizio, oggi, 365), "{stato}");
        }
        assert!(!fermo("LAVORI_IN_CORSO", &[], None, oggi, 365));
    }

    #[test]
    fn calcolo_completo() {
        let oggi = d(2026, 11, 30);
        let i = Intervento {
            stato: "LAVORI_IN_CORSO",
            importo_finanziato: e(100_000_000),
            data_inizio_lavori: Some(d(2022, 3, 1)),
            data_fine_prevista: Some(d(2025, 3, 1)),
            data_fine_effettiva: None,
        };
        let sal = [sal(1, d(2022, 9, 1), 20.0), sal(2, d(2023, 6, 15), 45.5)];
        let c = calcola(
            &i,
            &sal,
            [e(20_000_000), e(25_000_000), e(12_345)],
            [e(30_000_000), e(1)],
            oggi,
            SOGLIA_FERMO_GIORNI,
        );
        assert_eq!(c.importo_erogato, e(45_012_345));
        assert_eq!(c.importo_pagato, e(30_000_001));
        assert_eq!(c.avanzamento_fisico, 45.5);
        // 45 012 345 / 100 000 000 = 45,012345 % → 45,01.
        assert_eq!(c.avanzamento_finanziario.centesimi(), 4501);
        // 1 March 2025 → 1 March 2026: 365 days; → 30 November 2026: 274 more: 639.
        assert_eq!(c.ritardo_giorni, Some(639));
        assert!(c.fermo);
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["importo_erogato"], "450123.45");
        assert_eq!(j["importo_pagato"], "300000.01");
        assert_eq!(j["avanzamento_finanziario"], 45.01);
        assert_eq!(j["ritardo_giorni"], 639);
        assert_eq!(j["fermo"], true);
    }
}
