//! Charts drawn on the server as SVG, so they are readable without JavaScript, printable, and
//! the same for every browser and screen reader. Every chart is a `<figure>` holding:
//! - the SVG with `role="img"` and `aria-labelledby` pointing at its `<title>` and `<desc>`;
//! - a `<figcaption>` with the visible title;
//! - the data table behind it (the chart's figures, for people who cannot see it and for
//!   copying).
//!
//! The pieces shared by the chart types (escaping, the value scale with round ticks, the
//! figure around the SVG) live here; each chart type is a module: [`tempo`] (cumulative
//! amounts over time with dated markers, the intervention's timeline), [`tasso`] (a rate over
//! time, a campaign's reporting rate), [`barre`] (horizontal bars of counts or amounts by
//! category, the dashboards). This is the only chart module of the web layer. Values are integers
//! (cents, counts) and are formatted by the caller's function, so money stays exact.

pub mod barre;
pub mod tasso;
pub mod tempo;

use std::fmt::Write as _;

/// Text for an HTML/SVG element or attribute.
pub fn scappa(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// An id usable in `id=""` and `aria-labelledby`: letters, digits, `-` and `_` only.
pub fn id_sicuro(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if v.is_empty() { "grafico".into() } else { v }
}

/// A "nice" upper bound for a value axis and its tick step: 1, 2 or 5 × 10ⁿ, about
/// `tacche` ticks from zero. Zero or negative maxima get one step of 1.
pub fn scala(massimo: i64, tacche: u32) -> (i64, i64) {
    if massimo <= 0 {
        return (1, 1);
    }
    let tacche = i64::from(tacche.max(1));
    let grezzo = (massimo + tacche - 1) / tacche;
    let mut potenza: i64 = 1;
    while potenza <= grezzo / 10 {
        potenza *= 10;
    }
    let passo = [1, 2, 5, 10]
        .iter()
        .map(|m| m * potenza)
        .find(|p| *p >= grezzo)
        .unwrap_or(10 * potenza);
    let limite = (massimo + passo - 1) / passo * passo;
    (limite, passo)
}

/// A table row of headers and cells, escaped.
pub(crate) fn riga_tabella(o: &mut String, celle: &[String], intestazione: bool) {
    o.push_str("<tr>");
    for (i, c) in celle.iter().enumerate() {
        let tag = if intestazione || i == 0 { "th" } else { "td" };
        let scope = if intestazione { "col" } else { "row" };
        if tag == "th" {
            let _ = write!(o, "<th scope=\"{scope}\">{}</th>", scappa(c));
        } else {
            let _ = write!(o, "<td class=\"text-end\">{}</td>", scappa(c));
        }
    }
    o.push_str("</tr>");
}

/// The `<figure>` around a chart: the SVG, the visible caption and the data table.
pub(crate) fn figura(id: &str, titolo: &str, svg: &str, tabella: &str) -> String {
    format!(
        "<figure class=\"grafico\" id=\"{id}\">\n<figcaption class=\"h5\">{t}</figcaption>\n{svg}\n<div class=\"table-responsive\" tabindex=\"0\" role=\"region\" aria-label=\"Dati del grafico «{t}»\"><table class=\"table table-sm grafico-dati\"><caption>Dati del grafico «{t}»</caption>{tabella}</table></div>\n</figure>",
        id = scappa(id),
        t = scappa(titolo),
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn scala_con_tacche_tonde() {
        assert_eq!(scala(0, 5), (1, 1));
        assert_eq!(scala(7, 5), (8, 2));
        assert_eq!(scala(100, 5), (100, 20));
        assert_eq!(scala(101, 5), (150, 50));
        assert_eq!(scala(123_456_789, 5), (150_000_000, 50_000_000));
        assert_eq!(scala(1_000_000, 4), (1_000_000, 500_000));
    }

    #[test]
    fn testo_e_id_sicuri() {
        assert_eq!(
            scappa("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(id_sicuro("g J12 \"x\""), "g-J12--x-");
        assert_eq!(id_sicuro(""), "grafico");
    }
}
