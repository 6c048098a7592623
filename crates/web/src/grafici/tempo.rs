//! A timeline chart: cumulative amounts over time as step lines (an amount grows on the day
//! of each event), with dated vertical markers. The intervention page draws its SAL,
//! disbursements and payments with the planned and actual end of works; dashboards can draw
//! any cumulative series the same way.
//!
//! Series differ by colour *and* by dash pattern and point shape, so the chart reads in
//! grey print and for colour-blind people; the table under it gives every figure.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

use super::{figura, riga_tabella, scala, scappa};

/// How a series is drawn: colour (contrast ≥ 4.5:1 on white), dash pattern, point shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stile {
    /// Blue, continuous line, round points.
    Continua,
    /// Green, dashed line, square points.
    Tratteggiata,
    /// Purple-red, dotted line, diamond points.
    Punteggiata,
}

impl Stile {
    fn colore(self) -> &'static str {
        match self {
            Stile::Continua => "#0059b3",
            Stile::Tratteggiata => "#00704a",
            Stile::Punteggiata => "#a3144f",
        }
    }
    fn tratteggio(self) -> &'static str {
        match self {
            Stile::Continua => "",
            Stile::Tratteggiata => " stroke-dasharray=\"8 4\"",
            Stile::Punteggiata => " stroke-dasharray=\"2 3\"",
        }
    }
    fn punto(self, o: &mut String, x: f64, y: f64) {
        let c = self.colore();
        match self {
            Stile::Continua => {
                let _ = write!(
                    o,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{c}\"/>"
                );
            }
            Stile::Tratteggiata => {
                let _ = write!(
                    o,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\" fill=\"{c}\"/>",
                    x - 3.5,
                    y - 3.5
                );
            }
            Stile::Punteggiata => {
                let _ = write!(
                    o,
                    "<path d=\"M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z\" fill=\"{c}\"/>",
                    y - 4.5,
                    x + 4.5,
                    y + 4.5,
                    x - 4.5
                );
            }
        }
    }
}

/// A series: amounts (cents, or any integer unit) that add up on their dates.
#[derive(Clone, Debug)]
pub struct Serie {
    pub nome: String,
    pub stile: Stile,
    /// `(date, amount)`: the cumulative value grows by `amount` on `date`; any order.
    pub eventi: Vec<(NaiveDate, i64)>,
}

/// A dated vertical line (planned end, actual end, today).
#[derive(Clone, Debug)]
pub struct Marcatore {
    pub nome: String,
    pub data: NaiveDate,
    /// Dashed (something expected) or continuous (something that happened).
    pub tratteggiato: bool,
}

/// The chart.
pub struct GraficoTempo {
    /// Unique in the page (used for `id` and `aria-labelledby`).
    pub id: String,
    pub titolo: String,
    /// One or two sentences on what the chart shows; the final values are added to it.
    pub descrizione: String,
    pub serie: Vec<Serie>,
    pub marcatori: Vec<Marcatore>,
    /// The series run to this date (e.g. today) if it is later than every event.
    pub fino_a: Option<NaiveDate>,
    /// A value as people read it (table, description): `1.234,56 €`.
    pub formato: fn(i64) -> String,
    /// A value on the axis, short: `1,2 mln €`.
    pub formato_asse: fn(i64) -> String,
}

const L: f64 = 104.0;
const R: f64 = 24.0;
const T: f64 = 46.0;
const B: f64 = 74.0;
const W: f64 = 760.0;
const H: f64 = 400.0;
const GRIGIO: &str = "#5c6f82";
const TESTO: &str = "#1a1a1a";

