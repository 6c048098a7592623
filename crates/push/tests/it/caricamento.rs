//! Hostile multipart uploads on the reserved area's form and the API: every part is bounded,
//! one file per request, no file is written before the CSRF check, and nothing a refused or
//! interrupted request received stays in the data directory.

use std::time::{Duration, SystemTime};

use crate::aiuto::{Browser, TestApp, token_ente};
use reqwest::multipart::{Form, Part};

/// Every file the uploads may have left: partial ones and kept originals.
fn file_ricevuti(app: &TestApp) -> usize {
    fn conta(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|d| {
                d.flatten()
                    .map(|v| {
                        if v.path().is_dir() {
                            conta(&v.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    conta(&app.data_dir.join("in-arrivo")) + conta(&app.data_dir.join("oggetti"))
}

async fn token_andria(app: &TestApp) -> String {
    token_ente(app, "110001", &[dominio::Area::Patrimonio]).await
}

fn parte_file(byte: &[u8]) -> Part {
    Part::bytes(byte.to_vec()).file_name("patrimonio.zip")
}

async fn api_multipart(app: &TestApp, t: &str, form: Form) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/flussi?dominio=patrimonio", app.url))
        .bearer_auth(t)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn referente(app: &TestApp) -> (Browser, String) {
    let (_, rp, _) = app.persone("110001");
    let b = app.come(&rp).await;
    let csrf = b.csrf("/area/flussi").await;
    (b, csrf)
}

async fn modulo(b: &Browser, form: Form) -> reqwest::Response {
    b.c.post(format!("{}/area/flussi", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn un_campo_enorme_e_rifiutato_senza_leggerlo_tutto() {
    let app = TestApp::nuova().await;
    let t = token_andria(&app).await;
    let enorme = "x".repeat(1024 * 1024);
    // API: a 1 MB text part before the file.
    let form = Form::new()
        .text("nota", enorme.clone())
        .part("file", parte_file(b"non un file zip"));
    let r = api_multipart(&app, &t, form).await;
    assert_eq!(r.status(), 413);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("64 KB"), "{p}");
    // The page's form: a 1 MB field, refused before anything else (the CSRF check included).
    let (b, csrf) = referente(&app).await;
    let form = Form::new()
        .text("_csrf", csrf)
        .text("ente", enorme)
        .part("file", parte_file(b"non un file zip"));
    let r = modulo(&b, form).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("supera 64 KB"));
    assert_eq!(file_ricevuti(&app), 0);
}

#[tokio::test]
async fn il_validatore_pubblico_limita_i_campi() {
    let app = TestApp::nuova().await;
    let b = app.browser();
    let csrf = b.csrf("/documentazione/validatore").await;
    let form = Form::new()
        .text("_csrf", csrf)
        .text("dominio", "patrimonio")
        .text("ente", "x".repeat(1024 * 1024))
        .part("file", parte_file(b"non un file zip"));
    let r =
        b.c.post(format!("{}/documentazione/validatore", app.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("supera 64 KB"));
}

#[tokio::test]
async fn un_secondo_file_e_rifiutato_e_nessuno_resta() {
    let app = TestApp::nuova().await;
    let t = token_andria(&app).await;
    let form = Form::new()
        .part("file", parte_file(&vec![b'a'; 300 * 1024]))
        .part("file", parte_file(b"secondo"));
    let r = api_multipart(&app, &t, form).await;
    assert_eq!(r.status(), 400);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(
        p["detail"].as_str().unwrap().contains("un solo file"),
        "{p}"
    );
    let (b, csrf) = referente(&app).await;
    let form = Form::new()
        .text("_csrf", csrf)
        .part("file", parte_file(&vec![b'a'; 300 * 1024]))
        .part("file", parte_file(b"secondo"));
    let r = modulo(&b, form).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("un solo file"));
    assert_eq!(
        file_ricevuti(&app),
        0,
        "file rimasti nella cartella dei dati"
    );
    assert!(app.p.db().flusso(1).await.unwrap().is_none());
}

#[tokio::test]
async fn nessun_file_conservato_senza_un_token_csrf_valido_prima() {
    let app = TestApp::nuova().await;
    let (b, csrf) = referente(&app).await;
    // The token after the file: the file is refused before it is written.
    let form = Form::new()
        .part("file", parte_file(b"non un file zip"))
        .text("_csrf", csrf.clone());
    assert_eq!(modulo(&b, form).await.status(), 403);
    // A wrong token, or none.
    let form = Form::new()
        .text("_csrf", "falso")
        .part("file", parte_file(b"non un file zip"));
    assert_eq!(modulo(&b, form).await.status(), 403);
    let form = Form::new().text("ente", "110001");
    assert_eq!(modulo(&b, form).await.status(), 403);
    assert_eq!(file_ricevuti(&app), 0);
    // The page's own order (token first) works.
    let form = Form::new()
        .text("_csrf", csrf)
        .text("ente", "110001")
        .part("file", parte_file(b"non un file zip"));
    let r = modulo(&b, form).await;
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/area/flussi/")
    );
    assert_eq!(file_ricevuti(&app), 1);
}

#[tokio::test]
async fn all_avvio_si_tolgono_gli_avanzi_di_un_arresto_brusco() {
    let app = TestApp::nuova().await;
    let vecchio = SystemTime::now() - Duration::from_secs(48 * 3600);
    let parziale = app.data_dir.join("in-arrivo").join("interrotto.part");
    std::fs::create_dir_all(parziale.parent().unwrap()).unwrap();
    std::fs::write(&parziale, vec![0u8; 1024]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&parziale)
        .unwrap()
        .set_modified(vecchio)
        .unwrap();
    let lavoro = app.data_dir.join("lavoro").join("flusso-7-abc");
    std::fs::create_dir_all(&lavoro).unwrap();
    std::fs::write(lavoro.join("unita.tsv"), b"1\t2").unwrap();
    std::fs::File::open(&lavoro)
        .unwrap()
        .set_modified(vecchio)
        .unwrap();
    // A second server starting on the same data directory.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let p = app.p.clone();
    let server = tokio::spawn(async move {
        let _ = web::servi(p, listener, std::future::pending()).await;
    });
    let mut tolti = false;
    for _ in 0..100 {
        if !parziale.exists() && !lavoro.exists() {
            tolti = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.abort();
    assert!(tolti, "avanzi non rimossi all'avvio");
}

/// A flow upload that trickles (one byte every 200 ms, under the pause limit but past the total
/// time) or stalls (past the pause limit) is cut with an Italian 408, and its partial file is
/// gone. Before the body timeouts both stayed open, each holding a `.part` file.
#[tokio::test]
async fn un_caricamento_troppo_lento_e_interrotto_e_nulla_resta() {
    let app = TestApp::con(crate::aiuto::Opzioni {
        impostazioni: servizi::config::Strato {
            attesa_corpo_s: Some(1),
            durata_caricamento_s: Some(3),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let t = token_andria(&app).await;
    let inizio = format!(
        "POST /api/v1/flussi?dominio=patrimonio HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\
         Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 10000000\r\n\r\n\
         --X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"patrimonio.zip\"\r\n\r\nPK"
    );
    for (caso, goccia) in [
        ("gocciolante", Some(Duration::from_millis(200))),
        ("fermo", None),
    ] {
        let risposta = crate::aiuto::corpo_lento(&app, &inizio, goccia, Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("{caso}: la connessione è ancora aperta dopo 20 s"));
        assert!(risposta.starts_with("HTTP/1.1 408"), "{caso}: {risposta}");
        assert!(
            risposta.contains("application/problem+json"),
            "{caso}: {risposta}"
        );
        assert!(
            risposta.contains("Invio troppo lento"),
            "{caso}: {risposta}"
        );
        assert_eq!(file_ricevuti(&app), 0, "{caso}: il file parziale è rimasto");
    }
    // A normal upload on the same server is received as usual.
    let r = api_multipart(
        &app,
        &t,
        Form::new().part("file", parte_file(b"PK\x03\x04")),
    )
    .await;
    assert_ne!(r.status(), 408);
}
