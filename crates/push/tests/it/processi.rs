//! The platform as real processes: a server killed with SIGKILL in the middle of a merge, and
//! two servers on one database racing on uploads, submissions and acceptances.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use servizi::token::Richiedente;

use crate::aiuto::{TestApp, url_postgres};

/// A `push serve` child process on the test app's database and data directory.
struct Server {
    figlio: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    async fn avvia(app: &TestApp, ambiente: &[(&str, &str)]) -> Server {
        let porta = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut c = Command::new(env!("CARGO_BIN_EXE_push"));
        c.args(["serve", "--listen", &format!("127.0.0.1:{porta}")])
            .env("DATABASE_URL", &app.database_url)
            .env("PUSH_DATA_DIR", &app.data_dir)
            .env("PUSH_SESSION_SECRET", "s".repeat(48))
            .env("PUSH_ATTESA_LAVORI_MS", "100")
            .env("NO_COLOR", "1")
            .env_remove("PUSH_MODALITA")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in ambiente {
            c.env(k, v);
        }
        let mut figlio = c.spawn().expect("avvio di push serve");
        let log = Arc::new(Mutex::new(String::new()));
        let err = figlio.stderr.take().unwrap();
        let l2 = log.clone();
        std::thread::spawn(move || {
            for riga in BufReader::new(err).lines().map_while(Result::ok) {
                l2.lock().unwrap().push_str(&(riga + "\n"));
            }
        });
        let url = format!("http://127.0.0.1:{porta}");
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{url}/healthz")).await
                && r.status() == 200
            {
                return Server { figlio, url, log };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = figlio.kill();
        let _ = figlio.wait();
        panic!("il server non è partito: {}", log.lock().unwrap());
    }

    async fn attendi_log(&self, testo: &str) {
        for _ in 0..600 {
            if self.log.lock().unwrap().contains(testo) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "«{testo}» non è comparso nel log: {}",
            self.log.lock().unwrap()
        );
    }

    /// SIGKILL: no shutdown, no rollback by the process itself.
    fn uccidi(&mut self) {
        self.figlio.kill().unwrap();
        self.figlio.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.figlio.kill();
        let _ = self.figlio.wait();
    }
}

async fn token(app: &TestApp, ente: &str) -> String {
    let e = dominio::CodiceEnte::parse(ente).unwrap();
    let aree = if e.is_regione() {
        vec![]
    } else {
        vec![dominio::Area::Patrimonio]
    };
    app.p
        .crea_token(Richiedente::RigaDiComando, &e, &aree, "prova")
        .await
        .unwrap()
        .segreto
}

fn flusso(ente: &str, unita: u64, versione: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.zip");
    servizi::demo::flusso_demo(ente, unita, versione, &p).unwrap();
    std::fs::read(p).unwrap()
}

async fn richiesta(
    metodo: reqwest::Method,
    url: String,
    t: &str,
    corpo: Option<Vec<u8>>,
) -> (u16, serde_json::Value) {
    let mut r = reqwest::Client::new().request(metodo, url).bearer_auth(t);
    if let Some(c) = corpo {
        r = r.header("content-type", "application/zip").body(c);
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or_default())
}

async fn carica(base: &str, t: &str, byte: Vec<u8>) -> i64 {
    let (s, f) = richiesta(
        reqwest::Method::POST,
        format!("{base}/api/v1/flussi?dominio=patrimonio&nome=f.zip"),
        t,
        Some(byte),
    )
    .await;
    assert_eq!(s, 202, "{f}");
    f["id"].as_i64().unwrap()
}

async fn attendi_stato(app: &TestApp, id: i64, stato: &str) {
    for _ in 0..600 {
        if app.p.db.flusso(id).await.unwrap().unwrap().stato == stato {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("il flusso {id} non è arrivato allo stato {stato}");
}

/// Every version of the unit register, in id order.
async fn istantanea(app: &TestApp) -> Vec<(i64, String, String, String, i64)> {
    const SQL: &str = "SELECT id, chiave, CAST(valido_dal AS TEXT), COALESCE(CAST(valido_al AS TEXT), ''), impronta FROM reg_unita ORDER BY id";
    if url_postgres().is_some() {
        let p = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query_as(SQL).fetch_all(&p).await.unwrap()
    } else {
        let p = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query_as(SQL).fetch_all(&p).await.unwrap()
    }
}

#[tokio::test]
async fn sigkill_durante_la_fusione_lascia_il_registro_com_era() {
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001").await;
    let regione = token(&app, "REGIONE").await;
    let base = app.url.clone();
    let post =
        |u: String, t: String| async move { richiesta(reqwest::Method::POST, u, &t, None).await };

    // A first register, accepted; a second flow submitted.
    let id0 = carica(&base, &andria, flusso("110001", 200, 0)).await;
    attendi_stato(&app, id0, "valido").await;
    assert_eq!(
        post(format!("{base}/api/v1/flussi/{id0}/invio"), andria.clone())
            .await
            .0,
        200
    );
    assert_eq!(
        post(
            format!("{base}/api/v1/flussi/{id0}/accettazione"),
            regione.clone()
        )
        .await
        .0,
        200
    );
    let id1 = carica(&base, &andria, flusso("110001", 200, 1)).await;
    attendi_stato(&app, id1, "valido").await;
    assert_eq!(
        post(format!("{base}/api/v1/flussi/{id1}/invio"), andria.clone())
            .await
            .0,
        200
    );
    let prima = istantanea(&app).await;
    assert_eq!(prima.len(), 200);

    // Another server accepts it, and is killed after writing the register, before commit.
    let mut s = Server::avvia(&app, &[("PUSH_PROVA_PAUSA_FUSIONE_MS", "120000")]).await;
    let url = format!("{}/api/v1/flussi/{id1}/accettazione", s.url);
    let t = regione.clone();
    let appesa =
        tokio::spawn(async move { reqwest::Client::new().post(url).bearer_auth(t).send().await });
    s.attendi_log("fusione in pausa prima del commit").await;
    s.uccidi();
    assert!(
        appesa.await.unwrap().is_err(),
        "la richiesta non può avere avuto risposta"
    );

    // Exactly as before; the flow can be accepted again, by a restarted server.
    assert_eq!(istantanea(&app).await, prima);
    assert_eq!(
        app.p.db.flusso(id1).await.unwrap().unwrap().stato,
        "inviato"
    );
    let s2 = Server::avvia(&app, &[]).await;
    let (st, f) = post(
        format!("{}/api/v1/flussi/{id1}/accettazione", s2.url),
        regione.clone(),
    )
    .await;
    assert_eq!(st, 200, "{f}");
    assert_eq!(f["stato"], "accettato");
    let dopo = istantanea(&app).await;
    assert!(dopo.len() > prima.len());
    // The old versions are still there (some now closed), in the same order.
    for (a, b) in prima.iter().zip(&dopo) {
        assert_eq!((a.0, &a.1, &a.2, a.4), (b.0, &b.1, &b.2, b.4));
    }
    assert!(app.p.db.verifica_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn due_server_un_database_nessun_lavoro_doppio_nessun_aggiornamento_perso() {
    let app = TestApp::nuova().await;
    let a = Server::avvia(&app, &[]).await;
    let b = Server::avvia(&app, &[]).await;
    let server = [a.url.clone(), b.url.clone()];
    let regione = token(&app, "REGIONE").await;
    let enti = [
        "110001", "072006", "074001", "ARCA-PC", "ARCA-JON", "ARCA-NS",
    ];
    let mut token_di = Vec::new();
    for e in enti {
        token_di.push(token(&app, e).await);
    }

    // Uploads at the same time through both servers (and Andria twice: two snapshots).
    let mut compiti = Vec::new();
    for (k, e) in enti.iter().enumerate() {
        let (base, t, byte) = (
            server[k % 2].clone(),
            token_di[k].clone(),
            flusso(e, 30 + k as u64, 0),
        );
        compiti.push(tokio::spawn(async move { carica(&base, &t, byte).await }));
    }
    let (base, t, byte) = (
        server[1].clone(),
        token_di[0].clone(),
        flusso("110001", 30, 1),
    );
    compiti.push(tokio::spawn(async move { carica(&base, &t, byte).await }));
    let mut ids = Vec::new();
    for c in compiti {
        ids.push(c.await.unwrap());
    }
    for id in &ids {
        attendi_stato(&app, *id, "valido").await;
    }

    // Submissions at the same time: seven protocol numbers, no gap, no duplicate.
    let mut compiti = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let t = token_di[k % enti.len()].clone();
        let url = format!("{}/api/v1/flussi/{id}/invio", server[k % 2]);
        compiti.push(tokio::spawn(async move {
            richiesta(reqwest::Method::POST, url, &t, None).await
        }));
    }
    let mut numeri = Vec::new();
    for c in compiti {
        let (s, f) = c.await.unwrap();
        assert_eq!(s, 200, "{f}");
        numeri.push(f["protocollo"].as_str().unwrap()[5..].to_string());
    }
    numeri.sort();
    let attesi: Vec<String> = (1..=7).map(|n| format!("{n:06}")).collect();
    assert_eq!(numeri, attesi);

    // Acceptances at the same time, the two Andria flows on different servers.
    let mut compiti = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let t = regione.clone();
        let url = format!("{}/api/v1/flussi/{id}/accettazione", server[k % 2]);
        compiti.push(tokio::spawn(async move {
            richiesta(reqwest::Method::POST, url, &t, None).await
        }));
    }
    let mut esiti = Vec::new();
    for c in compiti {
        esiti.push(c.await.unwrap());
    }
    for (s, f) in &esiti[1..6] {
        assert_eq!(*s, 200, "{f}");
    }
    // The later Andria flow (the higher id: uploads raced, so either may be) always wins; the
    // earlier one is either refused as superseded, or accepted first and then superseded.
    let (prima, dopo) = if ids[0] < ids[6] { (0, 6) } else { (6, 0) };
    assert_eq!(esiti[dopo].0, 200, "{}", esiti[dopo].1);
    assert!(matches!(esiti[prima].0, 200 | 409), "{:?}", esiti[prima]);
    assert_eq!(
        app.p.db.flusso(ids[prima]).await.unwrap().unwrap().stato,
        "superato"
    );
    assert_eq!(
        app.p.db.flusso(ids[dopo]).await.unwrap().unwrap().stato,
        "accettato"
    );
    let unita = servizi::registro::tavola_patrimonio("unita").unwrap();
    // Andria's current register is exactly the later flow's units.
    let correnti = app.p.db.chiavi_correnti(&unita, "110001").await.unwrap();
    let rep: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            app.data_dir
                .join(format!("derivati/flusso-{}/report.json", ids[dopo])),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        correnti.len() as u64,
        rep["tabelle"]["unita"]["righe"].as_u64().unwrap()
    );

    // Every validation ran exactly once, whichever server took it.
    for id in &ids {
        let l = app.p.db.lavori_di(*id).await.unwrap();
        let v: Vec<_> = l.iter().filter(|l| l.tipo == "validazione").collect();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].tentativi, v[0].stato.as_str()), (1, "fatto"), "{l:?}");
    }
    assert!(app.p.db.verifica_audit().await.unwrap().is_ok());
}