fn giorno(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

impl GraficoTempo {
    /// Cumulative values of a series after each of its dates, in date order.
    fn cumulati(s: &Serie) -> Vec<(NaiveDate, i64)> {
        let mut ev = s.eventi.clone();
        ev.sort_by_key(|e| e.0);
        let mut out: Vec<(NaiveDate, i64)> = Vec::new();
        let mut somma = 0i64;
        for (d, v) in ev {
            somma = somma.saturating_add(v);
            match out.last_mut() {
                Some(u) if u.0 == d => u.1 = somma,
                _ => out.push((d, somma)),
            }
        }
        out
    }

    /// The dates shown: first and last of events, markers and `fino_a`; widened when equal.
    fn intervallo(&self) -> Option<(NaiveDate, NaiveDate)> {
        let date = self
            .serie
            .iter()
            .flat_map(|s| s.eventi.iter().map(|e| e.0))
            .chain(self.marcatori.iter().map(|m| m.data))
            .chain(self.fino_a);
        let (mut a, mut b) = date.fold(None, |acc: Option<(NaiveDate, NaiveDate)>, d| {
            Some(acc.map_or((d, d), |(a, b)| (a.min(d), b.max(d))))
        })?;
        if a == b {
            a -= chrono::Duration::days(30);
            b += chrono::Duration::days(30);
        }
        Some((a, b))
    }

    /// The whole `<figure>`: SVG, caption and data table.
    pub fn html(&self) -> String {
        let id = super::id_sicuro(&self.id);
        figura(&id, &self.titolo, &self.svg(&id), &self.tabella())
    }

    fn descrizione_completa(&self) -> String {
        let mut d = self.descrizione.trim().to_string();
        for s in &self.serie {
            let ultimo = Self::cumulati(s).last().map_or(0, |c| c.1);
            let _ = write!(d, " {}: {}.", s.nome, (self.formato)(ultimo));
        }
        for m in &self.marcatori {
            let _ = write!(d, " {}: {}.", m.nome, giorno(m.data));
        }
        d.trim().to_string()
    }

    fn svg(&self, id: &str) -> String {
        let mut o = String::with_capacity(4096);
        let _ = write!(
            o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"{id}-titolo {id}-desc\" viewBox=\"0 0 {W} {H}\" width=\"100%\" style=\"max-width:{W}px;height:auto\" font-family=\"'Titillium Web',Geneva,Tahoma,sans-serif\" font-size=\"13\"><title id=\"{id}-titolo\">{}</title><desc id=\"{id}-desc\">{}</desc>",
            scappa(&self.titolo),
            scappa(&self.descrizione_completa())
        );
        let _ = write!(o, "<rect width=\"{W}\" height=\"{H}\" fill=\"#ffffff\"/>");
        let Some((d0, d1)) = self.intervallo() else {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{TESTO}\">Nessun dato da mostrare.</text></svg>",
                W / 2.0,
                H / 2.0
            );
            return o;
        };
        let (pw, ph) = (W - L - R, H - T - B);
        let giorni = (d1 - d0).num_days().max(1) as f64;
        let x = |d: NaiveDate| L + (d - d0).num_days() as f64 / giorni * pw;
        let cumulati: Vec<Vec<(NaiveDate, i64)>> = self.serie.iter().map(Self::cumulati).collect();
        let massimo = cumulati
            .iter()
            .flat_map(|c| c.iter().map(|p| p.1))
            .max()
            .unwrap_or(0);
        let (limite, passo) = scala(massimo, 5);
        let y = |v: i64| T + ph - (v.max(0) as f64 / limite as f64) * ph;

        // Value grid and axis.
        let mut v = 0;
        while v <= limite {
            let yy = y(v);
            let _ = write!(
                o,
                "<line x1=\"{L}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#d9dadb\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{TESTO}\">{}</text>",
                L + pw,
                L - 8.0,
                yy + 4.0,
                scappa(&(self.formato_asse)(v))
            );
            v += passo;
        }
        // Time axis: years, or months on short spans.
        let _ = write!(
            o,
            "<line x1=\"{L}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{TESTO}\"/>",
            T + ph,
            L + pw,
            T + ph
        );
        for (d, etichetta) in tacche_tempo(d0, d1) {
            let xx = x(d);
            let _ = write!(
                o,
                "<line x1=\"{xx:.1}\" y1=\"{:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"{TESTO}\"/><text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{TESTO}\">{}</text>",
                T + ph,
                T + ph + 5.0,
                T + ph + 20.0,
                scappa(&etichetta)
            );
        }
        // Markers, labels staggered so that two close dates stay readable.
        for (k, m) in self.marcatori.iter().enumerate() {
            let xx = x(m.data);
            let ancora = if xx > L + pw / 2.0 { "end" } else { "start" };
            let dx = if ancora == "end" { -4.0 } else { 4.0 };
            let _ = write!(
                o,
                "<line x1=\"{xx:.1}\" y1=\"{:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"{GRIGIO}\" stroke-width=\"2\"{}/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{ancora}\" fill=\"{TESTO}\">{} {}</text>",
                T - 4.0,
                T + ph,
                if m.tratteggiato {
                    " stroke-dasharray=\"5 4\""
                } else {
                    ""
                },
                xx + dx,
                T - 24.0 + 14.0 * (k % 2) as f64,
                scappa(&m.nome),
                giorno(m.data)
            );
        }
        // Series: step lines from zero at the first date to the last date.
        for (s, c) in self.serie.iter().zip(&cumulati) {
            let mut d = format!("M{:.1} {:.1}", x(d0), y(0));
            for (data, valore) in c {
                let _ = write!(d, "H{:.1}V{:.1}", x(*data), y(*valore));
            }
            let _ = write!(d, "H{:.1}", x(d1));
            let _ = write!(
                o,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"{}/>",
                s.stile.colore(),
                s.stile.tratteggio()
            );
            for (data, valore) in c {
                s.stile.punto(&mut o, x(*data), y(*valore));
            }
        }
        // Legend under the axis.
        let mut lx = L;
        let ly = H - 16.0;
        for s in &self.serie {
            let _ = write!(
                o,
                "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{}\" stroke-width=\"2.5\"{}/>",
                lx + 28.0,
                s.stile.colore(),
                s.stile.tratteggio()
            );
            s.stile.punto(&mut o, lx + 14.0, ly);
            let _ = write!(
                o,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{TESTO}\">{}</text>",
                lx + 34.0,
                ly + 4.0,
                scappa(&s.nome)
            );
            lx += 50.0 + 7.5 * s.nome.chars().count() as f64;
        }
        o.push_str("</svg>");
        o
    }

    /// One row per date (events and markers), with each series' cumulative value after it.
    fn tabella(&self) -> String {
        let cumulati: Vec<Vec<(NaiveDate, i64)>> = self.serie.iter().map(Self::cumulati).collect();
        let date: BTreeSet<NaiveDate> = cumulati
            .iter()
            .flat_map(|c| c.iter().map(|p| p.0))
            .chain(self.marcatori.iter().map(|m| m.data))
            .collect();
        let mut o = String::new();
        let mut intestazione = vec!["Data".to_string()];
        intestazione.extend(self.serie.iter().map(|s| format!("{} (cumulato)", s.nome)));
        intestazione.push("Eventi".into());
        o.push_str("<thead>");
        riga_tabella(&mut o, &intestazione, true);
        o.push_str("</thead><tbody>");
        for d in date {
            let mut celle = vec![giorno(d)];
            for c in &cumulati {
                let v = c.iter().take_while(|p| p.0 <= d).last().map_or(0, |p| p.1);
                celle.push((self.formato)(v));
            }
            let eventi: Vec<&str> = self
                .marcatori
                .iter()
                .filter(|m| m.data == d)
                .map(|m| m.nome.as_str())
                .collect();
            celle.push(eventi.join(", "));
            riga_tabella(&mut o, &celle, false);
        }
        o.push_str("</tbody>");
        o
    }
}

