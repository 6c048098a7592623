//! Everything generated from the spec definitions besides validation: the Frictionless Data
//! Package descriptor (Table Schema), the blank XLSX template (one sheet per table, data
//! validation lists for enumerations, a `LEGGIMI` sheet) and the ZIP of CSV headers.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use crate::spec::{CODICI_COMUNI, Campo, Dominio, Limite, Obbligo, Tipo};

/// The name of the explanatory sheet of the template (ignored by the validator).
pub const FOGLIO_LEGGIMI: &str = "LEGGIMI";

/// A published pattern in the dialect of Table Schema: implicitly anchored, no inline flags.
fn modello_tableschema(espressione: &str, ignora_maiuscole: bool) -> String {
    let s = espressione
        .trim_start_matches('^')
        .trim_end_matches('$')
        .to_string();
    if ignora_maiuscole {
        s.replace("[A-Z]", "[A-Za-z]")
            .replace("A-Z0-9", "A-Za-z0-9")
            .replace("SNC", "[Ss][Nn][Cc]")
    } else {
        s
    }
}

fn limite(l: Limite, oggi: NaiveDate) -> f64 {
    match l {
        Limite::Incluso(v) | Limite::Escluso(v) => v,
        Limite::AnnoCorrente => f64::from(oggi.year()),
    }
}

fn numero_json(v: f64, intero: bool) -> Value {
    if intero || v.fract() == 0.0 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// The regole of a field in Italian, for descriptions and the documentation.
pub fn regola(c: &Campo) -> String {
    let mut parti = Vec::new();
    match c.obbligo {
        Obbligo::Si => parti.push("obbligatorio".to_string()),
        Obbligo::Condizionato(q) => parti.push(q.to_string()),
        Obbligo::No => parti.push("facoltativo".to_string()),
    }
    match &c.tipo {
        Tipo::Enum(v) => parti.push(format!("uno tra {}", v.join(", "))),
        Tipo::Modello(m) => parti.push(format!("forma: {}", m.atteso)),
        Tipo::Testo { min, max } => parti.push(if *min > 0 {
            format!("da {min} a {max} caratteri")
        } else {
            format!("al massimo {max} caratteri")
        }),
        _ => {}
    }
    let f = |l: Limite| match l {
        Limite::Incluso(v) => format!("≥ {}", crate::valori::formatta_numero(v)),
        Limite::Escluso(v) => format!("> {}", crate::valori::formatta_numero(v)),
        Limite::AnnoCorrente => "anno corrente".into(),
    };
    match (c.minimo, c.massimo) {
        (Some(a), Some(Limite::AnnoCorrente)) => {
            parti.push(format!("{} e non oltre l'anno corrente", f(a)))
        }
        (Some(a), Some(b)) => parti.push(format!("{} e ≤ {}", f(a), f(b).trim_start_matches("≥ "))),
        (Some(a), None) => parti.push(f(a)),
        (None, Some(b)) => parti.push(format!("≤ {}", f(b).trim_start_matches("≥ "))),
        _ => {}
    }
    if c.non_futura {
        parti.push("non successiva a oggi".into());
    }
    parti.join("; ")
}

fn campo_tableschema(c: &Campo, oggi: NaiveDate) -> Value {
    let (tipo, mut vincoli) = match &c.tipo {
        Tipo::Codice => (
            "string",
            json!({ "pattern": "[A-Za-z0-9][A-Za-z0-9._/-]{0,29}" }),
        ),
        Tipo::Testo { min, max } => (
            "string",
            if *min > 0 {
                json!({ "minLength": min, "maxLength": max })
            } else {
                json!({ "maxLength": max })
            },
        ),
        Tipo::Modello(m) => (
            "string",
            json!({ "pattern": modello_tableschema(m.espressione, m.ignora_maiuscole) }),
        ),
        Tipo::Intero => ("integer", json!({})),
        Tipo::Numero { .. } | Tipo::Denaro => ("number", json!({})),
        Tipo::Data => ("date", json!({})),
        Tipo::Booleano => ("boolean", json!({})),
        Tipo::Enum(v) => ("string", json!({ "enum": v })),
        Tipo::Comune => {
            let mut codici: Vec<String> = crate::riferimento::comuni()
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.istat)
                .collect();
            codici.sort();
            ("string", json!({ "enum": codici }))
        }
        Tipo::CfGiuridica | Tipo::PartitaIva => ("string", json!({ "pattern": "[0-9]{11}" })),
        Tipo::Cup => (
            "string",
            json!({ "pattern": "[A-Z][0-9]{2}[A-Z][0-9]{11}" }),
        ),
        Tipo::Cig => ("string", json!({ "pattern": "[0-9A-Z]{10}" })),
    };
    let intero = matches!(c.tipo, Tipo::Intero);
    if let Some(m) = c.minimo {
        vincoli["minimum"] = numero_json(limite(m, oggi), intero);
    }
    if let Some(m) = c.massimo {
        vincoli["maximum"] = numero_json(limite(m, oggi), intero);
    }
    if c.obbligo == Obbligo::Si {
        vincoli["required"] = json!(true);
    }
    let mut f = json!({ "name": c.nome, "type": tipo, "description": format!("{} ({})", c.descrizione, regola(c)) });
    if tipo == "boolean" {
        f["trueValues"] = json!(["SI", "S", "si", "s", "Si", "true"]);
        f["falseValues"] = json!(["NO", "N", "no", "n", "No", "false"]);
    }
    if vincoli.as_object().is_some_and(|o| !o.is_empty()) {
        f["constraints"] = vincoli;
    }
    f
}

