//! Machine tokens: command line and web, hashed storage, revocation.

use crate::aiuto::{TestApp, api, url_postgres};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_da_riga_di_comando() {
    let app = TestApp::nuova().await;
    let o = app.push(&[
        "token",
        "create",
        "--ente",
        "110001",
        "--area",
        "PATRIMONIO,PROGRAMMI",
        "--nome",
        "gestionale",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "solo il token: {out}");
    let t = out.trim().to_string();
    assert!(t.starts_with("push_") && t.len() > 40);
    assert_eq!(api(&app, "/api/v1/enti", Some(&t)).await.status(), 200);

    // Stored only as a hash.
    let trovato = if url_postgres().is_some() {
        let p = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM token WHERE hash = $1")
            .bind(&t)
            .fetch_one(&p)
            .await
            .unwrap()
    } else {
        let p = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM token WHERE hash = $1")
            .bind(&t)
            .fetch_one(&p)
            .await
            .unwrap()
    };
    assert_eq!(trovato, 0);

    let lista = stdout(&app.push(&["token", "list"]));
    assert!(lista.contains("gestionale") && lista.contains("PATRIMONIO,PROGRAMMI"));
    assert!(!lista.contains(&t), "la lista non mostra il token");
    let id = lista
        .lines()
        .find(|l| l.contains("gestionale"))
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let o = app.push(&["token", "revoke", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        api(&app, "/api/v1/enti", Some(&t)).await.status(),
        401,
        "revoca effettiva alla richiesta successiva"
    );
    assert!(
        !app.push(&["token", "revoke", &id]).status.success(),
        "già revocato"
    );

    // Bad arguments: exit status non-zero with an Italian message.
    let o = app.push(&["token", "create", "--ente", "BARI", "--area", "PATRIMONIO"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("non è il codice di un ente"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = app.push(&["token", "create", "--ente", "110001", "--area", "CASA"]);
    assert!(!o.status.success());
    let o = app.push(&[
        "token",
        "create",
        "--ente",
        "999999",
        "--area",
        "PATRIMONIO",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("non esiste"));
}

#[tokio::test]
async fn token_dal_web_del_legale_rappresentante() {
    let app = TestApp::nuova().await;
    let (lr, rp, _) = app.persone("110001");
    let b = app.come(&lr).await;
    let pagina = "/area/enti/110001/token";
    let r = b
        .post_form(
            pagina,
            pagina,
            &[("nome", "gestionale"), ("aree", "PATRIMONIO")],
        )
        .await;
    // POST/redirect/GET: the secret waits for the next page of this session.
    assert_eq!(r.status(), 303);
    let dove = r.headers()["location"].to_str().unwrap().to_string();
    assert!(dove.starts_with(&format!("{pagina}?nuovo=")), "{dove}");
    let r = b.get(&dove).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let i = html.find("id=\"nuovo-token\">").unwrap() + "id=\"nuovo-token\">".len();
    let t = html[i..i + html[i..].find('<').unwrap()].to_string();
    assert!(t.starts_with("push_"));
    assert_eq!(api(&app, "/api/v1/enti", Some(&t)).await.status(), 200);
    // Reloading the page: no second token, no secret.
    let (s, html) = b.testo(&dove).await;
    assert_eq!(s, 200);
    assert!(
        !html.contains(&t) && !html.contains("nuovo-token"),
        "il token è mostrato una volta sola"
    );
    let (_, html) = b.testo(pagina).await;
    assert!(!html.contains(&t));
    assert_eq!(
        app.p.db().elenco_token(Some("110001")).await.unwrap().len(),
        1
    );
    // Without areas: refused.
    let r = b.post_form(pagina, pagina, &[("nome", "senza aree")]).await;
    assert_eq!(r.status(), 422);

    let id = app.p.db().elenco_token(Some("110001")).await.unwrap()[0].id;
    // Another entity's representative: 404 on the page and on the revocation.
    let (lr_bari, ..) = app.persone("072006");
    let altro = app.come(&lr_bari).await;
    assert_eq!(altro.get(pagina).await.status(), 404);
    let tk = altro.csrf("/area").await;
    assert_eq!(
        altro
            .post_grezzo(&format!("{pagina}/{id}/revoca"), &tk, &[])
            .await
            .status(),
        404
    );
    // Even through its own entity's path.
    assert_eq!(
        altro
            .post_grezzo(&format!("/area/enti/072006/token/{id}/revoca"), &tk, &[])
            .await
            .status(),
        404
    );
    // The entity's referent: 403.
    let referente = app.come(&rp).await;
    assert_eq!(referente.get(pagina).await.status(), 403);
    assert_eq!(
        api(&app, "/api/v1/enti", Some(&t)).await.status(),
        200,
        "non revocato"
    );

    // The representative revokes.
    let r = b
        .post_form(pagina, &format!("{pagina}/{id}/revoca"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(api(&app, "/api/v1/enti", Some(&t)).await.status(), 401);
    // The Region administrator can manage any entity's tokens.
    let admin = app.come(&app.admin()).await;
    assert_eq!(admin.get(pagina).await.status(), 200);
    let r = admin
        .post_form(
            "/area/enti/REGIONE/token",
            "/area/enti/REGIONE/token",
            &[("nome", "cruscotto")],
        )
        .await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn il_segreto_di_un_nuovo_token_resta_della_sua_sessione() {
    let app = TestApp::nuova().await;
    let (lr, ..) = app.persone("110001");
    let b = app.come(&lr).await;
    let pagina = "/area/enti/110001/token";
    let r = b
        .post_form(
            pagina,
            pagina,
            &[("nome", "gestionale"), ("aree", "PATRIMONIO")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let dove = r.headers()["location"].to_str().unwrap().to_string();
    // The same person in another session (or anyone who saw the address) gets nothing...
    let (s, html) = app.come(&lr).await.testo(&dove).await;
    assert_eq!(s, 200);
    assert!(
        !html.contains("nuovo-token"),
        "mostrato a un'altra sessione"
    );
    // ...and does not spoil it for the session that created the token.
    let (_, html) = b.testo(&dove).await;
    assert!(html.contains("nuovo-token"));
    assert_eq!(
        app.p.db().elenco_token(Some("110001")).await.unwrap().len(),
        1
    );
}
