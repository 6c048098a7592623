//! `GET /api/v1/enti`, `/healthz`, `/api/v1/openapi.json`.

use crate::aiuto::{TestApp, api};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enti_pubblico_e_regione() {
    let app = TestApp::nuova().await;
    let r = api(&app, "/api/v1/enti?limit=10000", None).await;
    assert_eq!(r.status(), 200);
    let v: Vec<serde_json::Value> = r.json().await.unwrap();
    assert_eq!(v.len(), 263);
    let bari = v.iter().find(|e| e["codice"] == "072006").unwrap();
    assert_eq!(bari["registrato"], true);
    assert!(
        bari.get("pilota").is_none(),
        "il pubblico non vede il dato pilota"
    );
    let chiavi: Vec<&String> = bari.as_object().unwrap().keys().collect();
    assert_eq!(chiavi.len(), 4, "{chiavi:?}");

    let t = String::from_utf8(
        app.push(&["token", "create", "--regione", "--nome", "prova"])
            .stdout,
    )
    .unwrap();
    let r = api(&app, "/api/v1/enti?limit=10000", Some(t.trim())).await;
    let v: Vec<serde_json::Value> = r.json().await.unwrap();
    let bari = v.iter().find(|e| e["codice"] == "072006").unwrap();
    assert_eq!(bari["pilota"], true);
    assert!(bari["ultimo_flusso_accettato"].is_object());
    let pilota = v.iter().filter(|e| e["pilota"] == true).count();
    assert_eq!(pilota, 14);

    // An entity's token gets the public view.
    let t = String::from_utf8(
        app.push(&[
            "token",
            "create",
            "--ente",
            "072006",
            "--area",
            "PATRIMONIO",
        ])
        .stdout,
    )
    .unwrap();
    let v: Vec<serde_json::Value> = api(&app, "/api/v1/enti", Some(t.trim()))
        .await
        .json()
        .await
        .unwrap();
    assert!(v[0].get("pilota").is_none());
}

#[tokio::test]
async fn enti_paginazione_e_csv() {
    let app = TestApp::nuova().await;
    let mut visti = Vec::new();
    let mut prossimo = Some("/api/v1/enti?limit=100".to_string());
    while let Some(p) = prossimo {
        let r = api(&app, &p, None).await;
        assert_eq!(r.status(), 200);
        prossimo = r.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("rel=\"next\""));
            let url = &l[1..l.find('>').unwrap()];
            url.strip_prefix(&app.url).unwrap().to_string()
        });
        let v: Vec<serde_json::Value> = r.json().await.unwrap();
        visti.extend(
            v.into_iter()
                .map(|e| e["codice"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(visti.len(), 263);
    let mut ordinati = visti.clone();
    ordinati.sort();
    ordinati.dedup();
    assert_eq!(ordinati.len(), 263, "nessun duplicato tra le pagine");

    assert_eq!(api(&app, "/api/v1/enti?limit=0", None).await.status(), 400);
    let r = api(&app, "/api/v1/enti?limit=20000", None).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/enti?limit=5", app.url))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with(
            "codice,denominazione,tipo,registrato\r\n071001,Comune di Accadia,COMUNE,false"
        ),
        "{csv}"
    );
}

#[tokio::test]
async fn token_sbagliato_401_problem_json() {
    let app = TestApp::nuova().await;
    for t in ["push_nonesiste", "qualcosa", ""] {
        let r = api(&app, "/api/v1/enti", Some(t)).await;
        assert_eq!(r.status(), 401, "{t}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["status"], 401);
        assert!(p["detail"].as_str().unwrap().contains("token"));
    }
}

#[tokio::test]
async fn healthz_e_openapi() {
    let app = TestApp::nuova().await;
    let r = api(&app, "/healthz", None).await;
    assert_eq!(r.status(), 200);
    let r = api(&app, "/api/v1/openapi.json", None).await;
    assert_eq!(r.status(), 200);
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/enti"]["get"].is_object());
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
}

#[tokio::test]
async fn database_chiuso_503_con_codice_richiesta() {
    let app = TestApp::nuova().await;
    app.p.db().chiudi().await;
    let r = api(&app, "/healthz", None).await;
    assert_eq!(r.status(), 503);
    let r = app.browser().get("/enti").await;
    assert_eq!(r.status(), 503);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&id),
        "la pagina mostra il codice della richiesta"
    );
    assert!(html.contains("temporaneamente non disponibile"));
    assert!(
        !html.to_lowercase().contains("sqlx") && !html.contains("pool"),
        "nessun dettaglio tecnico: {html}"
    );
}
