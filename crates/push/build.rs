//! Tells the integration tests which database backend they are built for: a test that needs
//! PostgreSQL is marked ignored on SQLite (shown as such), instead of returning early and
//! being reported as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(prova_postgres)");
    println!("cargo::rerun-if-env-changed=PUSH_TEST_DATABASE_URL");
    if std::env::var("PUSH_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        println!("cargo::rustc-cfg=prova_postgres");
    }
}
