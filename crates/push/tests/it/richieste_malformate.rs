//! Requests axum's extractors refuse (a path id that is not a number, a missing query
//! parameter, a body that is not JSON) answer like every other error: the Italian error page,
//! or `application/problem+json` with an Italian `detail` under `/api/`. Never axum's English
//! `text/plain`.

use crate::aiuto::*;

fn tipo(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn le_pagine_rifiutano_in_italiano() {
    let app = TestApp::nuova().await;
    let (_, rp, _) = app.persone("ARCA-JON");
    let b = app.come(&rp).await;

    // A non-numeric id is no resource: the same 404 as a missing one.
    let r = b.get("/area/flussi/abc").await;
    assert_eq!(r.status(), 404);
    assert!(tipo(&r).starts_with("text/html"), "{}", tipo(&r));
    let html = r.text().await.unwrap();
    assert!(html.contains("Pagina non trovata"), "{html}");
    assert!(!html.contains("Cannot parse"), "{html}");
    let (s, mancante) = b.testo("/area/flussi/999999").await;
    assert_eq!(s, 404);
    assert!(mancante.contains("Pagina non trovata"));

    let r = b.get("/area/flussi/esempio").await;
    assert_eq!(r.status(), 400);
    assert!(tipo(&r).starts_with("text/html"), "{}", tipo(&r));
    let html = senza_escape(&r.text().await.unwrap());
    assert!(html.contains("Richiesta non valida"), "{html}");
    assert!(html.contains("manca il parametro «ente»"), "{html}");
    assert!(!html.contains("missing field"), "{html}");

    // A form that is not multipart, to the public validator.
    let r =
        b.c.post(format!("{}/documentazione/validatore", app.url))
            .header("content-type", "text/plain")
            .body("ciao")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    assert!(tipo(&r).starts_with("text/html"), "{}", tipo(&r));
    let html = senza_escape(&r.text().await.unwrap());
    assert!(
        html.contains("non è un caricamento di file valido"),
        "{html}"
    );
    assert!(!html.contains("boundary`"), "{html}");

    // Anonymous: the reserved area still answers one way, whatever the id looks like.
    let anonimo = app.browser();
    for percorso in ["/area/flussi/abc", "/area/flussi/1"] {
        let r = anonimo.get(percorso).await;
        assert_eq!(r.status(), 303, "{percorso}");
        assert_eq!(r.headers()["location"], "/accesso", "{percorso}");
    }
}

/// The `detail` of a problem+json answer, after checking its content type and status.
async fn problema(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status(), status);
    assert_eq!(tipo(&r), "application/problem+json");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], status);
    v["detail"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn l_api_rifiuta_in_italiano() {
    let app = TestApp::nuova().await;
    let t = token_ente(&app, "ARCA-JON", &[dominio::Area::Patrimonio]).await;

    let d = problema(api(&app, "/api/v1/flussi/abc", Some(&t)).await, 404).await;
    assert!(d.contains("non esiste"), "{d}");

    let d = problema(api(&app, "/api/v1/flussi?limit=tanti", Some(&t)).await, 400).await;
    assert!(d.contains("parametro dell'indirizzo"), "{d}");

    let c = reqwest::Client::new();
    let invio = format!("{}/api/v1/flussi/1/invio", app.url);
    let r = c
        .post(&invio)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{non json")
        .send()
        .await
        .unwrap();
    let d = problema(r, 400).await;
    assert!(d.contains("non è JSON valido"), "{d}");

    let r = c
        .post(&invio)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(r#"{"motivazione_rimozioni": 7}"#)
        .send()
        .await
        .unwrap();
    let d = problema(r, 422).await;
    assert!(d.contains("corpo JSON"), "{d}");

    let r = c
        .post(&invio)
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("ciao")
        .send()
        .await
        .unwrap();
    let d = problema(r, 415).await;
    assert!(d.contains("application/json"), "{d}");

    let r = c
        .post(format!("{}/api/v1/flussi?dominio=patrimonio", app.url))
        .bearer_auth(&t)
        .header("content-type", "multipart/form-data")
        .body("ciao")
        .send()
        .await
        .unwrap();
    let d = problema(r, 400).await;
    assert!(d.contains("non è un caricamento di file valido"), "{d}");
    assert!(!d.contains("Invalid"), "{d}");

    // Without credentials the API still answers 401 first, whatever the id looks like.
    let r = api(&app, "/api/v1/flussi/abc", None).await;
    assert_eq!(r.status(), 401);
}
