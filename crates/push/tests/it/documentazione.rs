//! The public documentation generated from the specs, its downloads, and the public validator.

use std::sync::Arc;

use flussi::lettori::dati::Dati;

use crate::aiuto::{Opzioni, TestApp};
use servizi::config::Strato;

#[tokio::test]
async fn pagine_generate_dalla_definizione() {
    let app = TestApp::nuova().await;
    let b = app.browser();
    for nome in flussi::spec::DOMINI {
        let d = flussi::spec::dominio(nome).unwrap();
        let (s, html) = b.testo(&format!("/documentazione/{nome}")).await;
        assert_eq!(s, 200);
        for t in &d.tabelle {
            assert!(
                html.contains(&format!("id=\"tabella-{}\"", t.nome)),
                "{nome}: tabella {}",
                t.nome
            );
            for c in &t.campi {
                assert!(
                    html.contains(&format!("<code>{}</code>", c.nome)),
                    "{nome}.{}.{}",
                    t.nome,
                    c.nome
                );
            }
        }
        for c in &d.controlli {
            assert!(
                html.contains(&format!("<code>{}</code>", c.codice)),
                "{nome}: controllo {}",
                c.codice
            );
        }
    }
    assert_eq!(b.get("/documentazione/sconosciuto").await.status(), 404);
}

#[tokio::test]
async fn scaricamenti() {
    let app = TestApp::nuova().await;
    let b = app.browser();
    let r = b.get("/documentazione/patrimonio/modello.xlsx").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("push-patrimonio-modello.xlsx")
    );
    let byte = r.bytes().await.unwrap().to_vec();
    // The blank template is read by the validator: the sheets are the tables, LEGGIMI is ignored.
    let d = flussi::spec::dominio("patrimonio").unwrap();
    let rep = flussi::valida_file(
        "modello.xlsx",
        Dati::Byte(Arc::new(byte)),
        d,
        &flussi::Opzioni::new(dominio::orologio::oggi()),
        None,
    );
    assert_eq!(
        rep.conteggi.get("tabella_vuota"),
        Some(&2),
        "{:?}",
        rep.segnalazioni
    );
    assert!(!rep.conteggi.contains_key("tabella_sconosciuta"));
    let r = b.get("/documentazione/contabilita/datapackage.json").await;
    let j: serde_json::Value = r.json().await.unwrap();
    let nomi: Vec<&str> = j["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        nomi,
        [
            "interventi",
            "sal",
            "erogazioni",
            "pagamenti",
            "interventi_fabbricati"
        ]
    );
    assert!(
        j["x-push-controlli"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["codice"] == "cumulato_errato")
    );
    let r = b.get("/documentazione/programmi/modello-csv.zip").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
}

fn genera_zip(unita: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.zip");
    flussi::genera::genera_patrimonio(
        &flussi::genera::OpzioniGenera {
            unita,
            seme: 7,
            ente: "110001".into(),
        },
        flussi::genera::FormatoGenerato::ZipCsv,
        &f,
    )
    .unwrap();
    std::fs::read(f).unwrap()
}

async fn carica(
    app: &TestApp,
    csrf: Option<&str>,
    dominio: &str,
    nome: &str,
    byte: Vec<u8>,
    formato: &str,
) -> reqwest::Response {
    let b = app.browser();
    let t = match csrf {
        Some(t) => t.to_string(),
        None => b.csrf("/documentazione/validatore").await,
    };
    let form = reqwest::multipart::Form::new()
        .text("_csrf", t)
        .text("dominio", dominio.to_string())
        .text("ente", "110001")
        .text("formato", formato.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(byte).file_name(nome.to_string()),
        );
    b.c.post(format!("{}/documentazione/validatore", app.url))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn validatore_pubblico_senza_conservare_nulla() {
    let app = TestApp::nuova().await;
    let voci_prima = app
        .p
        .db()
        .voci_audit(&archivio::FiltroAudit {
            limite: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    let file_prima = std::fs::read_dir(&app.data_dir).unwrap().count();

    let r = carica(
        &app,
        None,
        "patrimonio",
        "patrimonio.zip",
        genera_zip(200),
        "pagina",
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Il file è <strong>valido</strong>"), "{html}");

    // A file with mistakes: the page lists them by row and field.
    let mut cattivo = Vec::new();
    {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut cattivo));
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("fabbricati.csv", o).unwrap();
        z.write_all(b"codice_fabbricato;comune_istat;indirizzo;titolo_possesso\nF1;110001;Via Roma;PROPRIETA\n").unwrap();
        z.start_file("unita.csv", o).unwrap();
        z.write_all(b"codice_unita;codice_fabbricato;tipologia;foglio;particella;subalterno;categoria_catastale;regime;stato_occupazione\nU1;F1;BOX;1;2;1a;C/6;ERS;SFITTO_ASSEGNABILE\n").unwrap();
        z.finish().unwrap();
    }
    let r = carica(
        &app,
        None,
        "patrimonio",
        "errato.zip",
        cattivo.clone(),
        "pagina",
    )
    .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("non è valido"));
    assert!(
        html.contains("<td>unita</td><td>2</td><td>subalterno</td><td>1a</td>"),
        "{html}"
    );
    let r = carica(
        &app,
        None,
        "patrimonio",
        "errato.zip",
        cattivo.clone(),
        "csv",
    )
    .await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("tabella,riga,campo,valore,codice,gravita,messaggio"));
    assert!(csv.contains("unita,2,subalterno,1a,formato,errore"));
    let r = carica(
        &app,
        None,
        "patrimonio",
        "errato.zip",
        cattivo.clone(),
        "json",
    )
    .await;
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["valido"], false);

    // Without the form's token: refused.
    let r = carica(
        &app,
        Some("falso"),
        "patrimonio",
        "errato.zip",
        cattivo,
        "pagina",
    )
    .await;
    assert_eq!(r.status(), 403);

    // Nothing was stored: no audit entry, no file in the data directory.
    let voci_dopo = app
        .p
        .db()
        .voci_audit(&archivio::FiltroAudit {
            limite: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    assert_eq!(voci_prima, voci_dopo);
    assert_eq!(
        file_prima,
        std::fs::read_dir(&app.data_dir).unwrap().count()
    );
}

#[tokio::test]
async fn validatore_pubblico_rifiuta_file_troppo_grandi() {
    let app = TestApp::nuova().await;
    let grande = vec![b'a'; web::pagine::documentazione::LIMITE_VALIDATORE + 2 * 1024 * 1024];
    let r = carica(&app, None, "patrimonio", "grande.csv", grande, "pagina").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("50 MB"));
}

