//! Login through a real OpenID Connect provider: node's certified `oidc-provider`, started on
//! loopback by this test (`tests-node/oidc-provider.mjs`). Needs Node.js and
//! `npm ci` in `tests-node/`: `.ci/run` provides both and runs these with `--include-ignored`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::aiuto::{Opzioni, TestApp};

struct Fornitore {
    issuer: String,
    figlio: Child,
}

impl Drop for Fornitore {
    fn drop(&mut self) {
        let _ = self.figlio.kill();
        let _ = self.figlio.wait();
    }
}

fn avvia_fornitore(redirect: &str) -> Fornitore {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests-node");
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "eseguire `npm ci` in tests-node (lo fa .ci/run)"
    );
    let mut figlio = Command::new("node")
        .arg("oidc-provider.mjs")
        .current_dir(&dir)
        .env("OIDC_PORT", "0")
        .env("OIDC_CLIENT_ID", "push")
        .env("OIDC_CLIENT_SECRET", "segretoditest")
        .env("OIDC_REDIRECT_URI", redirect)
        .env("OIDC_EXIT_ON_STDIN_CLOSE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node non disponibile");
    let out = figlio.stdout.take().expect("stdout");
    let mut riga = String::new();
    BufReader::new(out)
        .read_line(&mut riga)
        .expect("riga dell'issuer");
    let issuer = riga
        .trim()
        .strip_prefix("OIDC_ISSUER=")
        .unwrap_or_else(|| panic!("riga inattesa: {riga}"))
        .to_string();
    Fornitore { issuer, figlio }
}

