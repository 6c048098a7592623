//! The audit log: hash chain verified by `push audit verify`, tampering detected, web view.

use crate::aiuto::{TestApp, url_postgres};

async fn esegui_sql(app: &TestApp, sql: &str) {
    if url_postgres().is_some() {
        let p = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&p)
            .await
            .unwrap();
    } else {
        let p = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&p)
            .await
            .unwrap();
    }
}

fn verifica(app: &TestApp) -> (bool, String) {
    let o = app.push(&["audit", "verify"]);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catena_integra() {
    let app = TestApp::nuova().await;
    let (ok, out) = verifica(&app);
    assert!(ok, "{out}");
    assert!(out.contains("integro"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modifica_di_una_voce_rilevata() {
    let app = TestApp::nuova().await;
    esegui_sql(&app, "UPDATE audit SET oggetto = 'manomesso' WHERE seq = 7").await;
    let (ok, out) = verifica(&app);
    assert!(!ok);
    assert!(out.contains("voce n. 7"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modifica_con_hash_ricalcolato_male_rilevata_alla_voce_successiva() {
    let app = TestApp::nuova().await;
    // Changing a stored hash breaks that entry (content mismatch).
    esegui_sql(&app, "UPDATE audit SET hash = '00' WHERE seq = 5").await;
    let (ok, out) = verifica(&app);
    assert!(!ok);
    assert!(out.contains("voce n. 5"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellazione_rilevata() {
    let app = TestApp::nuova().await;
    esegui_sql(&app, "DELETE FROM audit WHERE seq = 4").await;
    let (ok, out) = verifica(&app);
    assert!(!ok);
    assert!(out.contains("n. 4"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellazione_delle_ultime_voci_rilevata() {
    let app = TestApp::nuova().await;
    esegui_sql(
        &app,
        "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
    )
    .await;
    let (ok, out) = verifica(&app);
    assert!(!ok, "{out}");
    assert!(out.contains("mancante"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn la_regione_consulta_il_registro_con_filtri() {
    let app = TestApp::nuova().await;
    let b = app.come(&app.istruttore()).await;
    let (s, html) = b.testo("/area/audit?ente=110001").await;
    assert_eq!(s, 200);
    assert!(html.contains("registrazione.approvata"));
    assert!(!html.contains("<td>072006</td>"), "solo l'ente filtrato");
    let (_, html) = b.testo("/area/audit?azione=accesso").await;
    assert!(html.contains("<td>accesso</td>"));
    assert!(!html.contains("<td>referente.accreditato</td>"));
    let (_, html) = b.testo("/area/audit?dal=2017-01-01&al=2017-12-31").await;
    assert!(html.contains("registrazione.richiesta"));
    assert!(
        !html.contains("<td>accesso</td>"),
        "gli accessi di oggi sono fuori intervallo"
    );
    // Paging: more than 50 entries exist.
    assert!(html.contains("Voci precedenti"));
}
