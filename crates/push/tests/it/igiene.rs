//! Server hygiene: a panic becomes the Italian error page, slow headers do not hold a
//! connection, the request id is always ours, and the data directory is the owner's only.

use std::time::Duration;

use axum::routing::get;
use servizi::config::{Segreto, Strato};
use servizi::{Config, Piattaforma};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::aiuto::{Opzioni, TestApp, database_nuovo, url_postgres};

async fn guasto() -> &'static str {
    panic!("guasto di prova")
}

#[tokio::test]
async fn un_panico_diventa_la_pagina_di_errore_e_il_server_continua() {
    let app = TestApp::nuova().await;
    let aggiunte = axum::Router::new()
        .route("/prova/guasto", get(guasto))
        .route("/api/v1/prova/guasto", get(guasto));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(web::ascolto::ascolta(
        web::router_con(app.p.clone(), aggiunte),
        listener,
        Duration::from_secs(10),
        std::future::pending(),
    ));
    let c = reqwest::Client::new();
    let r = c.get(format!("{url}/prova/guasto")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Errore interno") && html.contains(&id),
        "{html}"
    );
    assert!(!html.contains("guasto di prova"), "la causa resta nei log");
    let r = c
        .get(format!("{url}/api/v1/prova/guasto"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["request_id"], id.as_str(), "{p}");
    // The same server goes on serving.
    let r = c.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    server.abort();
}

#[tokio::test]
async fn una_connessione_con_intestazioni_lente_viene_chiusa() {
    let app = TestApp::con(Opzioni {
        attesa_intestazioni_s: Some(1),
        ..Default::default()
    })
    .await;
    let addr = app.url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A request line and one header, then nothing (a slowloris client).
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let letto = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(
        letto.is_ok(),
        "la connessione è ancora aperta dopo 10 s (attesa configurata: 1 s)"
    );
    // A complete request on a new connection is served as usual.
    assert_eq!(app.browser().get("/").await.status(), 200);
}

#[tokio::test]
async fn il_codice_della_richiesta_e_sempre_nostro() {
    let app = TestApp::nuova().await;
    let falso = "falso-<b>codice</b>";
    for percorso in ["/pagina-inesistente", "/api/v1/flussi/1", "/"] {
        let r = reqwest::Client::new()
            .get(format!("{}{percorso}", app.url))
            .header("x-request-id", falso)
            .send()
            .await
            .unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{percorso}: {id}");
        let corpo = r.text().await.unwrap();
        assert!(!corpo.contains("falso-"), "{percorso}: {corpo}");
    }
}

/// Every directory 0700 and every file 0600 under `p`; returns how many files were checked.
fn controlla_permessi(p: &std::path::Path) -> usize {
    use std::os::unix::fs::PermissionsExt;
    let m = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    if p.is_dir() {
        assert_eq!(m, 0o700, "{} ha permessi {m:o}", p.display());
        std::fs::read_dir(p)
            .unwrap()
            .map(|v| controlla_permessi(&v.unwrap().path()))
            .sum()
    } else {
        assert_eq!(m, 0o600, "{} ha permessi {m:o}", p.display());
        1
    }
}

#[tokio::test]
async fn i_file_dei_dati_sono_leggibili_solo_dal_proprietario() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dati");
    // A data directory left open by an older version (or by hand) is tightened.
    std::fs::create_dir(&data_dir).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let database_url = match url_postgres() {
        Some(_) => Some(Segreto::new(database_nuovo(dir.path()).await)),
        // SQLite: the default, inside the data directory.
        None => None,
    };
    let config = Config::risolvi(Strato {
        data_dir: Some(data_dir.clone()),
        database_url,
        attesa_lavori_ms: Some(100),
        ..Default::default()
    })
    .unwrap();
    let p = Piattaforma::avvia(config).await.unwrap();
    p.carica_demo_senza_flussi(servizi::demo::Scenario::Marzo2018, false)
        .await
        .unwrap();
    // An uploaded flow, validated: its original and its derived files (report, rows).
    let zip = dir.path().join("f.zip");
    servizi::demo::flusso_demo("110001", 20, 0, &zip).unwrap();
    let mut r = p.deposito.ricevi(u64::MAX).unwrap();
    r.scrivi(&std::fs::read(&zip).unwrap()).unwrap();
    let ente = dominio::CodiceEnte::parse("110001").unwrap();
    let s = dominio::Soggetto::Token {
        id: 1,
        ente: ente.clone(),
        aree: vec![dominio::Area::Patrimonio],
    };
    let c = p
        .carica_flusso(
            &s,
            &ente,
            dominio::DominioFlusso::Patrimonio,
            "patrimonio.zip",
            r.chiudi().unwrap(),
        )
        .await
        .unwrap();
    p.esegui_coda().await.unwrap();
    let f = p.db().flusso(c.flusso.id).await.unwrap().unwrap();
    assert_eq!(f.stato, "valido");
    let n = controlla_permessi(&data_dir);
    let attesi = if url_postgres().is_some() { 3 } else { 5 };
    assert!(n >= attesi, "solo {n} file controllati");
    assert!(data_dir.join("oggetti").exists() && data_dir.join("derivati").exists());
    if url_postgres().is_none() {
        assert!(data_dir.join("push.sqlite").exists());
        assert!(data_dir.join("segreto-sessione").exists());
    }
    p.db().chiudi().await;
    if let Some(admin) = url_postgres() {
        elimina_database(&admin, p.config.database_url.esponi()).await;
    }
}

/// Drops a test database made by [`database_nuovo`].
async fn elimina_database(admin: &str, url: &str) {
    use sqlx::Connection;
    let nome = url.rsplit('/').next().unwrap_or_default();
    if !nome.starts_with("push_t_") {
        return;
    }
    let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {nome} WITH (FORCE)"
    )))
    .execute(&mut c)
    .await
    .unwrap();
}
