//! A rate over time as a step line (a campaign's reporting rate): the SVG only; the campaign's
//! page shows the table with the same data beside it.

use chrono::NaiveDate;

use super::scappa as escape;

/// A step line of the reporting rate over time: `punti` are (day, compliant targets), out of
/// `totale` targets; the y axis goes from 0 to 100 %.
pub fn tasso_nel_tempo(
    id: &str,
    titolo: &str,
    punti: &[(NaiveDate, usize)],
    totale: usize,
) -> String {
    const L: f64 = 640.0;
    const A: f64 = 240.0;
    const SX: f64 = 48.0;
    const DX: f64 = 16.0;
    const SU: f64 = 16.0;
    const GIU: f64 = 36.0;
    let larghezza = L - SX - DX;
    let altezza = A - SU - GIU;
    let pct = |n: usize| {
        if totale == 0 {
            0.0
        } else {
            n as f64 * 100.0 / totale as f64
        }
    };
    let y = |p: f64| SU + altezza * (1.0 - p / 100.0);
    let n = punti.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            SX + larghezza / 2.0
        } else {
            SX + larghezza * i as f64 / (n - 1) as f64
        }
    };
    let mut s = String::new();
    let ultimo = punti.last().map(|(_, c)| pct(*c)).unwrap_or(0.0);
    let data = |p: Option<&(NaiveDate, usize)>| {
        p.map(|p| p.0.format("%d/%m/%Y").to_string())
            .unwrap_or_default()
    };
    s.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {L} {A}\" role=\"img\" \
         aria-labelledby=\"{id}-t {id}-d\" class=\"push-grafico\" width=\"100%\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">Tasso di risposta dal {} al {}: \
         ultimo valore {} %. I dati sono nella tabella che segue.</desc>",
        escape(titolo),
        data(punti.first()),
        data(punti.last()),
        format!("{ultimo:.1}").replace('.', ",")
    ));
    // Grid and y labels.
    for p in [0.0, 25.0, 50.0, 75.0, 100.0] {
        s.push_str(&format!(
            "<line x1=\"{SX}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#c5c7c9\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1a1a1a\">{p} %</text>",
            SX + larghezza,
            SX - 6.0,
            y(p) + 4.0,
            yy = y(p),
        ));
    }
    if !punti.is_empty() {
        let mut d = String::new();
        for (i, (_, c)) in punti.iter().enumerate() {
            let (xx, yy) = (x(i), y(pct(*c)));
            if i == 0 {
                d.push_str(&format!("M{xx:.1} {yy:.1}"));
            } else {
                // A step: the rate holds until the day it changes.
                let prima = y(pct(punti[i - 1].1));
                d.push_str(&format!(" L{xx:.1} {prima:.1} L{xx:.1} {yy:.1}"));
            }
        }
        s.push_str(&format!(
            "<path d=\"{d}\" fill=\"none\" stroke=\"#0066cc\" stroke-width=\"3\"/>"
        ));
        if let Some((_, c)) = punti.last() {
            s.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#0066cc\"/>",
                x(punti.len() - 1),
                y(pct(*c))
            ));
        }
        for (i, anchor) in [(0, "start"), (punti.len() - 1, "end")] {
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\" text-anchor=\"{anchor}\" fill=\"#1a1a1a\">{}</text>",
                x(i),
                A - 12.0,
                punti[i].0.format("%d/%m/%Y")
            ));
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod test {
    #[test]
    fn titolo_escapato_e_punti() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let s = super::tasso_nel_tempo(
            "g",
            "<b>Raccolta</b>",
            &[(d, 0), (d.succ_opt().unwrap(), 2)],
            4,
        );
        assert!(s.contains("&lt;b&gt;Raccolta"));
        assert!(s.contains("<path"));
        assert!(s.contains("ultimo valore 50,0 %"), "{s}");
    }
}