/// A small file for the public validator (its report says it is not valid: the page is 200).
async fn prova(app: &TestApp) -> reqwest::Response {
    carica(
        app,
        None,
        "patrimonio",
        "prova.csv",
        b"a\n1\n".to_vec(),
        "pagina",
    )
    .await
}

/// The public validator runs a bounded number of anonymous validations at once: while one file
/// is still arriving, another is refused at once (503, Italian, `Retry-After`), not queued;
/// when the first ends the place is free again.
#[tokio::test]
async fn validatore_pubblico_limita_le_validazioni_simultanee() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            validatore_simultanei: Some(1),
            validatore_al_minuto: Some(1000),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    // A slow upload: headers and the start of the file, then nothing.
    let indirizzo = app.url.trim_start_matches("http://").to_string();
    let mut lento = tokio::net::TcpStream::connect(&indirizzo).await.unwrap();
    let inizio =
        "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nabc";
    lento
        .write_all(
            format!(
                "POST /documentazione/validatore HTTP/1.1\r\nHost: {indirizzo}\r\n\
                 Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 100000\r\n\r\n{inizio}"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    lento.flush().await.unwrap();
    let mut rifiutata = None;
    for _ in 0..200 {
        let r = prova(&app).await;
        if r.status() == 503 {
            rifiutata = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = rifiutata.expect("a second validation while the first holds the only place is refused");
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("30")
    );
    let testo = r.text().await.unwrap();
    assert!(testo.contains("Validatore occupato"), "{testo}");
    assert!(testo.contains("riprovi tra 30 secondi"), "{testo}");
    // The slow client goes away: its place is given back.
    drop(lento);
    let mut stato = 0;
    for _ in 0..200 {
        stato = prova(&app).await.status().as_u16();
        if stato == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stato, 200);
}

/// A body trickled to the public validator (one byte every 200 ms) holds its only place only
/// until the body's total time runs out: then 408, in Italian, and the place is free again.
/// Before the body timeouts the trickling client held the place as long as it liked.
#[tokio::test]
async fn un_corpo_lento_libera_il_posto_del_validatore() {
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            validatore_simultanei: Some(1),
            validatore_al_minuto: Some(1000),
            durata_corpo_s: Some(3),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let inizio = "POST /documentazione/validatore HTTP/1.1\r\nHost: x\r\n\
                  Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 100000\r\n\r\n\
                  --X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na";
    let lento = crate::aiuto::corpo_lento(
        &app,
        inizio,
        Some(std::time::Duration::from_millis(200)),
        std::time::Duration::from_secs(20),
    );
    tokio::pin!(lento);
    // While the body trickles, the only place is taken.
    let mut occupato = false;
    for _ in 0..40 {
        tokio::select! {
            _ = &mut lento => break,
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
        }
        if prova(&app).await.status() == 503 {
            occupato = true;
            break;
        }
    }
    assert!(occupato, "il corpo lento non ha mai occupato il posto");
    let risposta = lento
        .await
        .expect("la connessione lenta è ancora aperta dopo 20 s");
    assert!(risposta.starts_with("HTTP/1.1 408"), "{risposta}");
    assert!(risposta.contains("Invio troppo lento"), "{risposta}");
    // The place is free again at once.
    assert_eq!(prova(&app).await.status(), 200);
}

/// One client may send only so many files a minute to the public validator: then 429, in
/// Italian, with `Retry-After`.
#[tokio::test]
async fn validatore_pubblico_limita_i_file_per_client() {
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            validatore_al_minuto: Some(2),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        let r = prova(&app).await;
        assert_eq!(r.status(), 200);
    }
    let r = prova(&app).await;
    assert_eq!(r.status(), 429);
    let attesa: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=31).contains(&attesa), "{attesa}");
    let testo = r.text().await.unwrap();
    assert!(testo.contains("Troppi file in poco tempo"), "{testo}");
    assert!(
        testo.contains(&format!("Attenda {attesa} secondi")),
        "{testo}"
    );
}

/// A form with two file parts is refused (400, Italian), as the flow upload does: the
/// validator never checks one of them silently.
#[tokio::test]
async fn validatore_pubblico_rifiuta_due_file() {
    let app = TestApp::nuova().await;
    let b = app.browser();
    let t = b.csrf("/documentazione/validatore").await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", t)
        .text("dominio", "patrimonio")
        .part(
            "file",
            reqwest::multipart::Part::bytes(genera_zip(5)).file_name("primo.zip"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"a\n1\n".to_vec()).file_name("secondo.csv"),
        );
    let r =
        b.c.post(format!("{}/documentazione/validatore", app.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Si può caricare un solo file per volta"),
        "{html}"
    );
}