/// The Frictionless Data Package descriptor of a domain (comma-separated UTF-8 CSV, `.` decimals).
/// Checks Table Schema cannot express are listed under `x-push-controlli`.
pub fn tableschema(d: &Dominio, oggi: NaiveDate) -> Value {
    let risorse: Vec<Value> = d
        .tabelle
        .iter()
        .map(|t| {
            let mut schema = json!({
                "fields": t.campi.iter().map(|c| campo_tableschema(c, oggi)).collect::<Vec<_>>(),
                "missingValues": [""],
            });
            if !t.chiave.is_empty() {
                schema["primaryKey"] = json!(t.chiave);
            }
            let esterne: Vec<Value> = t
                .riferimenti
                .iter()
                .map(|r| json!({ "fields": r.campi, "reference": { "resource": r.tabella, "fields": r.campi_destinazione } }))
                .collect();
            if !esterne.is_empty() {
                schema["foreignKeys"] = json!(esterne);
            }
            json!({
                "name": t.nome,
                "path": format!("{}.csv", t.nome),
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": t.descrizione,
                "x-push-obbligatoria": t.obbligatoria,
                "schema": schema,
            })
        })
        .collect();
    json!({
        "profile": "tabular-data-package",
        "name": format!("push-{}", d.nome),
        "title": format!("PUSH – {}", d.titolo),
        "description": d.descrizione,
        "version": "1",
        "licenses": [{ "name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/" }],
        "resources": risorse,
        "x-push-controlli": d.controlli.iter().map(|c| json!({ "codice": c.codice, "gravita": c.gravita, "regola": c.regola })).collect::<Vec<_>>(),
        "x-push-note": "Regole non esprimibili in Table Schema: nomi di tabelle e campi senza distinzione di maiuscole; separatore ; o , rilevato; decimali con la virgola; date anche GG/MM/AAAA; valori degli elenchi senza distinzione di maiuscole; cifre di controllo di codici fiscali e partite IVA; obblighi condizionati; controlli tra righe e tabelle in x-push-controlli.",
    })
}

/// Errors writing a template.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ErroreModello(String);

