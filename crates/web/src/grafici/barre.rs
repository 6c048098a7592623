//! Horizontal bars of integer values (counts or cents) by category, one bar per series in
//! each category: the dashboards' stock by province, units by occupancy state, financing by
//! programme (financed, disbursed, paid side by side).
//!
//! Every bar carries its value as text, series differ by colour *and* by pattern (solid,
//! hatched, dotted) so the chart reads in grey print, and the table under it gives every
//! figure, each category linking to the list behind it when the caller gives a link.

use std::fmt::Write as _;

use super::{figura, scala, scappa};

/// One category: its label, one value per series, and the list behind it (drill-down).
#[derive(Clone, Debug, Default)]
pub struct Barra {
    pub etichetta: String,
    pub valori: Vec<i64>,
    pub link: Option<String>,
    /// A cell withheld (small-cell suppression): drawn as no bar, written «soppresso».
    pub soppressa: bool,
}

/// A bar chart: a title, the names of its series, its categories, and how a value reads.
pub struct GraficoBarre<'a> {
    pub id: &'a str,
    pub titolo: &'a str,
    /// The header of the categories' column in the table (e.g. «Provincia»).
    pub categoria: &'a str,
    pub serie: Vec<String>,
    pub barre: Vec<Barra>,
    pub formato: &'a dyn Fn(i64) -> String,
}

const COLORI: [&str; 3] = ["#0059b3", "#00704a", "#a3144f"];
/// Label column, bars, and room for the value text after the longest bar.
const SX: f64 = 190.0;
const L: f64 = 720.0;
const DX: f64 = 150.0;
const ALTEZZA_BARRA: f64 = 16.0;
const SPAZIO: f64 = 10.0;

