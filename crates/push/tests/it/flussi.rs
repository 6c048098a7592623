//! The asset register end to end through HTTP: upload → background validation → report →
//! submission → review difference → acceptance → register lists and time travel → a second
//! flow that changes and removes units → history. Plus the refusals on the way.

use std::time::Duration;

use servizi::token::Richiedente;

use crate::aiuto::{Opzioni, TestApp, api};

pub(crate) async fn token(app: &TestApp, ente: &str, aree: &[dominio::Area]) -> String {
    let e = dominio::CodiceEnte::parse(ente).unwrap();
    app.p
        .crea_token(Richiedente::RigaDiComando, &e, aree, "prova")
        .await
        .unwrap()
        .segreto
}

pub(crate) fn flusso_demo(ente: &str, unita: u64, versione: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.zip");
    servizi::demo::flusso_demo(ente, unita, versione, &p).unwrap();
    std::fs::read(p).unwrap()
}

pub(crate) async fn carica(app: &TestApp, t: &str, byte: Vec<u8>) -> reqwest::Response {
    carica_come(app, t, "patrimonio", "patrimonio.zip", byte).await
}

/// Uploads `byte` as a flow of `dominio` named `nome`, whose extension tells its format.
pub(crate) async fn carica_come(
    app: &TestApp,
    t: &str,
    dominio: &str,
    nome: &str,
    byte: Vec<u8>,
) -> reqwest::Response {
    let tipo = if nome.ends_with(".json") {
        "application/json"
    } else {
        "application/zip"
    };
    reqwest::Client::new()
        .post(format!(
            "{}/api/v1/flussi?dominio={dominio}&nome={nome}",
            app.url
        ))
        .bearer_auth(t)
        .header("content-type", tipo)
        .body(byte)
        .send()
        .await
        .unwrap()
}

/// Uploads, waits for validation and, when valid, submits; the flow as the API shows it after
/// validation.
pub(crate) async fn carica_e_invia(
    app: &TestApp,
    t: &str,
    dominio: &str,
    nome: &str,
    byte: Vec<u8>,
) -> (i64, serde_json::Value) {
    let r = carica_come(app, t, dominio, nome, byte).await;
    assert_eq!(r.status(), 202);
    let id = json(r).await["id"].as_i64().expect("id");
    let f = attendi_validazione(app, id, t).await;
    if f["stato"] == "valido" {
        let r = post(app, &format!("/api/v1/flussi/{id}/invio"), t, None).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    (id, f)
}

pub(crate) async fn post(
    app: &TestApp,
    percorso: &str,
    t: &str,
    corpo: Option<serde_json::Value>,
) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(format!("{}{percorso}", app.url))
        .bearer_auth(t);
    if let Some(c) = corpo {
        r = r.json(&c);
    }
    r.send().await.unwrap()
}

pub(crate) async fn json(r: reqwest::Response) -> serde_json::Value {
    r.json().await.unwrap()
}

