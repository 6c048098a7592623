//! Programmes and construction-site accounting (issue 9, part 2): who may send which domain,
//! the generated flows as the command line writes and checks them, and the whole path through
//! HTTP on hand-made data whose computed keys are worked out by hand.

use chrono::TimeZone;
use serde_json::json;

use crate::aiuto::{Opzioni, TestApp, api};
use crate::flussi::{carica_come, json, post, token};

/// Uploads `byte` as a ZIP flow of `dominio` with the token `t`.
pub(crate) async fn carica_dominio(
    app: &TestApp,
    t: &str,
    dominio: &str,
    byte: Vec<u8>,
) -> reqwest::Response {
    carica_come(app, t, dominio, &format!("{dominio}.zip"), byte).await
}

/// The programme list and an accounting flow of `ente`, as `push demo genera` writes them.
pub(crate) fn generati(ente: &str, interventi: u64, fabbricati: u64) -> (Vec<u8>, Vec<u8>) {
    use flussi::genera::FormatoGenerato::ZipCsv;
    use flussi::genera::contabilita::{OpzioniContabilita, genera_contabilita, genera_programmi};
    let dir = tempfile::tempdir().unwrap();
    let (p, c) = (dir.path().join("p.zip"), dir.path().join("c.zip"));
    genera_programmi(ZipCsv, &p).unwrap();
    genera_contabilita(
        &OpzioniContabilita {
            interventi,
            seme: 5,
            ente: ente.into(),
            fabbricati,
            oggi: dominio::orologio::oggi(),
        },
        ZipCsv,
        &c,
    )
    .unwrap();
    (std::fs::read(p).unwrap(), std::fs::read(c).unwrap())
}