/// The blank XLSX template: one sheet per table with the header row and validation lists for
/// enumerations, and a `LEGGIMI` sheet explaining fields and codes.
pub fn modello_xlsx(d: &Dominio) -> Result<Vec<u8>, ErroreModello> {
    use rust_xlsxwriter::{DataValidation, Format, Workbook};
    let e = |x: rust_xlsxwriter::XlsxError| ErroreModello(x.to_string());
    let mut wb = Workbook::new();
    let titolo = Format::new().set_bold().set_background_color(0xD9E7F5);
    let testo = Format::new().set_num_format("@");
    for t in &d.tabelle {
        let ws = wb.add_worksheet();
        ws.set_name(t.nome).map_err(e)?;
        for (col, c) in t.campi.iter().enumerate() {
            let col = u16::try_from(col).map_err(|_| ErroreModello("troppi campi".into()))?;
            ws.write_string_with_format(0, col, c.nome, &titolo)
                .map_err(e)?;
            ws.set_column_width(col, (c.nome.len() as f64 + 4.0).max(14.0))
                .map_err(e)?;
            // Codes keep leading zeros and are never turned into numbers by Excel.
            if matches!(
                c.tipo,
                Tipo::Codice
                    | Tipo::Comune
                    | Tipo::Modello(_)
                    | Tipo::CfGiuridica
                    | Tipo::PartitaIva
                    | Tipo::Cup
                    | Tipo::Cig
            ) {
                ws.set_column_format(col, &testo).map_err(e)?;
            }
            if let Tipo::Enum(valori) = &c.tipo {
                let v = DataValidation::new()
                    .allow_list_strings(valori)
                    .map_err(e)?
                    .set_error_title("Valore non ammesso")
                    .map_err(e)?;
                ws.add_data_validation(1, col, 100_000, col, &v)
                    .map_err(e)?;
            }
            if matches!(c.tipo, Tipo::Booleano) {
                let v = DataValidation::new()
                    .allow_list_strings(&["SI", "NO"])
                    .map_err(e)?;
                ws.add_data_validation(1, col, 100_000, col, &v)
                    .map_err(e)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(e)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name(FOGLIO_LEGGIMI).map_err(e)?;
    let mut r = 0u32;
    ws.write_string_with_format(
        r,
        0,
        format!("PUSH – {} (flusso «{}»)", d.titolo, d.nome),
        &titolo,
    )
    .map_err(e)?;
    r += 1;
    ws.write_string(r, 0, d.descrizione).map_err(e)?;
    r += 1;
    ws.write_string(r, 0, "Compili un foglio per tabella; la prima riga contiene i nomi dei campi. Questo foglio è ignorato dalla validazione.").map_err(e)?;
    r += 2;
    for (c, h) in ["tabella", "campo", "tipo", "regole", "descrizione"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(r, c as u16, *h, &titolo)
            .map_err(e)?;
    }
    r += 1;
    for t in &d.tabelle {
        for c in &t.campi {
            ws.write_string(r, 0, t.nome).map_err(e)?;
            ws.write_string(r, 1, c.nome).map_err(e)?;
            ws.write_string(r, 2, c.tipo.nome()).map_err(e)?;
            ws.write_string(r, 3, regola(c)).map_err(e)?;
            ws.write_string(r, 4, c.descrizione).map_err(e)?;
            r += 1;
        }
    }
    r += 1;
    for (c, h) in ["codice", "gravità", "significato"].iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *h, &titolo)
            .map_err(e)?;
    }
    r += 1;
    for (codice, g, s) in CODICI_COMUNI
        .iter()
        .copied()
        .chain(d.controlli.iter().map(|c| (c.codice, c.gravita, c.regola)))
    {
        ws.write_string(r, 0, codice).map_err(e)?;
        ws.write_string(r, 1, g.as_str()).map_err(e)?;
        ws.write_string(r, 2, s).map_err(e)?;
        r += 1;
    }
    ws.set_column_width(0, 24).map_err(e)?;
    ws.set_column_width(1, 26).map_err(e)?;
    ws.set_column_width(2, 60).map_err(e)?;
    ws.set_column_width(3, 60).map_err(e)?;
    wb.save_to_buffer().map_err(e)
}

/// A ZIP with one CSV per table holding only the header row (`;`-separated, UTF-8 with BOM so
/// that Excel opens it correctly).
pub fn modello_csv_zip(d: &Dominio) -> Result<Vec<u8>, ErroreModello> {
    let e = |x: zip::result::ZipError| ErroreModello(x.to_string());
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opz = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for t in &d.tabelle {
        w.start_file(format!("{}.csv", t.nome), opz).map_err(e)?;
        let riga = t.campi.iter().map(|c| c.nome).collect::<Vec<_>>().join(";");
        w.write_all(format!("\u{feff}{riga}\r\n").as_bytes())
            .map_err(|x| ErroreModello(x.to_string()))?;
    }
    Ok(w.finish().map_err(e)?.into_inner())
}