/// Waits for the background validation to finish.
pub(crate) async fn attendi_validazione(app: &TestApp, id: i64, t: &str) -> serde_json::Value {
    for _ in 0..600 {
        let f = json(api(app, &format!("/api/v1/flussi/{id}"), Some(t)).await).await;
        if !matches!(f["stato"].as_str(), Some("caricato" | "in_validazione")) {
            return f;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("validazione del flusso {id} non conclusa");
}

/// Uploads `byte` for the token's entity, waits until it is valid, submits it and merges it
/// with the acceptance date `data` (what the Region's acceptance does, dated at will): the
/// register a test starts from. Returns the flow's id.
pub(crate) async fn carica_e_accetta(
    app: &TestApp,
    t: &str,
    byte: Vec<u8>,
    (a, m, g): (i32, u32, u32),
) -> i64 {
    let (id, f) = carica_e_invia(app, t, "patrimonio", "patrimonio.zip", byte).await;
    assert_eq!(f["stato"], "valido", "{f}");
    let data = chrono::NaiveDate::from_ymd_opt(a, m, g).expect("data");
    app.p
        .applica_flusso(id, "test", data)
        .await
        .expect("fusione");
    id
}

#[tokio::test]
async fn registro_patrimonio_da_capo_a_fondo() {
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let bari = token(&app, "072006", &[dominio::Area::Patrimonio]).await;
    let solo_programmi = token(&app, "110001", &[dominio::Area::Programmi]).await;
    let regione = token(&app, "REGIONE", &[]).await;

    // Upload: 202 at once, then the same bytes again: 200 with the same flow.
    let v0 = flusso_demo("110001", 300, 0);
    let r = carica(&app, &andria, v0.clone()).await;
    assert_eq!(r.status(), 202);
    let f = json(r).await;
    let id = f["id"].as_i64().unwrap();
    assert!(f["protocollo"].is_null());
    assert!(matches!(
        f["stato"].as_str(),
        Some("caricato" | "in_validazione" | "valido")
    ));
    let r = carica(&app, &andria, v0.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["id"].as_i64(), Some(id));
    // Wrong area, no token.
    assert_eq!(
        carica(&app, &solo_programmi, v0.clone()).await.status(),
        403
    );
    assert_eq!(
        reqwest::Client::new()
            .post(format!("{}/api/v1/flussi?dominio=patrimonio", app.url))
            .body(v0.clone())
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let f = attendi_validazione(&app, id, &andria).await;
    assert_eq!(f["stato"], "valido", "{f}");
    assert_eq!(f["errori"], 0);
    assert_eq!(f["percentuale"], 100);
    let righe = f["righe"].as_i64().unwrap();
    assert!(righe > 300, "{f}");

    // The report, as JSON (the CLI's object) and CSV.
    let rep = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&andria)).await).await;
    assert_eq!(rep["valido"], true);
    assert_eq!(rep["tabelle"]["unita"]["righe"], 300);
    let csv = api(
        &app,
        &format!("/api/v1/flussi/{id}/report?formato=csv"),
        Some(&andria),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        csv.starts_with("tabella,riga,campo,valore,codice,gravita,messaggio"),
        "{csv}"
    );

    // Another entity sees nothing of it; the Region cannot accept before submission.
    assert_eq!(
        api(&app, &format!("/api/v1/flussi/{id}"), Some(&bari))
            .await
            .status(),
        404
    );
    assert_eq!(
        post(&app, &format!("/api/v1/flussi/{id}/invio"), &bari, None)
            .await
            .status(),
        404
    );
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/flussi/{id}/accettazione"),
            &regione,
            None
        )
        .await
        .status(),
        409
    );

    // Submission: protocol YYYY/NNNNNN.
    let r = post(&app, &format!("/api/v1/flussi/{id}/invio"), &andria, None).await;
    assert_eq!(r.status(), 200);
    let f = json(r).await;
    assert_eq!(f["stato"], "inviato");
    let prot = f["protocollo"].as_str().unwrap().to_string();
    assert_eq!(prot.len(), 11, "{prot}");
    assert!(prot.ends_with("/000001"), "{prot}");
    assert_eq!(
        post(&app, &format!("/api/v1/flussi/{id}/invio"), &andria, None)
            .await
            .status(),
        409
    );

    // The difference: everything is new.
    let d = json(
        api(
            &app,
            &format!("/api/v1/flussi/{id}/differenze"),
            Some(&regione),
        )
        .await,
    )
    .await;
    assert_eq!(d["conteggi"]["unita"]["aggiunti"], 300, "{d}");
    assert_eq!(d["conteggi"]["unita"]["rimossi"], 0);

    // Only the Region accepts. The first flow is accepted with an earlier date (as the demo
    // does for 2018), so that "as of" that period shows it.
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/flussi/{id}/accettazione"),
            &andria,
            None
        )
        .await
        .status(),
        403
    );
    let data0 = chrono::NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
    app.p.applica_flusso(id, "test", data0).await.unwrap();
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/flussi/{id}/accettazione"),
            &regione,
            None
        )
        .await
        .status(),
        409
    );

    let unita = json(
        api(
            &app,
            "/api/v1/patrimonio/unita?ente=110001&limit=1000",
            Some(&regione),
        )
        .await,
    )
    .await;
    assert_eq!(unita.as_array().unwrap().len(), 300);
    // Following the `Link` header page by page gives the same 300 units, in order, once each,
    // for the Region across entities and for the entity itself (different keyset paths).
    for (percorso, t) in [
        ("/api/v1/patrimonio/unita?limit=70", &regione),
        (
            "/api/v1/patrimonio/unita?ente=110001&limit=70&ordina=tipologia",
            &andria,
        ),
        ("/api/v1/patrimonio/unita?ente=110001&limit=70", &andria),
    ] {
        let mut visti: Vec<String> = Vec::new();
        let mut prossimo = Some(percorso.to_string());
        while let Some(p) = prossimo.take() {
            assert!(visti.len() <= 300, "{percorso}: il cursore non avanza");
            let r = api(&app, &p, Some(t)).await;
            assert_eq!(r.status(), 200, "{p}");
            prossimo = r
                .headers()
                .get("link")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| l.split('<').nth(1)?.split('>').next().map(str::to_string))
                .map(|u| u.trim_start_matches(&app.url).to_string());
            for u in json(r).await.as_array().unwrap() {
                visti.push(u["codice_unita"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(visti.len(), 300, "{percorso}");
        let mut ordinati = visti.clone();
        ordinati.sort();
        ordinati.dedup();
        assert_eq!(ordinati.len(), 300, "{percorso}: doppioni");
        if !percorso.contains("ordina") {
            assert_eq!(visti, ordinati, "{percorso}: ordine");
        }
    }
    // An entity only sees its own register.
    let di_bari = json(api(&app, "/api/v1/patrimonio/unita?limit=1000", Some(&bari)).await).await;
    assert_eq!(di_bari.as_array().unwrap().len(), 0, "{di_bari}");

    // Second flow: some units change, some disappear, a few appear.
    let v1 = flusso_demo("110001", 300, 1);
    let r = carica(&app, &andria, v1).await;
    assert_eq!(r.status(), 202);
    let id2 = json(r).await["id"].as_i64().unwrap();
    let f2 = attendi_validazione(&app, id2, &andria).await;
    assert_eq!(f2["stato"], "valido", "{f2}");
    let rep2 = json(api(&app, &format!("/api/v1/flussi/{id2}/report"), Some(&andria)).await).await;
    let rimozioni = rep2["conteggi"]["rimozione"].as_u64().unwrap_or(0);
    assert!(
        rimozioni > 0,
        "attesi avvisi di rimozione: {}",
        rep2["conteggi"]
    );
    assert_eq!(
        post(&app, &format!("/api/v1/flussi/{id2}/invio"), &andria, None)
            .await
            .status(),
        200
    );
    let d = json(
        api(
            &app,
            &format!("/api/v1/flussi/{id2}/differenze?tabella=unita&tipo=modificato&limit=5"),
            Some(&regione),
        )
        .await,
    )
    .await;
    let (agg, modi, rim) = (
        d["conteggi"]["unita"]["aggiunti"].as_u64().unwrap(),
        d["conteggi"]["unita"]["modificati"].as_u64().unwrap(),
        d["conteggi"]["unita"]["rimossi"].as_u64().unwrap(),
    );
    assert!(agg > 0 && modi > 0 && rim > 0, "{d}");
    assert_eq!(rim, rimozioni);
    let cambiata = d["elenchi"]["unita"]["modificato"][0].clone();
    assert!(
        cambiata["campi"].as_array().is_some_and(|c| !c.is_empty()),
        "{cambiata}"
    );
    let r = post(
        &app,
        &format!("/api/v1/flussi/{id2}/accettazione"),
        &regione,
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["stato"], "accettato");
    let f1 = json(api(&app, &format!("/api/v1/flussi/{id}"), Some(&andria)).await).await;
    assert_eq!(f1["stato"], "superato");

    // Now: 300 - removed + added. As of 2025-06-01: the first register, whole.
    let ora_n = json(
        api(
            &app,
            "/api/v1/patrimonio/unita?ente=110001&limit=1000",
            Some(&regione),
        )
        .await,
    )
    .await;
    assert_eq!(ora_n.as_array().unwrap().len() as u64, 300 - rim + agg);
    let allora = json(
        api(
            &app,
            "/api/v1/patrimonio/unita?ente=110001&limit=1000&alla_data=2025-06-01",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(allora.as_array().unwrap().len(), 300);
    let prima = json(
        api(
            &app,
            "/api/v1/patrimonio/unita?ente=110001&limit=1000&alla_data=2024-12-31",
            Some(&andria),
        )
        .await,
    )
    .await;
    assert_eq!(prima.as_array().unwrap().len(), 0);

    // History of a changed unit: two versions, the first closed when the second began.
    let codice = cambiata["chiave"].as_str().unwrap();
    let storia = json(
        api(
            &app,
            &format!("/api/v1/patrimonio/unita/110001/{codice}/storia"),
            Some(&andria),
        )
        .await,
    )
    .await;
    let v = storia.as_array().unwrap();
    assert_eq!(v.len(), 2, "{storia}");
    assert_eq!(v[0]["valido_dal"], "2025-01-15");
    assert_eq!(v[0]["valido_al"], v[1]["valido_dal"]);
    assert!(v[1]["valido_al"].is_null());
    assert_eq!(
        api(
            &app,
            &format!("/api/v1/patrimonio/unita/110001/{codice}/storia"),
            Some(&bari)
        )
        .await
        .status(),
        404
    );

    // Monitoring, the registry's date of the last accepted flow.
    let a = json(api(&app, "/api/v1/monitoraggio/adesione", Some(&regione)).await).await;
    assert_eq!(a["con_flussi"]["patrimonio"], serde_json::json!(["110001"]));
    assert_eq!(
        api(&app, "/api/v1/monitoraggio/adesione", Some(&andria))
            .await
            .status(),
        403
    );

    // Rejection needs a reason.
    let v2 = flusso_demo("110001", 280, 0);
    let id3 = json(carica(&app, &andria, v2).await).await["id"]
        .as_i64()
        .unwrap();
    attendi_validazione(&app, id3, &andria).await;
    // (A register generated anew removes many units: the reason is required.)
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/flussi/{id3}/invio"),
            &andria,
            Some(serde_json::json!({"motivazione_rimozioni": "Nuovo censimento."}))
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/flussi/{id3}/rifiuto"),
            &regione,
            Some(serde_json::json!({"motivazione": " "}))
        )
        .await
        .status(),
        422
    );
    let r = post(
        &app,
        &format!("/api/v1/flussi/{id3}/rifiuto"),
        &regione,
        Some(serde_json::json!({"motivazione": "Mancano i fabbricati di via Roma."})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let f3 = json(r).await;
    assert_eq!(f3["stato"], "respinto");
    assert_eq!(f3["motivazione"], "Mancano i fabbricati di via Roma.");
    assert!(f3["protocollo"].as_str().unwrap().ends_with("/000003"));

    // The pages: the referent's flow page with the report, the Region's queue and review.
    let (_, rp, _) = app.persone("110001");
    let b = app.come(&rp).await;
    let (s, html) = b.testo(&format!("/area/flussi/{id2}")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Rapporto di validazione") && html.contains("Modifiche portate al registro"),
        "{html}"
    );
    let (s, _) = b.testo("/area/esame").await;
    assert_eq!(s, 403);
    let (s, html) = b.testo("/area/flussi").await;
    assert_eq!(s, 200);
    assert!(html.contains("patrimonio.zip"), "{html}");
    // A referent of the other area sees the page, without the patrimonio flows.
    let (_, _, rg) = app.persone("110001");
    let (s, html) = app.come(&rg).await.testo("/area/flussi").await;
    assert_eq!(s, 200);
    assert!(
        !html.contains("patrimonio.zip") && html.contains("Nessun flusso"),
        "{html}"
    );
    let r = app.come(&app.istruttore()).await;
    let (s, html) = r
        .testo(&format!(
            "/area/flussi/{id2}/differenze?tabella=unita&tipo=modificato"
        ))
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("push-nuovo"), "{html}");
    let (s, html) = b.testo(&format!("/area/flussi/{id2}/ricevuta")).await;
    assert_eq!(s, 200);
    assert!(html.contains("000002"), "{html}");

    // Every step is in the audit trail.
    let voci = app.p.db().azioni_audit().await.unwrap();
    for a in [
        "flusso.caricato",
        "flusso.validato",
        "flusso.inviato",
        "flusso.accettato",
        "flusso.respinto",
    ] {
        assert!(voci.iter().any(|v| v == a), "{a} assente: {voci:?}");
    }
}

#[tokio::test]
async fn file_oltre_il_limite_rifiutato_prima_di_conservarlo() {
    let app = TestApp::con(Opzioni {
        limite_caricamento_mb: Some(1),
        ..Default::default()
    })
    .await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let grande = vec![b'x'; 2 * 1024 * 1024];
    let r = carica(&app, &andria, grande).await;
    assert_eq!(r.status(), 413);
    let p = json(r).await;
    assert!(p["detail"].as_str().unwrap().contains("1 MB"), "{p}");
    let oggetti = app.data_dir.join("oggetti");
    assert!(!oggetti.exists() || std::fs::read_dir(&oggetti).unwrap().count() == 0);
    let in_arrivo = app.data_dir.join("in-arrivo");
    assert!(
        !in_arrivo.exists() || std::fs::read_dir(&in_arrivo).unwrap().count() == 0,
        "file parziale rimasto"
    );
    // Bytes that are not a flow are still received (202) and then found not valid.
    let r = carica(&app, &andria, b"non un file zip".to_vec()).await;
    assert_eq!(r.status(), 202);
    let id = json(r).await["id"].as_i64().unwrap();
    let f = attendi_validazione(&app, id, &andria).await;
    assert_eq!(f["stato"], "non_valido", "{f}");
    assert_eq!(
        post(&app, &format!("/api/v1/flussi/{id}/invio"), &andria, None)
            .await
            .status(),
        409
    );
}

/// Replaces one value of `unita.csv` inside a flow ZIP.
fn con_valore(zip_byte: &[u8], riga: usize, campo: &str, valore: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip_byte.to_vec())).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let nome = e.name().unwrap().to_string();
        let mut testo = String::new();
        e.read_to_string(&mut testo).unwrap();
        if nome == "unita.csv" {
            let sep = if testo.lines().next().unwrap().contains(';') {
                ';'
            } else {
                ','
            };
            let mut righe: Vec<Vec<String>> = testo
                .lines()
                .map(|l| l.split(sep).map(str::to_string).collect())
                .collect();
            let col = righe[0]
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == campo)
                .unwrap();
            righe[riga][col] = valore.to_string();
            testo = righe
                .iter()
                .map(|r| r.join(&sep.to_string()))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n";
        }
        out.start_file(nome, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(testo.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[tokio::test]
async fn righe_in_errore_e_catasto_conteso() {
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let arca = token(&app, "ARCA-PC", &[dominio::Area::Patrimonio]).await;

    // A flow with one unit of an unknown type: not valid; the page shows that row, with its
    // values as read and the field highlighted; the report has the value.
    let v0 = flusso_demo("110001", 40, 0);
    let errato = con_valore(&v0, 3, "tipologia", "CASTELLO");
    let id = json(carica(&app, &andria, errato).await).await["id"]
        .as_i64()
        .unwrap();
    let f = attendi_validazione(&app, id, &andria).await;
    assert_eq!(f["stato"], "non_valido", "{f}");
    let rep = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&andria)).await).await;
    let s = rep["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["valore"] == "CASTELLO")
        .unwrap_or_else(|| panic!("{rep}"))
        .clone();
    assert_eq!(s["tabella"], "unita");
    assert_eq!(s["campo"], "tipologia");
    let riga = s["riga"].as_i64().unwrap();
    let (_, rp, _) = app.persone("110001");
    let b = app.come(&rp).await;
    let (st, html) = b.testo(&format!("/area/flussi/{id}")).await;
    assert_eq!(st, 200);
    assert!(
        html.contains(&format!("Tabella unita, riga {riga}")),
        "{html}"
    );
    assert!(
        html.contains("<td class=\"push-campo-errato\">CASTELLO</td>"),
        "{html}"
    );
    // The issues table filters by severity.
    let nella_tabella = "<td>CASTELLO</td><td><code>";
    let (_, html) = b.testo(&format!("/area/flussi/{id}?gravita=errore")).await;
    assert!(html.contains(nella_tabella), "{html}");
    let (_, html) = b.testo(&format!("/area/flussi/{id}?gravita=avviso")).await;
    assert!(!html.contains(nella_tabella), "filtro gravità ignorato");

    // The valid register of Andria is accepted; ARCA Puglia Centrale then declares the same
    // cadastral units: a `catasto_conteso` warning on each.
    carica_e_accetta(&app, &andria, v0.clone(), (2025, 3, 1)).await;
    let r = carica(&app, &arca, v0).await;
    assert_eq!(
        r.status(),
        202,
        "gli stessi byte di un altro ente sono un flusso nuovo"
    );
    let id = json(r).await["id"].as_i64().unwrap();
    let f = attendi_validazione(&app, id, &arca).await;
    assert_eq!(f["stato"], "valido", "{f}");
    let rep = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&arca)).await).await;
    assert_eq!(
        rep["conteggi"]["catasto_conteso"], 40,
        "{}",
        rep["conteggi"]
    );
    let s = rep["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codice"] == "catasto_conteso")
        .unwrap()
        .clone();
    assert_eq!(s["gravita"], "avviso");
    // The entity is warned without learning who holds the units: not in its report (JSON and
    // CSV), not on its page. The Region's views name the holder.
    let contesi: Vec<&serde_json::Value> = rep["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codice"] == "catasto_conteso")
        .collect();
    assert_eq!(contesi.len(), 40);
    for s in &contesi {
        let m = s["messaggio"].as_str().unwrap();
        assert!(m.contains("un altro ente"), "{s}");
        // (110001 is also the unit's comune, part of the cadastral key: the entity knows it.)
        assert!(
            !m.contains("dell'ente 110001") && !m.contains("Andria"),
            "{s}"
        );
        assert!(s.get("altro_ente").is_none(), "{s}");
    }
    let csv = api(
        &app,
        &format!("/api/v1/flussi/{id}/report?formato=csv"),
        Some(&arca),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(csv.contains("catasto_conteso"), "{csv}");
    assert!(
        !csv.contains("Andria") && !csv.contains("è già nel registro accettato dell'ente"),
        "{csv}"
    );
    let (_, rp_arca, _) = app.persone("ARCA-PC");
    let (st, html) = app
        .come(&rp_arca)
        .await
        .testo(&format!("/area/flussi/{id}?codice=catasto_conteso"))
        .await;
    assert_eq!(st, 200);
    assert!(
        html.contains("catasto_conteso") && html.contains("un altro ente"),
        "{html}"
    );
    assert!(
        !html.contains("Andria") && !html.contains("push-altro-ente"),
        "{html}"
    );
    let regione = token(&app, "REGIONE", &[]).await;
    let rep_r = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&regione)).await).await;
    let contesi_r: Vec<&serde_json::Value> = rep_r["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codice"] == "catasto_conteso")
        .collect();
    assert_eq!(contesi_r.len(), 40);
    assert!(
        contesi_r.iter().all(|s| s["altro_ente"] == "110001"),
        "{rep_r}"
    );
    let (st, html) = app
        .come(&app.istruttore())
        .await
        .testo(&format!("/area/flussi/{id}?codice=catasto_conteso"))
        .await;
    assert_eq!(st, 200);
    assert!(
        html.contains("l'unità è nel registro di Comune di Andria (110001)"),
        "{html}"
    );
    // And Andria cannot read ARCA's report or difference.
    assert_eq!(
        api(&app, &format!("/api/v1/flussi/{id}/report"), Some(&andria))
            .await
            .status(),
        404
    );
    assert_eq!(
        api(
            &app,
            &format!("/api/v1/flussi/{id}/differenze"),
            Some(&andria)
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn invii_concorrenti_protocolli_senza_buchi() {
    let app = TestApp::nuova().await;
    let mut ids = Vec::new();
    let mut token_enti = Vec::new();
    for (k, ente) in ["110001", "072006", "074001", "ARCA-PC"].iter().enumerate() {
        let t = token(&app, ente, &[dominio::Area::Patrimonio]).await;
        let v = flusso_demo(ente, 20 + k as u64, 0);
        let id = json(carica(&app, &t, v).await).await["id"]
            .as_i64()
            .unwrap();
        ids.push(id);
        token_enti.push(t);
    }
    for (id, t) in ids.iter().zip(&token_enti) {
        assert_eq!(attendi_validazione(&app, *id, t).await["stato"], "valido");
    }
    let mut compiti = Vec::new();
    for (id, t) in ids.iter().zip(token_enti.clone()) {
        let url = format!("{}/api/v1/flussi/{id}/invio", app.url);
        compiti.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }));
    }
    let mut numeri: Vec<String> = Vec::new();
    for c in compiti {
        numeri.push(c.await.unwrap()["protocollo"].as_str().unwrap()[5..].to_string());
    }
    numeri.sort();
    assert_eq!(numeri, vec!["000001", "000002", "000003", "000004"]);
    // Each validation ran once.
    for id in ids {
        let l = app.p.db().lavori_di(id).await.unwrap();
        assert!(
            l.iter().all(|l| l.tentativi == 1 && l.stato == "fatto"),
            "{l:?}"
        );
    }
}

