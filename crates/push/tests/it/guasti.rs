//! The database going away during operation and coming back (PostgreSQL: a TCP proxy in
//! front of the server is cut and restored). SQLite is embedded and cannot become unreachable;
//! its closed-pool case is `api::database_chiuso_503_con_codice_richiesta`.

use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::aiuto::{Opzioni, TestApp, api, database_nuovo, url_postgres};

/// A TCP forwarder that can be cut (every connection dropped, port closed) and restored.
struct Proxy {
    porta: u16,
    destinazione: String,
    compito: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn avvia(porta: u16, destinazione: String) -> Proxy {
        let l = TcpListener::bind(("127.0.0.1", porta))
            .await
            .expect("bind proxy");
        let porta = l.local_addr().unwrap().port();
        let d = destinazione.clone();
        let compito = tokio::spawn(async move {
            let mut connessioni = tokio::task::JoinSet::new();
            loop {
                let Ok((mut a, _)) = l.accept().await else {
                    break;
                };
                let d = d.clone();
                connessioni.spawn(async move {
                    if let Ok(mut b) = TcpStream::connect(&d).await {
                        let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                    }
                });
            }
        });
        Proxy {
            porta,
            destinazione,
            compito: Some(compito),
        }
    }

    /// Drops the listener and every open connection (aborting the task drops its JoinSet).
    fn interrompi(&mut self) {
        if let Some(c) = self.compito.take() {
            c.abort();
        }
    }

    async fn riprendi(&mut self) {
        let p = Proxy::avvia(self.porta, self.destinazione.clone()).await;
        self.compito = Some(p.compito.unwrap_or_else(|| tokio::spawn(async {})));
    }
}

async fn attendi_stato(app: &TestApp, atteso: u16, entro: Duration) -> bool {
    let fine = Instant::now() + entro;
    while Instant::now() < fine {
        if api(app, "/healthz", None).await.status().as_u16() == atteso {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
#[cfg_attr(
    not(prova_postgres),
    ignore = "solo PostgreSQL (SQLite è incorporato): si esegue con PUSH_TEST_DATABASE_URL"
)]
async fn solo_postgres_irraggiungibile_poi_di_nuovo_raggiungibile() {
    let admin = url_postgres().expect(
        "test solo per PostgreSQL: imposti PUSH_TEST_DATABASE_URL \
         (su SQLite con --include-ignored lo escluda con --skip solo_postgres)",
    );
    let dir = tempfile::tempdir().unwrap();
    let db = database_nuovo(dir.path()).await;
    let mut u = url::Url::parse(&db).unwrap();
    let destinazione = format!(
        "{}:{}",
        u.host_str().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(5432)
    );
    let mut proxy = Proxy::avvia(0, destinazione).await;
    u.set_port(Some(proxy.porta)).unwrap();
    let app = TestApp::con(Opzioni {
        database_url: Some(u.to_string()),
        ..Default::default()
    })
    .await;
    assert_eq!(api(&app, "/healthz", None).await.status(), 200);

    proxy.interrompi();
    assert!(
        attendi_stato(&app, 503, Duration::from_secs(30)).await,
        "healthz non è passato a 503"
    );
    let r = app.browser().get("/enti").await;
    assert_eq!(r.status(), 503);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let html = r.text().await.unwrap();
    assert!(html.contains("temporaneamente non disponibile") && html.contains(&id));
    let r = api(&app, "/api/v1/enti", None).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    proxy.riprendi().await;
    assert!(
        attendi_stato(&app, 200, Duration::from_secs(30)).await,
        "nessun ripristino"
    );
    assert_eq!(app.browser().get("/enti").await.status(), 200);
    drop(app);
    let nome = db.rsplit('/').next().unwrap().to_string();
    use sqlx::Connection;
    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {nome} WITH (FORCE)"
        )))
        .execute(&mut c)
        .await;
    }
}