#[tokio::test]
async fn ogni_dominio_dalla_sua_area_e_i_programmi_solo_dalla_regione() {
    let app = TestApp::nuova().await;
    let (programmi, contabilita) = generati("110001", 5, 0);
    let patrimonio = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let programmi_andria = token(&app, "110001", &[dominio::Area::Programmi]).await;
    let regione = token(&app, "REGIONE", &[]).await;

    // A PATRIMONIO token cannot send accounting, a PROGRAMMI token cannot send assets.
    let r = carica_dominio(&app, &patrimonio, "contabilita", contabilita.clone()).await;
    assert_eq!(r.status(), 403);
    let p = json(r).await;
    assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
    assert_eq!(
        carica_dominio(&app, &programmi_andria, "patrimonio", contabilita.clone())
            .await
            .status(),
        403
    );
    // Programmes are the Region's: an entity's token cannot send them, with any area.
    assert_eq!(
        carica_dominio(&app, &programmi_andria, "programmi", programmi.clone())
            .await
            .status(),
        403
    );
    // The Region does not send an entity's accounting.
    assert_eq!(
        carica_dominio(&app, &regione, "contabilita", contabilita.clone())
            .await
            .status(),
        403
    );
    // The Region's token gets past the authorization for its programmes.
    let r = carica_dominio(&app, &regione, "programmi", programmi).await;
    assert!(
        !matches!(r.status().as_u16(), 401 | 403 | 404),
        "{}",
        r.status()
    );
    // And a PROGRAMMI token for its accounting.
    let r = carica_dominio(&app, &programmi_andria, "contabilita", contabilita).await;
    assert!(
        !matches!(r.status().as_u16(), 401 | 403 | 404),
        "{}",
        r.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genera_e_valida_dalla_riga_di_comando() {
    let app = TestApp::nuova().await;
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).to_string_lossy().to_string();
    let ok = |o: std::process::Output| {
        assert!(
            o.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let e = ok(app.push(&[
        "demo",
        "genera",
        "--dominio",
        "patrimonio",
        "--ente",
        "110001",
        "--unita",
        "200",
        "--output",
        &out("pat.zip"),
    ]));
    // «Generati 3 complessi, 17 fabbricati, 200 unità in …»: the buildings the accounting links.
    let fabbricati: String = e
        .split(" fabbricati")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .unwrap()
        .to_string();
    ok(app.push(&[
        "demo",
        "genera",
        "--dominio",
        "programmi",
        "--output",
        &out("prog.zip"),
    ]));
    let e = ok(app.push(&[
        "demo",
        "genera",
        "--dominio",
        "contabilita",
        "--ente",
        "110001",
        "--interventi",
        "120",
        "--fabbricati",
        &fabbricati,
        "--output",
        &out("cont.zip"),
    ]));
    assert!(e.contains("Generati 120 interventi"), "{e}");
    // Checked offline against both references: valid, no warning at all.
    let o = app.push(&[
        "validate",
        "--dominio",
        "contabilita",
        "--ente",
        "110001",
        "--programmi",
        &out("prog.zip"),
        "--patrimonio",
        &out("pat.zip"),
        "--formato",
        "json",
        &out("cont.zip"),
    ]);
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{rep}");
    assert_eq!(rep["errori"], 0, "{}", rep["conteggi"]);
    assert_eq!(rep["avvisi"], 0, "{}", rep["conteggi"]);
    assert_eq!(rep["tabelle"]["interventi"]["righe"], 120);
    // Without the buildings the links point to nothing: fabbricato_sconosciuto warnings.
    let o = app.push(&[
        "validate",
        "--dominio",
        "contabilita",
        "--ente",
        "110001",
        "--programmi",
        &out("prog.zip"),
        "--formato",
        "json",
        &out("cont.zip"),
    ]);
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rep["conteggi"]["controllo_non_eseguito"], 1, "{rep}");
    // Wrong or missing options: exit status 2.
    let o = app.push(&[
        "demo",
        "genera",
        "--dominio",
        "contabilita",
        "--output",
        &out("x.zip"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = app.push(&[
        "demo",
        "genera",
        "--dominio",
        "contabilita",
        "--interventi",
        "3",
        "--alla-data",
        "31/12/2024",
        "--output",
        &out("x.zip"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // A fixed reference day gives the same bytes.
    for n in ["a.zip", "b.zip"] {
        ok(app.push(&[
            "demo",
            "genera",
            "--dominio",
            "contabilita",
            "--interventi",
            "30",
            "--alla-data",
            "2024-12-31",
            "--output",
            &out(n),
        ]));
    }
    assert_eq!(
        std::fs::read(out("a.zip")).unwrap(),
        std::fs::read(out("b.zip")).unwrap()
    );
}

/// Uploads a JSON flow of `dominio`, waits for its validation and submits it when valid.
pub(crate) async fn carica_e_invia(
    app: &TestApp,
    t: &str,
    dominio: &str,
    corpo: &serde_json::Value,
) -> (i64, serde_json::Value) {
    let nome = format!("{dominio}.json");
    crate::flussi::carica_e_invia(app, t, dominio, &nome, corpo.to_string().into_bytes()).await
}

pub(crate) fn programmi() -> serde_json::Value {
    json!({"programmi": [
        {"codice_programma": "PRG-A", "denominazione": "Programma A di prova", "tipo": "SEMPLICE",
         "strumento": "FSC", "fonte": "STATALE", "atto": "DGR 1/2020", "data_atto": "2020-01-15",
         "importo_programma": "1000000.00"},
        {"codice_programma": "PRG-B", "denominazione": "Programma B di prova", "tipo": "COMPLESSO",
         "strumento": "PNRR_SVS", "fonte": "PNRR", "atto": "DGR 2/2021", "data_atto": "2021-03-01",
         "importo_programma": "500000"}
    ]})
}

/// Andria's accounting: I1 in progress and late (its last SAL exactly 365 days before the
/// test's today, 30/06/2026: not stalled), I2 in progress and stalled (366 days), I3 tested.
/// `versione` 2 adds SAL 3 and a payment to I1 and moves its planned end.
pub(crate) fn contabilita_andria(programma_i1: &str, versione: u32) -> serde_json::Value {
    let mut sal = vec![
        json!({"cup": "J11B18000000001", "numero_sal": 1, "data_sal": "2023-09-01", "importo_sal": "200000.00", "importo_cumulato": "200000.00", "percentuale_avanzamento": 20}),
        json!({"cup": "J11B18000000001", "numero_sal": 2, "data_sal": "2025-06-30", "importo_sal": "250000.00", "importo_cumulato": "450000.00", "percentuale_avanzamento": 45.5}),
        json!({"cup": "J11B18000000002", "numero_sal": 1, "data_sal": "2025-06-29", "importo_sal": "10000.00", "importo_cumulato": "10000.00", "percentuale_avanzamento": 5}),
        json!({"cup": "J11B18000000003", "numero_sal": 1, "data_sal": "2020-04-30", "importo_sal": "80000.00", "importo_cumulato": "80000.00", "percentuale_avanzamento": 100}),
    ];
    let mut pagamenti = vec![
        json!({"cup": "J11B18000000001", "numero_mandato": "M1", "data_mandato": "2023-09-15", "importo": "190000.00", "beneficiario": "Impresa Rossi S.r.l.", "causale": "LAVORI", "numero_sal": 1}),
        json!({"cup": "J11B18000000001", "numero_mandato": "M2", "data_mandato": "2025-07-15", "importo": "200000.00", "beneficiario": "Impresa Rossi S.r.l.", "causale": "LAVORI", "numero_sal": 2}),
    ];
    let mut fine_prevista = "2025-03-01";
    if versione > 1 {
        sal.push(json!({"cup": "J11B18000000001", "numero_sal": 3, "data_sal": "2026-05-15", "importo_sal": "100000.00", "importo_cumulato": "550000.00", "percentuale_avanzamento": 55}));
        pagamenti.push(json!({"cup": "J11B18000000001", "numero_mandato": "M3", "data_mandato": "2026-05-20", "importo": "95000.00", "beneficiario": "Impresa Rossi S.r.l.", "causale": "LAVORI", "numero_sal": 3}));
        fine_prevista = "2026-12-31";
    }
    json!({
        "interventi": [
            {"cup": "J11B18000000001", "codice_programma": programma_i1, "titolo": "Recupero di 10 alloggi in via Roma",
             "comune_istat": "110001", "tipo_intervento": "RECUPERO", "alloggi_previsti": 10,
             "importo_finanziato": "800000.00", "importo_cofinanziamento": "200000.00", "importo_totale": "1000000.00",
             "stato": "LAVORI_IN_CORSO", "data_aggiudicazione": "2023-01-10", "data_inizio_lavori": "2023-03-01",
             "data_fine_prevista": fine_prevista},
            {"cup": "J11B18000000002", "codice_programma": "PRG-A", "titolo": "Nuovi alloggi in via Bari",
             "comune_istat": "110001", "tipo_intervento": "NUOVA_COSTRUZIONE", "alloggi_previsti": 8,
             "importo_finanziato": "300000.00", "importo_totale": "300000.00",
             "stato": "LAVORI_IN_CORSO", "data_aggiudicazione": "2022-01-10", "data_inizio_lavori": "2022-02-01",
             "data_fine_prevista": "2027-01-01"},
            {"cup": "J11B18000000003", "codice_programma": "PRG-B", "titolo": "Manutenzione straordinaria di 4 alloggi",
             "comune_istat": "110001", "tipo_intervento": "MANUTENZIONE_STRAORDINARIA", "alloggi_previsti": 4,
             "alloggi_realizzati": 4, "importo_finanziato": "100000.00", "importo_totale": "100000.00",
             "stato": "COLLAUDATO", "data_aggiudicazione": "2019-01-10", "data_inizio_lavori": "2019-03-01",
             "data_fine_prevista": "2020-03-01", "data_fine_effettiva": "2020-05-01", "data_collaudo": "2020-09-01"}
        ],
        "sal": sal,
        "erogazioni": [
            {"cup": "J11B18000000001", "data_erogazione": "2023-02-01", "importo": "160000.00", "tipo": "ANTICIPAZIONE", "atto": "DD 1/2023"},
            {"cup": "J11B18000000001", "data_erogazione": "2023-10-01", "importo": "100000.33", "tipo": "ACCONTO", "atto": "DD 2/2023"},
            {"cup": "J11B18000000003", "data_erogazione": "2020-10-01", "importo": "100000.00", "tipo": "SALDO", "atto": "DD 9/2020"}
        ],
        "pagamenti": pagamenti,
        "interventi_fabbricati": [
            {"cup": "J11B18000000001", "codice_fabbricato": "FAB000001"},
            {"cup": "J11B18000000003", "codice_fabbricato": "FAB000002"}
        ]
    })
}

fn per_cup<'a>(v: &'a serde_json::Value, cup: &str) -> &'a serde_json::Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|x| x["cup"] == cup)
        .unwrap_or_else(|| panic!("{cup} in {v}"))
}

#[tokio::test]
async fn programmi_e_contabilita_da_capo_a_fondo() {
    // Today is 30 June 2026 (Rome) for the computed keys.
    let oggi = chrono::Utc.with_ymd_and_hms(2026, 6, 30, 10, 0, 0).unwrap();
    let app = TestApp::con(Opzioni {
        orologio: Some(oggi),
        ..Default::default()
    })
    .await;
    let regione = token(&app, "REGIONE", &[]).await;
    let andria = token(&app, "110001", &[dominio::Area::Programmi]).await;
    let andria_pat = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let bari = token(&app, "072006", &[dominio::Area::Programmi]).await;
    // Andria's asset register, for the links to its buildings.
    crate::flussi::carica_e_accetta(
        &app,
        &andria_pat,
        crate::flussi::flusso_demo("110001", 60, 0),
        (2026, 1, 15),
    )
    .await;

    // 1. Programmes, sent and accepted by the Region (its token acts as an administrator).
    let (id, f) = carica_e_invia(&app, &regione, "programmi", &programmi()).await;
    assert_eq!(f["stato"], "valido", "{f}");
    let r = post(
        &app,
        &format!("/api/v1/flussi/{id}/accettazione"),
        &regione,
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["stato"], "accettato");

    // 2. An accounting flow with an unknown programme fails validation.
    let (id, f) = carica_e_invia(
        &app,
        &andria,
        "contabilita",
        &contabilita_andria("PRG-X", 1),
    )
    .await;
    assert_eq!(f["stato"], "non_valido", "{f}");
    let rep = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&andria)).await).await;
    assert_eq!(rep["conteggi"]["programma_sconosciuto"], 1, "{rep}");
    let s = &rep["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codice"] == "programma_sconosciuto")
        .unwrap()
        .clone();
    assert_eq!(s["tabella"], "interventi");
    assert_eq!(s["campo"], "codice_programma");
    assert_eq!(s["valore"], "PRG-X");
    // The buildings are checked against the entity's accepted register: FAB000001 and 2 exist.
    assert!(rep["conteggi"]["fabbricato_sconosciuto"].is_null(), "{rep}");
    assert!(rep["conteggi"]["controllo_non_eseguito"].is_null(), "{rep}");

    // 3. The fixed flow is valid and accepted (dated 1 March 2026).
    let (id1, f) = carica_e_invia(
        &app,
        &andria,
        "contabilita",
        &contabilita_andria("PRG-A", 1),
    )
    .await;
    assert_eq!(f["stato"], "valido", "{f}");
    assert_eq!(f["avvisi"], 0, "{f}");
    app.p
        .applica_flusso(
            id1,
            "test",
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        )
        .await
        .unwrap();

    // 4. The computed keys, by hand.
    let v = json(
        api(
            &app,
            "/api/v1/programmi/interventi?ente=110001",
            Some(&regione),
        )
        .await,
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
    let i1 = per_cup(&v, "J11B18000000001");
    assert_eq!(i1["ente"], "110001");
    assert_eq!(i1["importo_finanziato"], "800000.00");
    assert_eq!(i1["alloggi_previsti"], 10);
    assert_eq!(i1["importo_erogato"], "260000.33");
    assert_eq!(i1["importo_pagato"], "390000.00");
    assert_eq!(i1["avanzamento_fisico"], 45.5);
    // 260 000,33 / 800 000,00 = 32,500041… % → 32,50.
    assert_eq!(i1["avanzamento_finanziario"], 32.5);
    // 01/03/2025 → 30/06/2026: 365 + 121 days.
    assert_eq!(i1["ritardo_giorni"], 486);
    // Last SAL 30/06/2025: exactly 365 days, not stalled.
    assert_eq!(i1["fermo"], false);
    let i2 = per_cup(&v, "J11B18000000002");
    assert_eq!(i2["fermo"], true, "366 days without a SAL");
    assert_eq!(i2["ritardo_giorni"], 0);
    assert_eq!(i2["importo_erogato"], "0.00");
    assert_eq!(i2["avanzamento_finanziario"], 0.0);
    let i3 = per_cup(&v, "J11B18000000003");
    assert_eq!(i3["ritardo_giorni"], 61);
    assert_eq!(i3["avanzamento_finanziario"], 100.0);
    assert_eq!(i3["avanzamento_fisico"], 100.0);
    assert_eq!(i3["fermo"], false);
    // Filters: by state, programme.
    let v = json(
        api(
            &app,
            "/api/v1/programmi/interventi?stato=COLLAUDATO",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let v = json(
        api(
            &app,
            "/api/v1/programmi/interventi?codice_programma=PRG-A",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    // Paging by keyset, with the next page in Link.
    let r = api(&app, "/api/v1/programmi/interventi?limit=2", Some(&andria)).await;
    let link = r.headers()["link"].to_str().unwrap().to_string();
    assert_eq!(json(r).await.as_array().unwrap().len(), 2);
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let r = reqwest::Client::new()
        .get(next)
        .bearer_auth(&andria)
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("link").is_none());
    assert_eq!(json(r).await[0]["cup"], "J11B18000000003");
    // CSV.
    let csv = reqwest::Client::new()
        .get(format!("{}/api/v1/programmi/interventi", app.url))
        .bearer_auth(&andria)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("ente,cup,codice_programma"), "{csv}");
    assert!(
        csv.contains("J11B18000000002") && csv.contains(",SI"),
        "{csv}"
    );
    // The detail, with its children.
    let d = json(
        api(
            &app,
            "/api/v1/programmi/interventi/J11B18000000001",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(d["sal"].as_array().unwrap().len(), 2);
    assert_eq!(d["sal"][1]["importo_cumulato"], "450000.00");
    assert_eq!(d["erogazioni"].as_array().unwrap().len(), 2);
    assert_eq!(d["pagamenti"].as_array().unwrap().len(), 2);
    assert_eq!(d["fabbricati"][0]["codice_fabbricato"], "FAB000001");
    assert_eq!(d["avanzamento_fisico"], 45.5);
    // Another entity cannot see it (404), a PATRIMONIO token cannot list (403).
    assert_eq!(
        api(
            &app,
            "/api/v1/programmi/interventi/J11B18000000001",
            Some(&bari)
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        api(&app, "/api/v1/programmi/interventi", Some(&andria_pat))
            .await
            .status(),
        403
    );
    assert_eq!(
        api(&app, "/api/v1/programmi/interventi", None)
            .await
            .status(),
        401
    );

    // 5. A later flow changes SAL and payments (accepted 1 June 2026).
    let (id2, f) = carica_e_invia(
        &app,
        &andria,
        "contabilita",
        &contabilita_andria("PRG-A", 2),
    )
    .await;
    assert_eq!(f["stato"], "valido", "{f}");
    let diff = json(
        api(
            &app,
            &format!("/api/v1/flussi/{id2}/differenze"),
            Some(&regione),
        )
        .await,
    )
    .await;
    let testo = diff.to_string();
    assert!(
        testo.contains("sal") && testo.contains("pagamenti"),
        "{diff}"
    );
    app.p
        .applica_flusso(
            id2,
            "test",
            chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        )
        .await
        .unwrap();
    let d = json(
        api(
            &app,
            "/api/v1/programmi/interventi/J11B18000000001",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(d["sal"].as_array().unwrap().len(), 3);
    assert_eq!(d["avanzamento_fisico"], 55.0);
    assert_eq!(d["importo_pagato"], "485000.00");
    assert_eq!(d["ritardo_giorni"], 0, "planned end moved to 31/12/2026");

    // 6. Time travel: on 1 April 2026 the first version (and "today" is that day).
    let d = json(
        api(
            &app,
            "/api/v1/programmi/interventi/J11B18000000001?alla_data=2026-04-01",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(d["sal"].as_array().unwrap().len(), 2);
    assert_eq!(d["avanzamento_fisico"], 45.5);
    assert_eq!(d["importo_pagato"], "390000.00");
    assert_eq!(d["data_fine_prevista"], "2025-03-01");
    // 01/03/2025 → 01/04/2026: 365 + 31.
    assert_eq!(d["ritardo_giorni"], 396);
    let d = json(
        api(
            &app,
            "/api/v1/programmi/interventi/J11B18000000001?alla_data=2026-02-01",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(d["status"], 404, "not yet accepted then: {d}");
    // The intervention page: data, both versions in its history, the chart, the buildings.
    let b = app.come(&app.admin()).await;
    let html = crate::aiuto::senza_escape(
        &b.get("/area/interventi/110001/J11B18000000001")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(
        html.contains("role=\"img\" aria-labelledby=\"cronologia-titolo cronologia-desc\""),
        "{html}"
    );
    assert!(html.contains("/area/registro/fabbricati/110001/FAB000001"));
    assert!(
        html.contains(&format!("/area/flussi/{id1}"))
            && html.contains(&format!("/area/flussi/{id2}")),
        "both versions in the history"
    );
    assert!(html.contains("Fine prevista 31/12/2026"));
    let html = b
        .get("/area/interventi?stato=LAVORI_IN_CORSO")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("J11B18000000002") && html.contains("Fermo"));
    assert!(!html.contains("J11B18000000003"));
    let html = crate::aiuto::senza_escape(&b.get("/area/programmi").await.text().await.unwrap());
    // PRG-A: 2 interventions, 1.100.000,00 € financed, 260.000,33 € disbursed, 485.000,00 € paid.
    assert!(
        html.contains("1.100.000,00 €")
            && html.contains("260.000,33 €")
            && html.contains("485.000,00 €"),
        "{html}"
    );

    // A CUP conflict: Bari declares Andria's I3.
    let mut bari_flusso = contabilita_andria("PRG-A", 1);
    bari_flusso["interventi"] = json!([bari_flusso["interventi"][2].clone()]);
    bari_flusso["interventi"][0]["comune_istat"] = json!("072006");
    bari_flusso["sal"] = json!([]);
    bari_flusso["pagamenti"] = json!([]);
    bari_flusso["erogazioni"] = json!([]);
    bari_flusso["interventi_fabbricati"] = json!([]);
    let (id, f) = carica_e_invia(&app, &bari, "contabilita", &bari_flusso).await;
    assert_eq!(f["stato"], "valido", "{f}");
    let rep = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&bari)).await).await;
    assert_eq!(rep["conteggi"]["cup_conteso"], 1, "{rep}");
    assert!(
        !rep.to_string().contains("110001"),
        "Bari does not learn who: {rep}"
    );
    let rep = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&regione)).await).await;
    assert!(rep.to_string().contains("110001"), "the Region does: {rep}");
    let r = post(
        &app,
        &format!("/api/v1/flussi/{id}/accettazione"),
        &regione,
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = b.get("/area/conflitti").await.text().await.unwrap();
    let n = html.matches("J11B18000000003").count();
    assert!(n >= 2, "both entities listed: {html}");
    assert!(html.contains("072006") && html.contains("110001"));
}

#[tokio::test]
async fn la_dimostrazione_ha_programmi_e_contabilita_con_cantieri_fermi() {
    let app = TestApp::con(Opzioni {
        demo: None,
        lavori_paralleli: Some(0),
        ..Default::default()
    })
    .await;
    let demo = app
        .p
        .carica_demo(servizi::demo::Scenario::Completo, false)
        .await
        .unwrap();
    let regione = token(&app, "REGIONE", &[]).await;
    let mut tutti = Vec::new();
    let mut url = format!("{}/api/v1/programmi/interventi?limit=1000", app.url);
    loop {
        let r = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&regione)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let link = r
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_string());
        tutti.extend(json(r).await.as_array().unwrap().clone());
        match link {
            Some(l) => {
                url = l
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string()
            }
            None => break,
        }
    }
    let n: usize = servizi::demo::contabilita::INTERVENTI_DEMO
        .iter()
        .map(|x| x.1 as usize)
        .sum();
    assert_eq!(tutti.len(), n);
    // The four entities that sent asset flows, each with accepted accounting.
    for (ente, _) in servizi::demo::contabilita::INTERVENTI_DEMO {
        assert!(tutti.iter().any(|i| i["ente"] == ente), "{ente}");
    }
    let stato = |s: &str| tutti.iter().filter(|i| i["stato"] == s).count();
    assert!(stato("COLLAUDATO") + stato("ULTIMATO") > 0, "completed");
    assert!(stato("LAVORI_IN_CORSO") > 0, "in progress");
    assert!(tutti.iter().any(|i| i["fermo"] == true), "stalled");
    assert!(
        tutti
            .iter()
            .any(|i| i["ritardo_giorni"].as_i64().unwrap_or(0) > 0
                && i["data_fine_effettiva"].is_null()),
        "delayed and not finished"
    );
    // Their buildings are in the same entities' registers.
    let i = tutti
        .iter()
        .find(|i| i["stato"] == "COLLAUDATO" && i["ente"] == "ARCA-PC")
        .unwrap();
    let d = json(
        api(
            &app,
            &format!(
                "/api/v1/programmi/interventi/{}?ente=ARCA-PC",
                i["cup"].as_str().unwrap()
            ),
            Some(&regione),
        )
        .await,
    )
    .await;
    let f = d["fabbricati"][0]["codice_fabbricato"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app
        .come(&demo.amministratore.as_ref().unwrap().cf.to_string())
        .await;
    let r = b
        .get(&format!("/area/registro/fabbricati/ARCA-PC/{f}"))
        .await;
    assert_eq!(r.status(), 200, "{f}");
    // The programme list: the spec's instruments, each with its act.
    let html = b.get("/area/programmi").await.text().await.unwrap();
    for p in flussi::genera::contabilita::PROGRAMMI {
        assert!(html.contains(p.codice), "{}", p.codice);
    }
}

#[tokio::test]
async fn marzo_2018_senza_contabilita() {
    let app = TestApp::con(Opzioni {
        demo: None,
        lavori_paralleli: Some(0),
        ..Default::default()
    })
    .await;
    app.p
        .carica_demo(servizi::demo::Scenario::Marzo2018, false)
        .await
        .unwrap();
    let regione = token(&app, "REGIONE", &[]).await;
    let v = json(api(&app, "/api/v1/programmi/interventi", Some(&regione)).await).await;
    assert_eq!(v.as_array().unwrap().len(), 0);
    let a = json(api(&app, "/api/v1/monitoraggio/adesione", Some(&regione)).await).await;
    assert_eq!(a["con_flussi"]["contabilita"], json!([]), "{a}");
}
