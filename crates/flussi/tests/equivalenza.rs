//! The same data as a ZIP of CSV with `;`, a ZIP of CSV with `,` and JSON give the same issues
//! (README §4: "all must give the same result for the same data"). JSON rows are numbered by
//! their position in the array, so a JSON row number is the spreadsheet row number − 1.
//!
//! The data is full of values that a spreadsheet or a JSON client writes in their own way:
//! comma decimals, Italian dates, lower-case enumerations, `A03` categories, 5-digit ISTAT
//! codes, and JSON numbers in code columns (`"foglio": 41` is the text «41», `"comune_istat":
//! 72006` is «072006»).

mod aiuto_flussi;

use aiuto_flussi::*;

/// (tabella, spreadsheet row, campo, codice, gravita) of every issue, in report order.
type Chiave = (Option<String>, Option<u64>, Option<String>, String, String);

fn chiavi_normalizzate(r: &flussi::Report, json: bool) -> Vec<Chiave> {
    r.segnalazioni
        .iter()
        .map(|s| {
            (
                s.tabella.clone(),
                s.riga.map(|n| if json { n + 1 } else { n }),
                s.campo.clone(),
                s.codice.clone(),
                s.gravita.as_str().to_string(),
            )
        })
        .collect()
}

/// Validates the tables in the three containers and checks they agree; returns the report of
/// the ZIP with `;`.
fn tre_contenitori(
    dominio: &str,
    tabelle: &[Tabella],
    numeri_json: &[(&str, &str)],
    o: &flussi::Opzioni,
) -> flussi::Report {
    let pv = valida_con("flusso.zip", zip_csv(tabelle, ';'), dominio, o);
    let v = valida_con("flusso.zip", zip_csv(tabelle, ','), dominio, o);
    let j = valida_con(
        "flusso.json",
        json_con_numeri(tabelle, numeri_json),
        dominio,
        o,
    );
    for r in [&pv, &v, &j] {
        invarianti(r);
    }
    let attese = chiavi_normalizzate(&pv, false);
    assert_eq!(chiavi_normalizzate(&v, false), attese, "ZIP «,» ≠ ZIP «;»");
    assert_eq!(chiavi_normalizzate(&j, true), attese, "JSON ≠ ZIP «;»");
    // Same counts, same validity, same rows read.
    for r in [&v, &j] {
        assert_eq!(r.conteggi, pv.conteggi);
        assert_eq!(r.valido, pv.valido);
        assert_eq!(r.tabelle, pv.tabelle);
    }
    // Same values as read between the two CSV forms (JSON numbers are read as the number's
    // text: 75035, not the 075035 of the CSV).
    let valori = |r: &flussi::Report| -> Vec<Option<String>> {
        r.segnalazioni.iter().map(|s| s.valore.clone()).collect()
    };
    assert_eq!(valori(&v), valori(&pv));
    pv
}

#[test]
fn patrimonio_stessi_risultati_in_ogni_contenitore() {
    let r = tre_contenitori(
        "patrimonio",
        &patrimonio_insidioso(),
        NUMERI_PATRIMONIO,
        &opzioni(),
    );
    // And these are the right issues: every tricky value above is read correctly.
    esattamente(
        &r,
        &[
            a("fabbricati", 3, "latitudine", None, "coordinate_mancanti"),
            a(
                "fabbricati",
                4,
                "codice_fabbricato",
                Some("F3"),
                "senza_unita",
            ),
            e("fabbricati", 4, "indirizzo", Some("Vi"), "lunghezza"),
            e("fabbricati", 4, "anno_costruzione", Some("2030"), "massimo"),
            v(
                Some("unita"),
                None,
                Some("colore"),
                None,
                "campo_sconosciuto",
                "avviso",
            ),
            a(
                "unita",
                4,
                "categoria_catastale",
                Some("a/10"),
                "categoria_incoerente",
            ),
            e(
                "unita",
                4,
                "data_assegnazione",
                Some("2026-12-01"),
                "data_futura",
            ),
            e("unita", 5, "subalterno", Some("1"), "catasto_duplicato"),
            e("unita", 5, "numero_vani", Some("3,3"), "formato"),
            e("unita", 6, "codice_unita", Some("U1"), "chiave_duplicata"),
            v(
                Some("allegati"),
                None,
                None,
                None,
                "tabella_sconosciuta",
                "avviso",
            ),
        ],
    );
}

#[test]
fn patrimonio_con_dichiarante_stessi_risultati() {
    let mut o = opzioni();
    o.dichiarante = Some(flussi::Dichiarante::da_codice("ARCA-PC").unwrap());
    let r = tre_contenitori("patrimonio", &patrimonio_insidioso(), NUMERI_PATRIMONIO, &o);
    solo_di(
        &r,
        "fuori_territorio",
        &[a(
            "fabbricati",
            4,
            "comune_istat",
            Some("075035"),
            "fuori_territorio",
        )],
    );
}

#[test]
fn contabilita_stessi_risultati_in_ogni_contenitore() {
    let o = opzioni_con_riferimenti(&["PRU-2010"], &["F1"]);
    let r = tre_contenitori(
        "contabilita",
        &contabilita_insidiosa(),
        NUMERI_CONTABILITA,
        &o,
    );
    esattamente(
        &r,
        &[
            e(
                "interventi",
                3,
                "codice_programma",
                Some("PINQUA-2021"),
                "programma_sconosciuto",
            ),
            a(
                "interventi",
                3,
                "alloggi_realizzati",
                Some("30"),
                "incoerente",
            ),
            e(
                "interventi",
                3,
                "data_collaudo",
                Some("30/03/2021"),
                "data_incoerente",
            ),
            e(
                "sal",
                3,
                "importo_cumulato",
                Some("600000"),
                "cumulato_errato",
            ),
            e("sal", 3, "percentuale_avanzamento", Some("20"), "sequenza"),
            e(
                "erogazioni",
                2,
                "importo",
                Some("600000"),
                "somma_eccedente",
            ),
            a(
                "interventi_fabbricati",
                3,
                "codice_fabbricato",
                Some("F9"),
                "fabbricato_sconosciuto",
            ),
        ],
    );
}