async fn imposta_account(f: &Fornitore, sub: &str, claims: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/__test/account", f.issuer))
        .json(&serde_json::json!({ "sub": sub, "claims": claims }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Follows the redirects from `/accesso/spid` through the provider; returns the browser and the
/// platform's callback URL (not yet requested).
async fn fino_al_ritorno(app: &TestApp) -> (crate::aiuto::Browser, String) {
    let b = app.browser();
    let mut r = b.get("/accesso/spid").await;
    for _ in 0..10 {
        assert!(
            r.status().is_redirection(),
            "il flusso si è fermato con {}",
            r.status()
        );
        let dove = r.headers()["location"].to_str().unwrap().to_string();
        let assoluto = if dove.starts_with("http") {
            dove
        } else {
            url::Url::parse(r.url().as_str())
                .unwrap()
                .join(&dove)
                .unwrap()
                .to_string()
        };
        if assoluto.starts_with(&format!("{}/accesso/ritorno", app.url)) {
            return (b, assoluto);
        }
        r = b.c.get(&assoluto).send().await.unwrap();
    }
    panic!("il flusso non è tornato alla piattaforma");
}

/// Completes a login: the status of the platform's callback, its `Location` (303) or body, and
/// the browser.
async fn accedi(app: &TestApp) -> (u16, String, crate::aiuto::Browser) {
    let (b, ritorno) = fino_al_ritorno(app).await;
    let fine = b.c.get(&ritorno).send().await.unwrap();
    let s = fine.status().as_u16();
    let loc = fine
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let corpo = fine.text().await.unwrap();
    (s, if s == 303 { loc } else { corpo }, b)
}

async fn app_con_fornitore() -> (TestApp, Fornitore) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let f = avvia_fornitore(&format!("{base}/accesso/ritorno"));
    let app = TestApp::con(Opzioni {
        oidc: Some((f.issuer.clone(), "push".into(), "segretoditest".into())),
        listener: Some(listener),
        ..Default::default()
    })
    .await;
    (app, f)
}

#[tokio::test]
#[ignore = "richiede Node.js e tests-node/node_modules: eseguito da .ci/run"]
async fn accesso_spid_con_i_tre_nomi_del_codice_fiscale() {
    let (app, f) = app_con_fornitore().await;
    let admin = app.admin();
    let casi = [
        (
            "https://attributes.eid.gov.it/fiscal_number",
            format!("TINIT-{admin}"),
        ),
        ("fiscal_number", admin.clone()),
        ("fiscalNumber", format!("TINIT-{}", admin.to_lowercase())),
    ];
    for (nome, valore) in casi {
        imposta_account(
            &f,
            &format!("sub-{nome}"),
            serde_json::json!({ nome: valore, "given_name": "Anna", "family_name": "Esempio" }),
        )
        .await;
        let (s, dove, b) = accedi(&app).await;
        assert_eq!(s, 303, "{nome}: {dove}");
        assert_eq!(dove, "/area");
        let (s, html) = b.testo("/area").await;
        assert_eq!(s, 200);
        assert!(html.contains("amministratore regionale"), "{nome}");
        // The session cookie works on the reserved pages; login is audited.
        assert_eq!(b.get("/area/audit").await.status(), 200);
    }
    let voci = app
        .p
        .db()
        .voci_audit(&archivio::FiltroAudit {
            azione: Some("accesso".into()),
            limite: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(voci.iter().filter(|v| v.dettagli.contains("spid")).count() >= 3);
}

#[tokio::test]
#[ignore = "richiede Node.js e tests-node/node_modules: eseguito da .ci/run"]
async fn nuova_persona_e_codice_fiscale_mancante_o_non_valido() {
    let (app, f) = app_con_fornitore().await;
    // A new person: created at login, with no role, may request a registration.
    imposta_account(&f, "nuovo", serde_json::json!({ "fiscal_number": "TINIT-RSSMRA80A01H501U", "given_name": "Mario", "family_name": "Rossi" })).await;
    let (s, _, b) = accedi(&app).await;
    assert_eq!(s, 303);
    let (_, html) = b.testo("/area").await;
    assert!(
        html.contains("Mario Rossi") && html.contains("Chiedi la registrazione"),
        "{html}"
    );
    assert_eq!(
        app.p
            .db()
            .persona("RSSMRA80A01H501U")
            .await
            .unwrap()
            .unwrap()
            .nome,
        "Mario Rossi"
    );

    // No fiscal number: refused with an Italian message, no session.
    imposta_account(
        &f,
        "senza-cf",
        serde_json::json!({ "given_name": "Ignoto" }),
    )
    .await;
    let (s, corpo, b) = accedi(&app).await;
    assert_eq!(s, 400);
    assert!(corpo.contains("codice fiscale"), "{corpo}");
    assert_eq!(b.get("/area").await.status(), 303);

    // An invalid fiscal number: refused.
    imposta_account(
        &f,
        "cf-errato",
        serde_json::json!({ "fiscalNumber": "TINIT-RSSMRA80A01H501X" }),
    )
    .await;
    let (s, _, _) = accedi(&app).await;
    assert_eq!(s, 400);
}

#[tokio::test]
#[ignore = "richiede Node.js e tests-node/node_modules: eseguito da .ci/run"]
async fn stato_riusato_o_sconosciuto_rifiutato() {
    let (app, f) = app_con_fornitore().await;
    imposta_account(&f, "x", serde_json::json!({ "fiscal_number": app.admin() })).await;
    let b = app.browser();
    let r = b.get("/accesso/ritorno?code=abc&state=inventato").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("scaduta o non è valida"));
    // A real state can be used once only: replaying the callback fails.
    let (b, ritorno) = fino_al_ritorno(&app).await;
    assert_eq!(b.c.get(&ritorno).send().await.unwrap().status(), 303);
    assert_eq!(b.c.get(&ritorno).send().await.unwrap().status(), 400);
}

#[tokio::test]
#[ignore = "richiede Node.js e tests-node/node_modules: eseguito da .ci/run"]
async fn ritorno_catturato_non_vale_in_un_altro_browser() {
    let (app, f) = app_con_fornitore().await;
    imposta_account(
        &f,
        "attaccante",
        serde_json::json!({ "fiscal_number": app.admin() }),
    )
    .await;
    // The attacker logs in as far as the callback and keeps its URL.
    let (attaccante, ritorno) = fino_al_ritorno(&app).await;
    // The victim's browser, sent to that URL: without the starting browser's cookie, and
    // also with a cookie of its own login, it is refused and gets no session.
    let (vittima_con_accesso, _) = fino_al_ritorno(&app).await;
    for vittima in [app.browser(), vittima_con_accesso] {
        let r = vittima.c.get(&ritorno).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(
            !r.headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("push_sessione=")),
            "nessuna sessione"
        );
        assert!(r.text().await.unwrap().contains("scaduta o non è valida"));
        assert_eq!(vittima.get("/area").await.status(), 303, "non è entrato");
    }
    // The browser that started the login still completes it, once; its cookie is cleared.
    let r = attaccante.c.get(&ritorno).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers().get_all("set-cookie").iter().any(|c| c
            .to_str()
            .unwrap()
            .starts_with("push_accesso=;")
            && c.to_str().unwrap().contains("Max-Age=0")),
        "{:?}",
        r.headers()
    );
    assert_eq!(attaccante.get("/area").await.status(), 200);
}

#[tokio::test]
#[ignore = "richiede Node.js e tests-node/node_modules: eseguito da .ci/run"]
async fn il_cookie_dell_accesso_e_http_only_e_lax() {
    let (app, _f) = app_con_fornitore().await;
    let r = app.browser().get("/accesso/spid").await;
    assert!(r.status().is_redirection());
    let c = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("push_accesso="))
        .expect("cookie dell'accesso");
    // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
    assert!(c.contains("Max-Age=900"), "{c}");
    assert!(c.len() > "push_accesso=".len() + 40, "{c}");
}
