//! CSRF tokens are bound to the session: a cookie-and-token pair planted in a logged-in
//! browser, or a token from another session, does not make a valid form for that session
//! (the attack created an API token as Andria's legal representative). Pages' own forms work.

use crate::aiuto::{TestApp, estrai_csrf};

const PAGINA: &str = "/area/enti/110001/token";

/// The value a response sets for a cookie.
fn cookie_impostato(r: &reqwest::Response, nome: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{nome}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// A request carrying exactly these cookies (as a browser would after a cookie was planted).
async fn richiesta(
    app: &TestApp,
    cookie: &str,
    csrf: Option<&str>,
    campi: &[(&str, &str)],
) -> reqwest::Response {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}{PAGINA}", app.url);
    let r = match csrf {
        None => c.get(url),
        Some(t) => {
            let mut corpo = url::form_urlencoded::Serializer::new(String::new());
            corpo.append_pair("_csrf", t);
            for (k, v) in campi {
                corpo.append_pair(k, v);
            }
            c.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(corpo.finish())
        }
    };
    r.header("cookie", cookie).send().await.unwrap()
}

async fn token_di_andria(app: &TestApp) -> usize {
    app.p.db().elenco_token(Some("110001")).await.unwrap().len()
}

#[tokio::test]
async fn token_csrf_legato_alla_sessione() {
    let app = TestApp::nuova().await;
    let (lr, ..) = app.persone("110001");
    let sessione = app.p.accesso_sviluppo(&lr).await.unwrap();
    let campi = [("nome", "gestionale"), ("aree", "PATRIMONIO")];

    // The attacker's pair: a CSRF cookie and the token a page gave for it, anonymously.
    let r = app.browser().get("/accesso").await;
    let cookie_attaccante = cookie_impostato(&r, "push_csrf").expect("cookie CSRF");
    let token_attaccante = estrai_csrf(&r.text().await.unwrap()).unwrap();
    // And a token of another logged-in session (Bari's representative).
    let (lr_bari, ..) = app.persone("072006");
    let token_altra_sessione = app.come(&lr_bari).await.csrf("/area").await;

    let prima = token_di_andria(&app).await;
    let piantato = format!("push_sessione={sessione}; push_csrf={cookie_attaccante}");
    for (cookie, token) in [
        (&piantato, &token_attaccante),
        (&piantato, &token_altra_sessione),
        (&format!("push_sessione={sessione}"), &token_altra_sessione),
    ] {
        let r = richiesta(&app, cookie, Some(token), &campi).await;
        assert_eq!(r.status(), 403, "{cookie} {token}");
    }
    assert_eq!(token_di_andria(&app).await, prima, "nessun token creato");

    // The page's own form, in the same session (planted cookie or not), works.
    for cookie in [&piantato, &format!("push_sessione={sessione}")] {
        let r = richiesta(&app, cookie, None, &[]).await;
        assert_eq!(r.status(), 200);
        let token = estrai_csrf(&r.text().await.unwrap()).unwrap();
        assert_ne!(token, token_attaccante);
        let r = richiesta(&app, cookie, Some(&token), &campi).await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
    }
    assert_eq!(token_di_andria(&app).await, prima + 2);

    // Before any session (the login form), the browser's cookie still binds the token.
    let b = app.browser();
    let r = b
        .post_grezzo("/accesso/sviluppo", &token_attaccante, &[("cf", &lr)])
        .await;
    assert_eq!(r.status(), 403, "token di un altro browser");
    let r = b
        .post_form("/accesso", "/accesso/sviluppo", &[("cf", &lr)])
        .await;
    assert_eq!(r.status(), 303);
}