#[test]
fn contabilita_fuori_linea_stessi_avvisi() {
    let r = tre_contenitori(
        "contabilita",
        &contabilita_insidiosa(),
        NUMERI_CONTABILITA,
        &opzioni(),
    );
    assert_eq!(r.conteggi.get("controllo_non_eseguito"), Some(&2));
}

#[test]
fn programmi_csv_singolo_e_json() {
    let t = programmi(&[
        &[("tipo", "complesso"), ("data_atto", "18/05/2010")],
        &[
            ("codice_programma", "PINQUA-2021"),
            ("importo_programma", "0"),
            ("fonte", "pnrr"),
            ("strumento", "pnrr_pinqua"),
        ],
        &[("denominazione", "Duplicato")],
    ]);
    let a = valida("programmi.csv", csv(&t, ';'), "programmi");
    let b = valida("programmi.csv", csv(&t, ','), "programmi");
    let c = valida(
        "programmi.json",
        json_con_numeri(&[t], &[("programmi", "importo_programma")]),
        "programmi",
    );
    esattamente(
        &a,
        &[
            e("programmi", 3, "importo_programma", Some("0"), "minimo"),
            e(
                "programmi",
                4,
                "codice_programma",
                Some("PRU-2010"),
                "chiave_duplicata",
            ),
        ],
    );
    assert_eq!(
        chiavi_normalizzate(&b, false),
        chiavi_normalizzate(&a, false)
    );
    assert_eq!(
        chiavi_normalizzate(&c, true),
        chiavi_normalizzate(&a, false)
    );
}

#[test]
fn json_valori_non_testuali() {
    // Booleans for booleans, numbers for numbers, and values that are neither (arrays,
    // objects) are type errors.
    let j = serde_json::json!({
        "fabbricati": [{
            "codice_fabbricato": "F1", "comune_istat": 72006, "indirizzo": "Via Giulio Petroni",
            "latitudine": 41.1105, "longitudine": 16.8719, "ascensore": true,
            "titolo_possesso": "PROPRIETA", "foglio": 41, "numero_piani": [5]
        }],
        "unita": [{
            "codice_unita": "U1", "codice_fabbricato": "F1", "tipologia": "ALLOGGIO",
            "foglio": 41, "particella": 123, "subalterno": 1, "categoria_catastale": "A03",
            "superficie_utile_mq": 65.5, "numero_vani": 3.5, "accessibile_disabili": false,
            "regime": "ERS", "stato_occupazione": "ASSEGNATO",
            "data_assegnazione": "2010-03-15", "canone_mensile": 120.5,
            "numero_occupanti": 2.5, "piano": {"n": 1}
        }]
    });
    let r = valida("flusso.json", serde_json::to_vec(&j).unwrap(), "patrimonio");
    invarianti(&r);
    let trovate: Vec<_> = chiavi(&r).into_iter().collect();
    let k = |t: &str, n: u64, c: &str, codice: &str| {
        (
            Some(t.to_string()),
            Some(n),
            Some(c.to_string()),
            codice.to_string(),
        )
    };
    assert_eq!(
        trovate,
        vec![
            k("fabbricati", 1, "numero_piani", "tipo"),
            k("unita", 1, "numero_occupanti", "tipo"),
            k("unita", 1, "piano", "tipo"),
        ]
    );
}

#[test]
fn json_chiavi_senza_maiuscole_e_campi_sconosciuti_una_volta() {
    let j = serde_json::json!({
        "Fabbricati": [
            {"Codice_Fabbricato": "F1", "COMUNE_ISTAT": "072006", "indirizzo": "Via Giulio Petroni",
             "latitudine": "41.1105", "longitudine": "16.8719", "titolo_possesso": "PROPRIETA",
             "nota_interna": "x"},
            {"codice_fabbricato": "F2", "comune_istat": "072006", "indirizzo": "Via Sparano",
             "latitudine": "41.12", "longitudine": "16.87", "titolo_possesso": "PROPRIETA",
             "nota_interna": "y"}
        ],
        "UNITA": [
            {"codice_unita": "U1", "codice_fabbricato": "F1", "tipologia": "BOX", "foglio": "41",
             "particella": "123", "subalterno": "1", "categoria_catastale": "C/6",
             "regime": "ERS", "stato_occupazione": "SFITTO_ASSEGNABILE"},
            {"codice_unita": "U2", "codice_fabbricato": "F2", "tipologia": "BOX", "foglio": "41",
             "particella": "123", "subalterno": "2", "categoria_catastale": "C/6",
             "regime": "ERS", "stato_occupazione": "SFITTO_ASSEGNABILE"}
        ]
    });
    let r = valida("flusso.json", serde_json::to_vec(&j).unwrap(), "patrimonio");
    esattamente(
        &r,
        &[v(
            Some("fabbricati"),
            None,
            Some("nota_interna"),
            None,
            "campo_sconosciuto",
            "avviso",
        )],
    );
}