fn accorcia(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

impl GraficoBarre<'_> {
    /// The `<figure>`: SVG, caption and data table.
    pub fn html(&self) -> String {
        let id = super::id_sicuro(self.id);
        let svg = self.svg(&id);
        let mut t = String::new();
        t.push_str("<thead><tr>");
        let _ = write!(t, "<th scope=\"col\">{}</th>", scappa(self.categoria));
        for s in &self.serie {
            let _ = write!(t, "<th scope=\"col\" class=\"text-end\">{}</th>", scappa(s));
        }
        t.push_str("</tr></thead><tbody>");
        for b in &self.barre {
            t.push_str("<tr><th scope=\"row\">");
            match &b.link {
                Some(l) => {
                    let _ = write!(t, "<a href=\"{}\">{}</a>", scappa(l), scappa(&b.etichetta));
                }
                None => t.push_str(&scappa(&b.etichetta)),
            }
            t.push_str("</th>");
            for v in &b.valori {
                if b.soppressa {
                    t.push_str(
                        "<td class=\"text-end\"><span class=\"soppresso\">soppresso</span></td>",
                    );
                } else {
                    let _ = write!(
                        t,
                        "<td class=\"text-end\">{}</td>",
                        scappa(&(self.formato)(*v))
                    );
                }
            }
            t.push_str("</tr>");
        }
        t.push_str("</tbody>");
        figura(&id, self.titolo, &svg, &t)
    }

    fn svg(&self, id: &str) -> String {
        let n_serie = self.serie.len().max(1);
        let gruppo = ALTEZZA_BARRA * n_serie as f64 + SPAZIO;
        let legenda = if self.serie.len() > 1 { 28.0 } else { 0.0 };
        let altezza = legenda + gruppo * self.barre.len().max(1) as f64 + 24.0;
        let massimo = self
            .barre
            .iter()
            .filter(|b| !b.soppressa)
            .flat_map(|b| b.valori.iter().copied())
            .max()
            .unwrap_or(0);
        let (limite, _) = scala(massimo, 4);
        let larghezza = L - SX - DX;
        let x = |v: i64| larghezza * (v.max(0) as f64) / (limite as f64);
        let mut o = String::new();
        // The description ends with the figures, so a screen reader hears them without the table.
        let mut desc = String::new();
        for b in &self.barre {
            let valori: Vec<String> = if b.soppressa {
                vec!["soppresso".into()]
            } else {
                b.valori.iter().map(|v| (self.formato)(*v)).collect()
            };
            let _ = write!(desc, "{}: {}; ", b.etichetta, valori.join(", "));
        }
        let _ = write!(
            o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {L} {altezza:.0}\" role=\"img\" \
             aria-labelledby=\"{id}-t {id}-d\" class=\"push-grafico\" width=\"100%\">\
             <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}I dati sono nella tabella che segue.</desc>\
             <defs><pattern id=\"{id}-p1\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
             <rect width=\"6\" height=\"6\" fill=\"{}\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#ffffff\" stroke-width=\"2\"/></pattern>\
             <pattern id=\"{id}-p2\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">\
             <rect width=\"5\" height=\"5\" fill=\"{}\"/><circle cx=\"2.5\" cy=\"2.5\" r=\"1\" fill=\"#ffffff\"/></pattern></defs>",
            scappa(self.titolo),
            scappa(&desc),
            COLORI[1],
            COLORI[2],
        );
        let riempimento = |i: usize| match i % 3 {
            0 => COLORI[0].to_string(),
            1 => format!("url(#{id}-p1)"),
            _ => format!("url(#{id}-p2)"),
        };
        if self.serie.len() > 1 {
            let mut lx = SX;
            for (i, s) in self.serie.iter().enumerate() {
                let _ = write!(
                    o,
                    "<rect x=\"{lx:.1}\" y=\"6\" width=\"14\" height=\"14\" fill=\"{}\"/>\
                     <text x=\"{:.1}\" y=\"18\" font-size=\"13\" fill=\"#1a1a1a\">{}</text>",
                    riempimento(i),
                    lx + 18.0,
                    scappa(s)
                );
                lx += 30.0 + 7.5 * s.chars().count() as f64;
            }
        }
        for (k, b) in self.barre.iter().enumerate() {
            let y0 = legenda + gruppo * k as f64;
            let _ = write!(
                o,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\" fill=\"#1a1a1a\">{}</text>",
                SX - 8.0,
                y0 + ALTEZZA_BARRA * n_serie as f64 / 2.0 + 4.5,
                scappa(&accorcia(&b.etichetta, 26))
            );
            if b.soppressa {
                let _ = write!(
                    o,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-style=\"italic\" fill=\"#1a1a1a\">soppresso per riservatezza</text>",
                    SX + 4.0,
                    y0 + ALTEZZA_BARRA * n_serie as f64 / 2.0 + 4.5
                );
                continue;
            }
            for (i, v) in b.valori.iter().enumerate() {
                let y = y0 + ALTEZZA_BARRA * i as f64;
                let w = x(*v);
                let _ = write!(
                    o,
                    "<rect x=\"{SX}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1a1a1a\">{}</text>",
                    ALTEZZA_BARRA - 2.0,
                    riempimento(i),
                    SX + w + 4.0,
                    y + ALTEZZA_BARRA - 4.0,
                    scappa(&(self.formato)(*v))
                );
            }
        }
        // The zero line.
        let _ = write!(
            o,
            "<line x1=\"{SX}\" x2=\"{SX}\" y1=\"{legenda}\" y2=\"{:.1}\" stroke=\"#5c6f82\" stroke-width=\"1\"/></svg>",
            altezza - 20.0
        );
        o
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn barre_con_tabella_link_e_soppressione() {
        let f = |v: i64| v.to_string();
        let g = GraficoBarre {
            id: "g b",
            titolo: "Unità per <provincia>",
            categoria: "Provincia",
            serie: vec!["Unità".into()],
            barre: vec![
                Barra {
                    etichetta: "Bari".into(),
                    valori: vec![120],
                    link: Some("/area/registro/unita?provincia=BA&x=1".into()),
                    soppressa: false,
                },
                Barra {
                    etichetta: "Lecce".into(),
                    valori: vec![3],
                    link: None,
                    soppressa: true,
                },
            ],
            formato: &f,
        };
        let h = g.html();
        assert!(h.contains("id=\"g-b\""), "{h}");
        assert!(h.contains("Unità per &lt;provincia&gt;"));
        assert!(h.contains("href=\"/area/registro/unita?provincia=BA&amp;x=1\""));
        assert!(h.contains("Bari: 120; Lecce: soppresso;"));
        assert!(h.contains("<span class=\"soppresso\">soppresso</span>"));
        // The suppressed value is nowhere.
        assert!(!h.contains(">3<"), "{h}");
    }
}