#[tokio::test]
async fn il_file_di_esempio_della_demo_mostra_cambi_e_rimozioni() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        ..Default::default()
    })
    .await;
    let (_, rp, _) = app.persone("ARCA-JON");
    let b = app.come(&rp).await;
    let (s, html) = b.testo("/area/flussi").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("/area/flussi/esempio?ente=ARCA-JON"),
        "{html}"
    );
    let r = b.get("/area/flussi/esempio?ente=ARCA-JON").await;
    assert_eq!(r.status(), 200);
    let byte = r.bytes().await.unwrap().to_vec();
    let t = token(&app, "ARCA-JON", &[dominio::Area::Patrimonio]).await;
    let r = carica(&app, &t, byte).await;
    assert_eq!(r.status(), 202, "un file nuovo, non quello già accettato");
    let id = json(r).await["id"].as_i64().unwrap();
    assert_eq!(attendi_validazione(&app, id, &t).await["stato"], "valido");
    let d = json(api(&app, &format!("/api/v1/flussi/{id}/differenze"), Some(&t)).await).await;
    let u = &d["conteggi"]["unita"];
    assert!(
        u["aggiunti"].as_u64() > Some(0)
            && u["modificati"].as_u64() > Some(0)
            && u["rimossi"].as_u64() > Some(0),
        "{d}"
    );
    // Not offered where the development login is off.
    let prod = TestApp::con(Opzioni {
        accesso_sviluppo: Some(false),
        ..Default::default()
    })
    .await;
    let e = dominio::CodiceEnte::parse("ARCA-JON").unwrap();
    let s = dominio::Soggetto::Token {
        id: 0,
        ente: e.clone(),
        aree: vec![dominio::Area::Patrimonio],
    };
    assert!(matches!(
        prod.p.esempio_patrimonio(&s, &e).await,
        Err(servizi::ErroreServizio::NonTrovato)
    ));
}

