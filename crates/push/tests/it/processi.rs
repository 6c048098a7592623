//! The platform as real processes: a server killed with SIGKILL in the middle of a merge, and
//! two servers on one database racing on uploads, submissions and acceptances.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use servizi::token::Richiedente;

use crate::aiuto::{Opzioni, TestApp, url_postgres};

/// A `push serve` child process on the test app's database and data directory.
pub(crate) struct Server {
    figlio: Child,
    pub(crate) url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the process; does not wait for it to answer.
    pub(crate) fn lancia(app: &TestApp, ambiente: &[(&str, &str)]) -> Server {
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
        Server { figlio, url, log }
    }

    pub(crate) async fn avvia(app: &TestApp, ambiente: &[(&str, &str)]) -> Server {
        let mut s = Server::lancia(app, ambiente);
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{}/healthz", s.url)).await
                && r.status() == 200
            {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s.uccidi();
        panic!("il server non è partito: {}", s.log.lock().unwrap());
    }

    /// Waits for the process to end by itself; its exit status.
    async fn attendi_fine(&mut self, entro: Duration) -> std::process::ExitStatus {
        let fine = std::time::Instant::now() + entro;
        while std::time::Instant::now() < fine {
            if let Some(s) = self.figlio.try_wait().unwrap() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("il server non è terminato: {}", self.log.lock().unwrap());
    }

    pub(crate) async fn attendi_log(&self, testo: &str) {
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
    pub(crate) fn uccidi(&mut self) {
        let _ = self.figlio.kill();
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
        if app.p.db().flusso(id).await.unwrap().unwrap().stato == stato {
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
        app.p.db().flusso(id1).await.unwrap().unwrap().stato,
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
    assert!(app.p.db().verifica_audit().await.unwrap().is_ok());
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
        app.p.db().flusso(ids[prima]).await.unwrap().unwrap().stato,
        "superato"
    );
    assert_eq!(
        app.p.db().flusso(ids[dopo]).await.unwrap().unwrap().stato,
        "accettato"
    );
    let unita = &servizi::registro::tavola_di("unita").unwrap().tavola;
    // Andria's current register is exactly the later flow's units.
    let correnti = app.p.db().chiavi_correnti(unita, "110001").await.unwrap();
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
        let l = app.p.db().lavori_di(*id).await.unwrap();
        let v: Vec<_> = l.iter().filter(|l| l.tipo == "validazione").collect();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].tentativi, v[0].stato.as_str()), (1, "fatto"), "{l:?}");
    }
    assert!(app.p.db().verifica_audit().await.unwrap().is_ok());
}

