//! Spreadsheet formula injection: values from an uploaded file reach the register's CSV export
//! and the report's CSV as text, never as a formula a spreadsheet would run.

use std::io::{Read, Write};

use crate::aiuto::{TestApp, api};
use crate::flussi::{attendi_validazione, carica, carica_e_accetta, flusso_demo, json, token};

const OSTILE: &str = "-2+3+cmd|' /C calc'!A0";

/// The demo flow with `campo` of the first data row of `membro` replaced by `valore`.
pub(crate) fn con_valore(zip_byte: &[u8], membro: &str, campo: &str, valore: &str) -> Vec<u8> {
    let mut dentro = zip::ZipArchive::new(std::io::Cursor::new(zip_byte)).expect("zip");
    let mut fuori = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opzioni = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..dentro.len() {
        let mut m = dentro.by_index(i).expect("member");
        let nome = m.name().expect("name").to_string();
        let mut testo = String::new();
        m.read_to_string(&mut testo).expect("read");
        if nome == membro {
            let mut righe: Vec<String> = testo.lines().map(str::to_string).collect();
            let colonna = righe[0]
                .split(',')
                .position(|c| c.trim_start_matches('\u{feff}') == campo)
                .expect("field");
            // The demo's first rows have no quoted commas before these fields.
            let mut celle: Vec<String> = righe[1].split(',').map(str::to_string).collect();
            celle[colonna] = format!("\"{}\"", valore.replace('"', "\"\""));
            righe[1] = celle.join(",");
            testo = righe.join("\r\n") + "\r\n";
        }
        fuori.start_file(nome, opzioni).expect("start");
        fuori.write_all(testo.as_bytes()).expect("write");
    }
    fuori.finish().expect("finish").into_inner()
}

/// No cell of the CSV starts like a formula unless it is a number.
fn nessuna_formula(csv: &str) {
    for riga in csv.lines() {
        // Quoted cells are split naively: a formula would start the line, follow a comma, or
        // follow a comma and a quote.
        for cella in riga.split(',') {
            let cella = cella.trim_start_matches('"');
            assert!(
                !cella.starts_with("-2+3") && !cella.starts_with('='),
                "formula in CSV: {riga}"
            );
        }
    }
}

#[tokio::test]
async fn formule_neutralizzate_nel_registro_e_nel_rapporto() {
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;

    // A valid flow whose building address is a formula: accepted, it reaches the register.
    let ostile = con_valore(
        &flusso_demo("110001", 20, 0),
        "fabbricati.csv",
        "indirizzo",
        OSTILE,
    );
    carica_e_accetta(&app, &andria, ostile, (2025, 1, 15)).await;

    let registro = |tabella: &'static str| {
        let (url, t) = (app.url.clone(), andria.clone());
        async move {
            reqwest::Client::new()
                .get(format!("{url}/api/v1/patrimonio/{tabella}?limit=500"))
                .bearer_auth(t)
                .header("accept", "text/csv")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let fabbricati = registro("fabbricati").await;
    assert!(fabbricati.contains(&format!(",'{OSTILE},")), "{fabbricati}");
    nessuna_formula(&fabbricati);

    // An invalid flow echoing the formula in its report (a number of occupants that is not a
    // number): the report's CSV carries it as text.
    let invalido = con_valore(
        &flusso_demo("110001", 20, 1),
        "unita.csv",
        "numero_occupanti",
        OSTILE,
    );
    let invalido = con_valore(&invalido, "unita.csv", "numero_vani", "=1+1");
    let id2 = json(carica(&app, &andria, invalido).await).await["id"]
        .as_i64()
        .expect("id");
    let f = attendi_validazione(&app, id2, &andria).await;
    assert_eq!(f["stato"], "non_valido", "{f}");
    let csv = api(
        &app,
        &format!("/api/v1/flussi/{id2}/report?formato=csv"),
        Some(&andria),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(csv.contains(&format!(",'{OSTILE},")), "{csv}");
    assert!(csv.contains(",'=1+1,"), "{csv}");
    nessuna_formula(&csv);
}
