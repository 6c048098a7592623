//! Start-up behaviour of the binary: help, configuration errors, unreachable database.

use std::process::Command;

fn push(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_push"));
    c.args(args)
        .env("PUSH_DATA_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("PUSH_MODALITA")
        .env_remove("PUSH_ACCESSO_SVILUPPO");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn aiuto_in_italiano_con_ogni_impostazione() {
    let o = push(&["serve", "--help"], &[]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    for x in [
        "Uso:",
        "--listen",
        "--data-dir",
        "--database-url",
        "--base-url",
        "--modalita",
        "--accesso-sviluppo",
        "--oidc-issuer",
        "--oidc-client-id",
        "--oidc-client-secret",
        "--smtp-host",
        "--session-secret",
        "DATABASE_URL",
        "PUSH_SESSION_SECRET",
        "Mostra questo aiuto",
    ] {
        assert!(s.contains(x), "manca {x} in:\n{s}");
    }
    assert!(
        !s.contains("Usage:")
            && !s.contains("Print help")
            && !s.contains("OPTIONS")
            && !s.contains("Options:")
            && !s.contains("possible values"),
        "{s}"
    );
    for sotto in [
        &["token", "create", "--help"][..],
        &["token", "--help"],
        &["demo", "--help"],
        &["audit", "verify", "--help"],
        &["migrate", "--help"],
    ] {
        let o = push(sotto, &[]);
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && s.contains("Uso: push"),
            "{sotto:?}: {s}"
        );
        assert!(
            !s.contains("Options:") && !s.contains("OPTIONS") && !s.contains("Usage:"),
            "{sotto:?}: {s}"
        );
    }
    let o = push(&["--help"], &[]);
    let s = String::from_utf8_lossy(&o.stdout);
    for x in ["serve", "migrate", "token", "demo", "audit", "Comandi"] {
        assert!(s.contains(x), "{x}");
    }
}

#[test]
fn produzione_con_accesso_di_sviluppo_rifiutata() {
    let o = push(
        &["serve"],
        &[
            ("PUSH_MODALITA", "produzione"),
            ("PUSH_ACCESSO_SVILUPPO", "true"),
            ("PUSH_SESSION_SECRET", &"x".repeat(40)),
            ("PUSH_OIDC_ISSUER", "http://127.0.0.1:9"),
            ("PUSH_OIDC_CLIENT_ID", "c"),
            ("PUSH_OIDC_CLIENT_SECRET", "segretissimo"),
        ],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("accesso di sviluppo non è ammesso"), "{e}");
    assert!(!e.contains("segretissimo"));
    let o = push(
        &["serve"],
        &[
            ("PUSH_MODALITA", "produzione"),
            ("PUSH_OIDC_ISSUER", "http://127.0.0.1:9"),
            ("PUSH_OIDC_CLIENT_ID", "c"),
            ("PUSH_OIDC_CLIENT_SECRET", "k"),
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("segreto di sessione"));
}

/// A production configuration complete but for what each case adds.
fn produzione(base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PUSH_MODALITA", "produzione".into()),
        ("PUSH_SESSION_SECRET", "x".repeat(40)),
        ("PUSH_OIDC_ISSUER", "https://127.0.0.1:9".into()),
        ("PUSH_OIDC_CLIENT_ID", "c".into()),
        ("PUSH_OIDC_CLIENT_SECRET", "k".into()),
        ("PUSH_BASE_URL", base_url.into()),
        // Never reached: each case is refused before the database is opened.
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/nessuno".into(),
        ),
    ]
}

#[test]
fn produzione_solo_https_e_mai_la_dimostrazione() {
    let esegui = |args: &[&str], base: &str| {
        let env = produzione(base);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let o = push(args, &env);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (c, e) = esegui(&["serve"], "http://push.regione.puglia.it");
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("deve iniziare con https://"), "{e}");
    let (c, e) = esegui(&["serve", "--demo"], "https://push.regione.puglia.it");
    assert_eq!(c, Some(2), "{e}");
    assert!(
        e.contains("«push serve --demo» non è ammesso in modalità produzione"),
        "{e}"
    );
    let (c, e) = esegui(&["demo", "--sostituisci"], "https://push.regione.puglia.it");
    assert_eq!(c, Some(2), "{e}");
    assert!(
        e.contains("«push demo --sostituisci» non è ammesso in modalità produzione"),
        "{e}"
    );
    // Loading the demo into an empty production database plants fictitious people with
    // regional roles and flows with protocol numbers: refused like `serve --demo`.
    let (c, e) = esegui(&["demo"], "https://push.regione.puglia.it");
    assert_eq!(c, Some(2), "{e}");
    assert!(
        e.contains("«push demo» non è ammesso in modalità produzione"),
        "{e}"
    );
    // Generating a file touches no database: allowed.
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("g.zip");
    let (c, e) = esegui(
        &[
            "demo",
            "genera",
            "--dominio",
            "patrimonio",
            "--unita",
            "3",
            "--output",
            f.to_str().unwrap(),
        ],
        "https://push.regione.puglia.it",
    );
    assert_eq!(c, Some(0), "{e}");
    // With https and no demo, the configuration passes (and the unreachable database is next).
    let (c, e) = esegui(&["serve"], "https://push.regione.puglia.it");
    assert_eq!(c, Some(1), "{e}");
    assert!(e.contains("database non raggiungibile"), "{e}");
}

#[test]
fn database_irraggiungibile_una_riga_e_uscita_non_zero() {
    let o = push(
        &["serve"],
        &[(
            "DATABASE_URL",
            "postgres://postgres:segretissimo@127.0.0.1:1/push",
        )],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    let righe: Vec<&str> = e.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(righe.len(), 1, "una sola riga: {e}");
    assert!(
        righe[0].starts_with("errore: database non raggiungibile"),
        "{e}"
    );
    assert!(!e.contains("segretissimo"), "la password non compare");
}

#[test]
fn url_database_non_valido() {
    let o = push(&["migrate"], &[("DATABASE_URL", "mysql://x")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sqlite:// o postgres://"));
}

/// Runs the real server with verbose logs, uses a token, a session cookie and the configured
/// secrets, then checks that none of them appears in what the server printed.
#[tokio::test]
async fn nessun_segreto_nei_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::aiuto::database_nuovo(dir.path()).await;
    let porta = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let segreto_sessione = "segreto-di-sessione-lungo-abbastanza-0123456789";
    let segreto_oidc = "segreto-oidc-da-non-stampare";
    let comune = |c: &mut Command| {
        c.env("DATABASE_URL", &db)
            .env("PUSH_DATA_DIR", dir.path())
            .env("PUSH_SESSION_SECRET", segreto_sessione)
            .env("PUSH_OIDC_ISSUER", "http://127.0.0.1:9")
            .env("PUSH_OIDC_CLIENT_ID", "push")
            .env("PUSH_OIDC_CLIENT_SECRET", segreto_oidc)
            .env("PUSH_LOG", "trace")
            .env_remove("PUSH_MODALITA")
            .env_remove("PUSH_ACCESSO_SVILUPPO");
    };
    let mut c = Command::new(env!("CARGO_BIN_EXE_push"));
    comune(&mut c);
    assert!(
        c.args(["demo", "--scenario", "marzo-2018"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_push"));
    comune(&mut c);
    let token = String::from_utf8(
        c.args([
            "token",
            "create",
            "--ente",
            "110001",
            "--area",
            "PATRIMONIO",
        ])
        .output()
        .unwrap()
        .stdout,
    )
    .unwrap();
    let token = token.trim().to_string();
    let mut c = Command::new(env!("CARGO_BIN_EXE_push"));
    comune(&mut c);
    let log = dir.path().join("server.log");
    let mut server = c
        .args(["serve", "--listen", &format!("127.0.0.1:{porta}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{porta}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut pronto = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            pronto = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(pronto, "il server non è partito");
    assert_eq!(
        client
            .get(format!("{base}/api/v1/enti"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let html = client
        .get(format!("{base}/accesso"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::aiuto::estrai_csrf(&html).unwrap();
    let cf = "DMOMRC51B02A662"; // second demo person (Region officer), check character added below
    let cf = dominio::CodiceFiscale::con_controllo(cf)
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{base}/accesso/sviluppo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("_csrf={csrf}&cf={cf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let sessione = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find_map(|c| {
            c.strip_prefix("push_sessione=")
                .map(|v| v.split(';').next().unwrap().to_string())
        })
        .unwrap();
    assert_eq!(
        client
            .get(format!("{base}/area"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.kill().unwrap();
    let _ = server.wait();
    let testo = std::fs::read_to_string(&log).unwrap();
    assert!(testo.len() > 1000, "log di livello trace atteso");
    for (nome, s) in [
        ("token", token.as_str()),
        ("cookie di sessione", sessione.as_str()),
        ("csrf", csrf.as_str()),
        ("segreto di sessione", segreto_sessione),
        ("segreto OIDC", segreto_oidc),
    ] {
        assert!(!testo.contains(s), "{nome} compare nei log");
    }
}
