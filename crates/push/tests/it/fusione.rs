//! The merge's bulk path (the staging lines sent as they are: `COPY` on PostgreSQL, a prepared
//! `INSERT` stepped through SQLite's C API) writes every record, and every value exactly as
//! validated: the characters the staging file escapes come back unchanged.

use crate::aiuto::{TestApp, api};
use crate::flussi::{carica_e_accetta, flusso_demo, token};
use crate::formule_csv::con_valore;

/// The rows of a register list of Andria, as JSON objects.
async fn elenco(app: &TestApp, t: &str, tabella: &str) -> Vec<serde_json::Value> {
    let r = api(
        app,
        &format!("/api/v1/patrimonio/{tabella}?ente=110001&limit=1000"),
        Some(t),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn i_valori_con_caratteri_da_proteggere_arrivano_intatti() {
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    // A backslash before N (the COPY form of "no value"), before t, one alone, a real tab,
    // quotes and accented letters.
    let indirizzo = "Via \\N \\t «Roma»\t1\\2 è già";
    let flusso = con_valore(
        &flusso_demo("110001", 40, 0),
        "fabbricati.csv",
        "indirizzo",
        indirizzo,
    );
    carica_e_accetta(&app, &andria, flusso, (2025, 1, 15)).await;

    let fabbricati = elenco(&app, &andria, "fabbricati").await;
    assert!(
        fabbricati.iter().any(|f| f["indirizzo"] == indirizzo),
        "{fabbricati:?}"
    );
    // Every unit arrived, each with its cadastral data and no field lost or shifted.
    let unita = elenco(&app, &andria, "unita").await;
    assert_eq!(unita.len(), 40, "{unita:?}");
    for u in &unita {
        assert!(u["codice_unita"].is_string(), "{u}");
        assert!(u["foglio"].is_string(), "{u}");
        assert!(u["valido_al"].is_null(), "{u}");
    }

    // A second flow changes one unit's staircase: one version closed, one written.
    let secondo = con_valore(
        &flusso_demo("110001", 40, 0),
        "fabbricati.csv",
        "indirizzo",
        indirizzo,
    );
    let secondo = con_valore(&secondo, "unita.csv", "scala", "Z\\9");
    carica_e_accetta(&app, &andria, secondo, (2025, 2, 1)).await;
    let dopo = elenco(&app, &andria, "unita").await;
    assert_eq!(dopo.len(), 40);
    let cambiate: Vec<_> = dopo
        .iter()
        .filter(|u| u["valido_dal"] == "2025-02-01")
        .collect();
    assert_eq!(cambiate.len(), 1, "{dopo:?}");
    assert_eq!(cambiate[0]["scala"], "Z\\9", "{:?}", cambiate[0]);
}

/// A large load (over `archivio::SOGLIA_STATISTICHE` rows) refreshes PostgreSQL's statistics
/// of the table inside the merge, so the merge's next queries are planned on what the table
/// now holds: without them, on a new installation, the dashboards' aggregates joined each
/// unit to the entity's buildings by a nested loop and a million units never finished. The
/// aggregates written in the same transaction count every unit (both backends).
#[tokio::test]
async fn un_carico_grande_aggiorna_le_statistiche_e_gli_aggregati() {
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let n = archivio::SOGLIA_STATISTICHE + 500;
    carica_e_accetta(&app, &andria, flusso_demo("110001", n, 0), (2025, 1, 15)).await;

    let c = app.p.cruscotto_pubblico(None).await.unwrap();
    assert_eq!(c.unita.valore(), Some(&(n as i64)));

    if app.database_url.starts_with("postgres") {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        // A manual ANALYZE (the merge's) sets last_analyze; autovacuum's sets another column.
        let analizzata: bool = sqlx::query_scalar(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'reg_unita'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert!(analizzata);
    }
}