/// Ticks of the time axis: 1 January of the years in the span (at most ~10), or the first of
/// the months on spans shorter than two years.
fn tacche_tempo(d0: NaiveDate, d1: NaiveDate) -> Vec<(NaiveDate, String)> {
    let anni: Vec<i32> = ((d0.year() + 1)..=d1.year()).collect();
    if anni.len() >= 2 {
        let passo = anni.len().div_ceil(10);
        return anni
            .iter()
            .filter(|a| ((*a - anni[0]) as usize).is_multiple_of(passo))
            .filter_map(|a| NaiveDate::from_ymd_opt(*a, 1, 1).map(|d| (d, a.to_string())))
            .collect();
    }
    const MESI: [&str; 12] = [
        "gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic",
    ];
    let mut v = Vec::new();
    let (mut a, mut m) = (d0.year(), d0.month());
    loop {
        (a, m) = if m == 12 { (a + 1, 1) } else { (a, m + 1) };
        match NaiveDate::from_ymd_opt(a, m, 1) {
            Some(d) if d <= d1 => v.push((d, format!("{} {}", MESI[(m - 1) as usize], a))),
            _ => break,
        }
    }
    let passo = v.len().div_ceil(8).max(1);
    v.into_iter().step_by(passo).collect()
}

#[cfg(test)]
mod test {
    use super::*;

    fn d(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }

    fn euro(c: i64) -> String {
        dominio::Importo::da_centesimi(c).italiano()
    }