#[tokio::test]
async fn rimozioni_oltre_la_soglia_chiedono_il_motivo_e_accettare_chiede_conferma() {
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let regione = token(&app, "REGIONE", &[]).await;
    let invia = |id: i64, corpo: Option<serde_json::Value>| {
        let (app, t) = (&app, andria.clone());
        async move { post(app, &format!("/api/v1/flussi/{id}/invio"), &t, corpo).await }
    };

    // A first register of 300 units, accepted.
    carica_e_accetta(&app, &andria, flusso_demo("110001", 300, 0), (2025, 1, 15)).await;

    // A small removal (the next version drops a few units) needs no reason.
    let id1 = json(carica(&app, &andria, flusso_demo("110001", 300, 1)).await).await["id"]
        .as_i64()
        .unwrap();
    attendi_validazione(&app, id1, &andria).await;
    let d = json(
        api(
            &app,
            &format!("/api/v1/flussi/{id1}/differenze"),
            Some(&andria),
        )
        .await,
    )
    .await;
    let (rim, att) = (
        d["conteggi"]["unita"]["rimossi"].as_u64().unwrap(),
        d["conteggi"]["unita"]["attuali"].as_u64().unwrap(),
    );
    assert!(rim > 0 && rim <= 30 && att == 300, "{d}");

    // A register of 40 units would wipe most of the 300: the reason is required.
    let id2 = json(carica(&app, &andria, flusso_demo("110001", 40, 0)).await).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        attendi_validazione(&app, id2, &andria).await["stato"],
        "valido"
    );
    let d = json(
        api(
            &app,
            &format!("/api/v1/flussi/{id2}/differenze"),
            Some(&andria),
        )
        .await,
    )
    .await;
    let rimossi = d["conteggi"]["unita"]["rimossi"].as_u64().unwrap();
    assert!(rimossi > 50, "{d}");
    for corpo in [
        None,
        Some(serde_json::json!({"motivazione_rimozioni": "  "})),
    ] {
        let r = invia(id2, corpo).await;
        assert_eq!(r.status(), 422);
        let p = json(r).await;
        let dettaglio = p["detail"].as_str().unwrap();
        assert!(
            dettaglio.contains(&format!("{rimossi} unità immobiliari su 300"))
                && dettaglio.contains("motivazione_rimozioni"),
            "{p}"
        );
    }
    let f = json(api(&app, &format!("/api/v1/flussi/{id2}"), Some(&andria)).await).await;
    assert_eq!(f["stato"], "valido");

    // The referent's page shows the removals and asks the reason; the form without it is
    // sent back to the page, with it the flow is submitted.
    let (_, rp, _) = app.persone("110001");
    let b = app.come(&rp).await;
    let pagina = format!("/area/flussi/{id2}");
    let (_, html) = b.testo(&pagina).await;
    assert!(
        html.contains(&format!(
            "<strong>{rimossi} unità immobiliari</strong> su 300"
        )) && html.contains("name=\"motivazione_rimozioni\""),
        "{html}"
    );
    let azione = format!("/area/flussi/{id2}/invio");
    let r = b
        .post_form(&pagina, &azione, &[("conferma_avvisi", "si")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/area/flussi/{id2}?esito=motivazione_rimozioni#invio").as_str()
    );
    let motivo = "Alloggi trasferiti alla ARCA con la delibera 12 del 2026.";
    let r = b
        .post_form(
            &pagina,
            &azione,
            &[("conferma_avvisi", "si"), ("motivazione_rimozioni", motivo)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let f = json(api(&app, &format!("/api/v1/flussi/{id2}"), Some(&regione)).await).await;
    assert_eq!(
        (f["stato"].as_str(), f["motivazione_rimozioni"].as_str()),
        (Some("inviato"), Some(motivo))
    );
    let d = json(
        api(
            &app,
            &format!("/api/v1/flussi/{id2}/differenze"),
            Some(&regione),
        )
        .await,
    )
    .await;
    assert_eq!(d["motivazione_rimozioni"], motivo);

    // The Region reads the reason beside the difference, and accepting asks a confirmation
    // that shows the counts.
    let r = app.come(&app.istruttore()).await;
    for p in [
        pagina.clone(),
        format!("/area/flussi/{id2}/differenze?tabella=unita&tipo=rimosso"),
    ] {
        let (_, html) = r.testo(&p).await;
        assert!(html.contains(motivo), "{p}: {html}");
    }
    let (_, html) = r.testo(&pagina).await;
    assert!(
        html.contains(&format!("href=\"/area/flussi/{id2}/accettazione\"")),
        "{html}"
    );
    let conferma = format!("/area/flussi/{id2}/accettazione");
    let (s, html) = r.testo(&conferma).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("riepilogo-accettazione")
            && html.contains(&format!("<strong class=\"text-danger\">{rimossi}</strong>"))
            && html.contains(motivo),
        "{html}"
    );
    let r2 = r.post_form(&conferma, &conferma, &[]).await;
    assert_eq!(r2.status(), 303);
    assert_eq!(
        r2.headers()["location"],
        format!("{conferma}?esito=conferma_mancante").as_str()
    );
    let f = json(api(&app, &format!("/api/v1/flussi/{id2}"), Some(&regione)).await).await;
    assert_eq!(f["stato"], "inviato", "accettato senza conferma");
    let r2 = r
        .post_form(&conferma, &conferma, &[("conferma", "si")])
        .await;
    assert_eq!(r2.status(), 303);
    assert_eq!(
        r2.headers()["location"],
        format!("/area/flussi/{id2}?esito=accettato").as_str()
    );
    let f = json(api(&app, &format!("/api/v1/flussi/{id2}"), Some(&regione)).await).await;
    assert_eq!(f["stato"], "accettato");
    // Only an inviato flow has a confirmation page; the entity has none.
    assert_eq!(r.testo(&conferma).await.0, 409);
    assert_eq!(b.testo(&conferma).await.0, 403);
}

async fn carica_con_nome(app: &TestApp, t: &str, nome: &str, byte: Vec<u8>) -> i64 {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/flussi?dominio=patrimonio", app.url))
        .query(&[("nome", nome)])
        .bearer_auth(t)
        .header("content-type", "application/zip")
        .body(byte)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    json(r).await["id"].as_i64().unwrap()
}

#[tokio::test]
async fn ritiro_prima_dell_invio_e_file_originale() {
    let app = TestApp::con(Opzioni {
        lavori_paralleli: Some(0),
        ..Default::default()
    })
    .await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let bari = token(&app, "072006", &[dominio::Area::Patrimonio]).await;
    let regione = token(&app, "REGIONE", &[]).await;

    // Withdrawn while its validation still waits: the job then ends without validating.
    let byte = flusso_demo("110001", 30, 0);
    let nome = "Patrimonio \"2026\"; città.zip";
    let id = carica_con_nome(&app, &andria, nome, byte.clone()).await;
    let ritiro = format!("/api/v1/flussi/{id}/ritiro");
    assert_eq!(post(&app, &ritiro, &bari, None).await.status(), 404);
    assert_eq!(post(&app, &ritiro, &regione, None).await.status(), 403);
    let r = post(&app, &ritiro, &andria, None).await;
    assert_eq!(r.status(), 200);
    let f = json(r).await;
    assert_eq!(f["stato"], "ritirato");
    assert!(f["ritirato_il"].is_string(), "{f}");
    assert_eq!(post(&app, &ritiro, &andria, None).await.status(), 409);
    app.p.esegui_coda().await.unwrap();
    let f = json(api(&app, &format!("/api/v1/flussi/{id}"), Some(&andria)).await).await;
    assert_eq!(f["stato"], "ritirato", "{f}");
    let l = app.p.db().lavori_di(id).await.unwrap();
    assert_eq!(l[0].stato, "fatto", "{l:?}");
    let p = json(post(&app, &format!("/api/v1/flussi/{id}/invio"), &andria, None).await).await;
    assert_eq!(p["status"], 409, "{p}");

    // Its original file stays readable by the entity and the Region, byte for byte, with a
    // name that cannot break the header; not by another entity.
    for t in [&andria, &regione] {
        let r = api(&app, &format!("/api/v1/flussi/{id}/originale"), Some(t)).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/octet-stream");
        let cd = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            cd,
            format!(
                "attachment; filename=\"flusso-{id}-Patrimonio__2026___citt_.zip\"; filename*=UTF-8''flusso%2D{id}%2DPatrimonio%20%222026%22%3B%20citt%C3%A0%2Ezip"
            )
        );
        assert_eq!(r.bytes().await.unwrap().to_vec(), byte);
    }
    assert_eq!(
        api(&app, &format!("/api/v1/flussi/{id}/originale"), Some(&bari))
            .await
            .status(),
        404
    );

    // A validated flow withdrawn from the page: its report stays; once submitted, no more.
    let id2 = json(carica(&app, &andria, flusso_demo("110001", 31, 0)).await).await["id"]
        .as_i64()
        .unwrap();
    app.p.esegui_coda().await.unwrap();
    let (_, rp, _) = app.persone("110001");
    let b = app.come(&rp).await;
    let pagina = format!("/area/flussi/{id2}");
    let (_, html) = b.testo(&pagina).await;
    assert!(
        html.contains(&format!("action=\"/area/flussi/{id2}/ritiro\""))
            && html.contains(&format!("href=\"/area/flussi/{id2}/originale\"")),
        "{html}"
    );
    let r = b
        .post_form(&pagina, &format!("/area/flussi/{id2}/ritiro"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/area/flussi/{id2}?esito=ritirato").as_str()
    );
    let (s, html) = b.testo(&pagina).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("id=\"flusso-ritirato\"") && html.contains("Rapporto di validazione"),
        "{html}"
    );
    assert!(!html.contains("/ritiro\""), "{html}");
    assert_eq!(
        api(&app, &format!("/api/v1/flussi/{id2}/report"), Some(&andria))
            .await
            .status(),
        200
    );
    let r = b.get(&format!("/area/flussi/{id2}/originale")).await;
    assert_eq!(r.status(), 200);
    assert!(!r.bytes().await.unwrap().is_empty());

    let id3 = json(carica(&app, &andria, flusso_demo("110001", 32, 0)).await).await["id"]
        .as_i64()
        .unwrap();
    app.p.esegui_coda().await.unwrap();
    assert_eq!(
        post(&app, &format!("/api/v1/flussi/{id3}/invio"), &andria, None)
            .await
            .status(),
        200
    );
    let r = post(&app, &format!("/api/v1/flussi/{id3}/ritiro"), &andria, None).await;
    assert_eq!(r.status(), 409);
    assert!(
        json(r).await["detail"]
            .as_str()
            .unwrap()
            .contains("già stato inviato"),
    );
    let voci = app.p.db().azioni_audit().await.unwrap();
    assert!(voci.iter().any(|v| v == "flusso.ritirato"), "{voci:?}");
}
