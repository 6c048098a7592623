//! Development login, logout, sessions shared across instances, production mode.

use servizi::config::Modalita;

use crate::aiuto::{Opzioni, TestApp};

#[tokio::test]
async fn accesso_di_sviluppo_e_uscita() {
    let app = TestApp::nuova().await;
    let b = app.browser();
    let (_, html) = b.testo("/").await;
    assert!(
        html.contains("Ambiente di sviluppo"),
        "il banner è visibile in sviluppo"
    );
    let (_, html) = b.testo("/accesso").await;
    assert!(html.contains("Accesso di sviluppo"));
    let b = app.come(&app.admin()).await;
    let r = b.get("/area").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("amministratore regionale"));
    // The session cookie is HttpOnly and SameSite=Lax.
    let r = app
        .browser()
        .post_form("/accesso", "/accesso/sviluppo", &[("cf", &app.admin())])
        .await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("push_sessione="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "niente Secure su http");

    let r = b.post_form("/area", "/esci", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        b.get("/area").await.status(),
        303,
        "dopo l'uscita si torna all'accesso"
    );
}

#[tokio::test]
async fn accesso_di_sviluppo_di_persona_sconosciuta() {
    let app = TestApp::nuova().await;
    let r = app
        .browser()
        .post_form(
            "/accesso",
            "/accesso/sviluppo",
            &[("cf", "RSSMRA80A01H501U")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .browser()
        .post_form("/accesso", "/accesso/sviluppo", &[("cf", "non-un-cf")])
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn in_produzione_niente_accesso_di_sviluppo() {
    let app = TestApp::con(Opzioni {
        modalita: Modalita::Produzione,
        oidc: Some((
            "http://127.0.0.1:9/".into(),
            "push".into(),
            "segreto".into(),
        )),
        ..Default::default()
    })
    .await;
    let b = app.browser();
    let (_, html) = b.testo("/accesso").await;
    assert!(!html.contains("Accesso di sviluppo"));
    assert!(!html.contains("Ambiente di sviluppo"));
    // No page offers a form to an anonymous visitor in production: post with any token.
    let r = b
        .post_grezzo("/accesso/sviluppo", "x", &[("cf", &app.admin())])
        .await;
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("push_sessione="))
    );
}

#[tokio::test]
async fn una_sessione_di_sviluppo_non_vale_in_produzione() {
    // A session opened in development is refused when the same database is served in production.
    let app = TestApp::nuova().await;
    let b = app.come(&app.admin()).await;
    let prod = TestApp::con(Opzioni {
        modalita: Modalita::Produzione,
        oidc: Some((
            "http://127.0.0.1:9/".into(),
            "push".into(),
            "segreto".into(),
        )),
        demo: None,
        database_url: Some(app.database_url.clone()),
        ..Default::default()
    })
    .await;
    let cookie = b.c.get(format!("{}/area", app.url)).send().await.unwrap();
    assert_eq!(cookie.status(), 200);
    // Same cookie jar against the production instance (same host 127.0.0.1, cookies are per host).
    let r = b.c.get(format!("{}/area", prod.url)).send().await.unwrap();
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn due_istanze_condividono_le_sessioni() {
    let a = TestApp::nuova().await;
    let b = TestApp::con(Opzioni {
        demo: None,
        database_url: Some(a.database_url.clone()),
        ..Default::default()
    })
    .await;
    let browser = a.come(&a.admin()).await;
    // Cookies are per host, not per port: the same jar is valid on the second instance.
    let r = browser
        .c
        .get(format!("{}/area", b.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("amministratore regionale"));
}