    fn grafico() -> GraficoTempo {
        GraficoTempo {
            id: "cronologia J12".into(),
            titolo: "Andamento di <J12>".into(),
            descrizione: "SAL, erogazioni e pagamenti cumulati.".into(),
            serie: vec![
                Serie {
                    nome: "SAL".into(),
                    stile: Stile::Continua,
                    eventi: vec![(d(2021, 6, 1), 3_000_000), (d(2020, 12, 1), 1_000_000)],
                },
                Serie {
                    nome: "Erogazioni".into(),
                    stile: Stile::Tratteggiata,
                    eventi: vec![(d(2020, 10, 1), 500_000), (d(2020, 10, 1), 100_000)],
                },
                Serie {
                    nome: "Pagamenti".into(),
                    stile: Stile::Punteggiata,
                    eventi: vec![],
                },
            ],
            marcatori: vec![
                Marcatore {
                    nome: "Fine prevista".into(),
                    data: d(2021, 3, 1),
                    tratteggiato: true,
                },
                Marcatore {
                    nome: "Fine effettiva".into(),
                    data: d(2021, 6, 1),
                    tratteggiato: false,
                },
            ],
            fino_a: Some(d(2022, 1, 1)),
            formato: euro,
            formato_asse: euro,
        }
    }

    #[test]
    fn svg_accessibile_con_titolo_descrizione_e_tabella() {
        let h = grafico().html();
        assert!(h.starts_with("<figure class=\"grafico\" id=\"cronologia-J12\">"));
        assert!(h.contains(
            "role=\"img\" aria-labelledby=\"cronologia-J12-titolo cronologia-J12-desc\""
        ));
        assert!(h.contains("<title id=\"cronologia-J12-titolo\">Andamento di &lt;J12&gt;</title>"));
        // The description ends with the final values and the markers.
        assert!(h.contains("SAL: 40.000,00 €. Erogazioni: 6.000,00 €. Pagamenti: 0,00 €. Fine prevista: 01/03/2021. Fine effettiva: 01/06/2021.</desc>"), "{h}");
        assert!(!h.contains("NaN") && !h.contains("\"inf") && !h.contains(" inf"));
        // Three series paths, two markers (one dashed).
        assert_eq!(h.matches("fill=\"none\" stroke=").count(), 3);
        assert!(h.contains("Fine prevista 01/03/2021"));
        assert!(h.contains("stroke-dasharray=\"5 4\""));
        // Same-day events add up in one step.
        assert!(h.contains("<td class=\"text-end\">6.000,00 €</td>"));
    }

    #[test]
    fn tabella_con_i_cumulati_per_data() {
        let t = grafico().tabella();
        let righe: Vec<&str> = t.split("<tr>").skip(1).collect();
        // Header + 4 dates (2020-10-01, 2020-12-01, 2021-03-01, 2021-06-01).
        assert_eq!(righe.len(), 5, "{t}");
        assert!(righe[0].contains("SAL (cumulato)") && righe[0].contains("Eventi"));
        assert!(righe[1].starts_with("<th scope=\"row\">01/10/2020</th><td class=\"text-end\">0,00 €</td><td class=\"text-end\">6.000,00 €</td>"));
        assert!(righe[3].contains("01/03/2021") && righe[3].contains("10.000,00 €"));
        assert!(righe[3].contains("Fine prevista"));
        assert!(righe[4].contains("40.000,00 €") && righe[4].contains("Fine effettiva"));
    }

    #[test]
    fn senza_dati_un_messaggio() {
        let mut g = grafico();
        g.serie.clear();
        g.marcatori.clear();
        g.fino_a = None;
        let h = g.html();
        assert!(h.contains("Nessun dato da mostrare."));
        assert!(h.contains("<tbody></tbody>"));
    }

    #[test]
    fn tacche_anni_o_mesi() {
        let t = tacche_tempo(d(2015, 5, 3), d(2024, 2, 1));
        assert_eq!(t.first().unwrap().1, "2016");
        assert_eq!(t.last().unwrap().1, "2024");
        let t = tacche_tempo(d(2000, 1, 1), d(2030, 1, 1));
        assert!(t.len() <= 11, "{}", t.len());
        let t = tacche_tempo(d(2023, 11, 15), d(2024, 5, 2));
        assert_eq!(t.first().unwrap().1, "dic 2023");
        assert!(t.iter().any(|x| x.1 == "mag 2024"));
    }
}