/// A test app whose own server runs no background worker: the child processes take the jobs.
async fn app_senza_esecutori() -> TestApp {
    TestApp::con(Opzioni {
        lavori_paralleli: Some(0),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn un_file_che_fa_cadere_il_server_non_lo_fa_cadere_per_sempre() {
    let app = app_senza_esecutori().await;
    let andria = token(&app, "110001").await;
    let id = carica(&app.url, &andria, flusso("110001", 20, 0)).await;
    // Every server dies as soon as it starts validating (as with a file that exhausts its
    // memory). Each takes the job again when the previous one's lease expires.
    let ambiente = [
        ("PUSH_PROVA_ABORTO_VALIDAZIONE", "1"),
        ("PUSH_LEASE_LAVORI_S", "3"),
        ("PUSH_LAVORI_PARALLELI", "1"),
    ];
    for tentativo in 1..=3 {
        let mut s = Server::lancia(&app, &ambiente);
        let esito = s.attendi_fine(Duration::from_secs(60)).await;
        assert!(!esito.success(), "tentativo {tentativo}: {esito}");
        let l = app.p.db().lavori_di(id).await.unwrap();
        assert_eq!(l[0].tentativi, tentativo, "{l:?}");
    }
    // The fourth server takes it, does not start it again, and stays up.
    let s = Server::avvia(&app, &ambiente).await;
    attendi_stato(&app, id, "non_valido").await;
    s.attendi_log("tentativi esauriti").await;
    let (st, f) = richiesta(
        reqwest::Method::GET,
        format!("{}/api/v1/flussi/{id}/report", s.url),
        &andria,
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        f["segnalazioni"][0]["messaggio"]
            .as_str()
            .unwrap()
            .contains("non si è mai conclusa"),
        "{f}"
    );
    assert_eq!(
        reqwest::get(format!("{}/healthz", s.url))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn esecutore_caduto_riavviato_e_segnalato_da_healthz() {
    let app = app_senza_esecutori().await;
    let andria = token(&app, "110001").await;
    // The worker panics on the first two jobs it takes (the same job, taken again when its
    // lease expires); restarted each time, it validates the flow on the third attempt.
    let s = Server::avvia(
        &app,
        &[
            ("PUSH_PROVA_PANICO_LAVORI", "2"),
            ("PUSH_LEASE_LAVORI_S", "3"),
            ("PUSH_LAVORI_PARALLELI", "1"),
        ],
    )
    .await;
    let h = reqwest::get(format!("{}/healthz", s.url)).await.unwrap();
    assert_eq!(h.status(), 200);
    let id = carica(&s.url, &andria, flusso("110001", 20, 0)).await;
    let mut visto_503 = None;
    for _ in 0..600 {
        let r = reqwest::get(format!("{}/healthz", s.url)).await.unwrap();
        if r.status() == 503 {
            visto_503 = Some(r.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let h = visto_503.expect("healthz non ha segnalato l'esecutore caduto");
    assert_eq!(h["esecutori"][0]["attivo"], false, "{h}");
    assert!(
        h["dettaglio"].as_str().unwrap().contains("non è attivo"),
        "{h}"
    );
    s.attendi_log("esecutore dei lavori caduto").await;
    attendi_stato(&app, id, "valido").await;
    let h: serde_json::Value = reqwest::get(format!("{}/healthz", s.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["stato"], "ok", "{h}");
    assert_eq!(h["esecutori"][0]["riavvii"], 2, "{h}");
    let l = app.p.db().lavori_di(id).await.unwrap();
    assert_eq!((l[0].tentativi, l[0].stato.as_str()), (3, "fatto"), "{l:?}");
}

#[tokio::test]
async fn un_flusso_piccolo_non_aspetta_quello_grande_di_un_altro_ente() {
    let app = app_senza_esecutori().await;
    let andria = token(&app, "110001").await;
    let bari = token(&app, "072006").await;
    // Andria's two flows are queued first; their validations are slow (a pause stands for a
    // million rows). Bari's small flow comes last.
    let a1 = carica(&app.url, &andria, flusso("110001", 20, 0)).await;
    let a2 = carica(&app.url, &andria, flusso("110001", 21, 0)).await;
    let b = carica(&app.url, &bari, flusso("072006", 20, 0)).await;
    let _s = Server::avvia(
        &app,
        &[
            ("PUSH_PROVA_PAUSA_VALIDAZIONE", "110001:120000"),
            ("PUSH_LAVORI_PARALLELI", "2"),
        ],
    )
    .await;
    // Bari's flow is validated while Andria's are still running or waiting: one worker took
    // Andria's oldest, the other preferred Bari's over Andria's second.
    attendi_stato(&app, b, "valido").await;
    for id in [a1, a2] {
        let st = app.p.db().flusso(id).await.unwrap().unwrap().stato;
        assert!(
            matches!(st.as_str(), "caricato" | "in_validazione"),
            "{id}: {st}"
        );
    }
}

#[tokio::test]
async fn un_ente_con_molti_flussi_non_occupa_tutti_gli_esecutori() {
    let app = app_senza_esecutori().await;
    let bari = token(&app, "072006").await;
    let andria = token(&app, "110001").await;
    // Bari queues two large flows (a pause stands for their size) while nobody else waits.
    let b1 = carica(&app.url, &bari, flusso("072006", 20, 0)).await;
    let b2 = carica(&app.url, &bari, flusso("072006", 21, 0)).await;
    let _s = Server::avvia(
        &app,
        &[
            ("PUSH_PROVA_PAUSA_VALIDAZIONE", "072006:120000"),
            ("PUSH_LAVORI_PARALLELI", "2"),
        ],
    )
    .await;
    attendi_stato(&app, b1, "in_validazione").await;
    // Andria's small flow comes afterwards: a worker must still be free for it.
    let a = carica(&app.url, &andria, flusso("110001", 20, 0)).await;
    attendi_stato(&app, a, "valido").await;
    let st = app.p.db().flusso(b2).await.unwrap().unwrap().stato;
    assert_eq!(
        st, "caricato",
        "il secondo flusso di Bari non aspetta il primo"
    );
}
