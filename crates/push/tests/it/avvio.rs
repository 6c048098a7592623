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
    assert!(!s.contains("Usage:") && !s.contains("Print help"), "{s}");
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
