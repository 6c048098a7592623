//! The test harness: `TestApp` starts the real router on port 0 against a fresh database.

use std::sync::OnceLock;

use reqwest::redirect::Policy;
use servizi::config::{Modalita, Segreto, Strato};
use servizi::demo::{RiepilogoDemo, Scenario};
use servizi::{Config, Piattaforma};

/// The database backend of this test run.
pub fn url_postgres() -> Option<String> {
    std::env::var("PUSH_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

fn stampa_backend() {
    static FATTO: OnceLock<()> = OnceLock::new();
    FATTO.get_or_init(|| {
        eprintln!(
            "[push test] backend: {}",
            if url_postgres().is_some() {
                "PostgreSQL (PUSH_TEST_DATABASE_URL)"
            } else {
                "SQLite"
            }
        );
    });
}

/// A fresh, empty database; returns its URL.
pub async fn database_nuovo(dir: &std::path::Path) -> String {
    stampa_backend();
    match url_postgres() {
        Some(admin) => {
            use sqlx::Connection;
            let nome = format!("push_t_{}", uuid::Uuid::new_v4().simple());
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL di test non raggiungibile ({admin}): {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {nome}")))
                .execute(&mut c)
                .await
                .expect("create database");
            let mut u = url::Url::parse(&admin).expect("url postgres");
            u.set_path(&format!("/{nome}"));
            u.to_string()
        }
        None => format!("sqlite://{}", dir.join("push.sqlite").display()),
    }
}

pub struct Opzioni {
    pub demo: Option<Scenario>,
    pub modalita: Modalita,
    pub accesso_sviluppo: Option<bool>,
    pub oidc: Option<(String, String, String)>,
    pub database_url: Option<String>,
    /// A listener bound in advance (when the URL must be known before start, e.g. for OIDC).
    pub listener: Option<tokio::net::TcpListener>,
    /// Also load the demo's `patrimonio` flows (slow: off by default).
    pub flussi_demo: bool,
    pub limite_caricamento_mb: Option<u64>,
    /// Stops the platform's clock at this instant (move it with `app.p.orologio.imposta`).
    pub orologio: Option<chrono::DateTime<chrono::Utc>>,
    /// Background workers of the in-process server (`Some(0)`: none, the test drives the queue).
    pub lavori_paralleli: Option<usize>,
    /// Any other settings, over the harness's own.
    pub impostazioni: Strato,
    pub attesa_intestazioni_s: Option<u64>,
}

impl Default for Opzioni {
    fn default() -> Self {
        Self {
            demo: Some(Scenario::Marzo2018),
            modalita: Modalita::Sviluppo,
            accesso_sviluppo: None,
            oidc: None,
            database_url: None,
            listener: None,
            flussi_demo: false,
            limite_caricamento_mb: None,
            orologio: None,
            lavori_paralleli: None,
            impostazioni: Strato::default(),
            attesa_intestazioni_s: None,
        }
    }
}

pub struct TestApp {
    pub url: String,
    pub p: Piattaforma,
    pub demo: RiepilogoDemo,
    pub database_url: String,
    pub data_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn nuova() -> TestApp {
        Self::con(Opzioni::default()).await
    }

    pub async fn con(o: Opzioni) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let database_url = match o.database_url {
            Some(u) => u,
            None => database_nuovo(dir.path()).await,
        };
        let listener = match o.listener {
            Some(l) => l,
            None => tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        };
        let addr = listener.local_addr().expect("addr");
        let (oidc_issuer, oidc_client_id, oidc_client_secret) = match o.oidc {
            Some((i, c, s)) => (Some(i), Some(c), Some(Segreto::new(s))),
            None => (None, None, None),
        };
        let strato = Strato {
            listen: Some(addr),
            data_dir: Some(dir.path().to_path_buf()),
            database_url: Some(Segreto::new(database_url.clone())),
            // Production refuses a base URL that is not https (the tests still speak plain HTTP).
            base_url: Some(match o.modalita {
                Modalita::Produzione => format!("https://{addr}"),
                Modalita::Sviluppo => format!("http://{addr}"),
            }),
            modalita: Some(o.modalita),
            accesso_sviluppo: o.accesso_sviluppo,
            session_secret: Some(Segreto::new("s".repeat(48))),
            oidc_issuer,
            oidc_client_id,
            oidc_client_secret,
            limite_caricamento_mb: o.limite_caricamento_mb,
            attesa_intestazioni_s: o.attesa_intestazioni_s,
            attesa_lavori_ms: Some(100),
            lavori_paralleli: o.lavori_paralleli,
            ..Default::default()
        };
        let config = Config::risolvi(o.impostazioni.sopra(strato)).expect("config");
        let mut p = Piattaforma::avvia(config).await.expect("avvio");
        if let Some(t) = o.orologio {
            p.orologio = dominio::orologio::Orologio::fisso(t);
        }
        let demo = match o.demo {
            Some(s) if o.flussi_demo => p.carica_demo(s, false).await.expect("demo"),
            Some(s) => p.carica_demo_senza_flussi(s, false).await.expect("demo"),
            None => RiepilogoDemo::default(),
        };
        let p2 = p.clone();
        let server = tokio::spawn(async move {
            let _ = web::servi(p2, listener, std::future::pending()).await;
        });
        TestApp {
            url: format!("http://{addr}"),
            p,
            demo,
            database_url,
            data_dir: dir.path().to_path_buf(),
            _dir: dir,
            _server: server,
        }
    }

    /// A browser: cookie store on, redirects not followed (tests check them).
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.url.clone(),
            c: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// A browser logged in through the development login as `cf`.
    pub async fn come(&self, cf: &str) -> Browser {
        let b = self.browser();
        let r = b
            .post_form("/accesso", "/accesso/sviluppo", &[("cf", cf)])
            .await;
        assert_eq!(r.status(), 303, "accesso di sviluppo per {cf}");
        assert_eq!(r.headers()["location"], "/area");
        b
    }

    pub fn admin(&self) -> String {
        self.demo
            .amministratore
            .as_ref()
            .expect("admin")
            .cf
            .to_string()
    }
    pub fn istruttore(&self) -> String {
        self.demo
            .istruttore
            .as_ref()
            .expect("istruttore")
            .cf
            .to_string()
    }
    /// (legal representative, referent PATRIMONIO, referent PROGRAMMI) of an entity.
    pub fn persone(&self, ente: &str) -> (String, String, String) {
        let (_, lr, rp, rg) = self
            .demo
            .enti
            .iter()
            .find(|(e, ..)| e == ente)
            .unwrap_or_else(|| panic!("ente demo {ente}"));
        (lr.cf.to_string(), rp.cf.to_string(), rg.cf.to_string())
    }
    pub fn senza_ruolo(&self) -> String {
        self.demo.senza_ruolo[0].cf.to_string()
    }

    /// Runs the `push` command line on this app's database and data folder, blocking the calling
    /// thread until it ends. A test that calls it while its server runs must use a multi-thread
    /// runtime (`#[tokio::test(flavor = "multi_thread")]`): on the default single thread, a
    /// server task caught between `BEGIN IMMEDIATE` and `COMMIT` (the job taker, the mail
    /// sender) cannot finish while the thread waits, so it holds SQLite's write lock and the
    /// command fails with "database is locked" after the busy timeout.
    pub fn push(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_push"))
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("PUSH_DATA_DIR", &self.data_dir)
            .env("PUSH_SESSION_SECRET", "s".repeat(48))
            .env_remove("PUSH_MODALITA")
            .env_remove("PUSH_ACCESSO_SVILUPPO")
            .output()
            .expect("esecuzione di push")
    }
}

impl Drop for TestApp {
    /// Drops the per-test PostgreSQL database (SQLite files go with the temporary directory).
    fn drop(&mut self) {
        self._server.abort();
        let (Some(admin), Some(nome)) = (
            url_postgres(),
            self.database_url.rsplit('/').next().map(str::to_string),
        ) else {
            return;
        };
        if !nome.starts_with("push_t_") {
            return;
        }
        // Drop runs inside the test's runtime: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {nome} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await
                .ok()
            })
        })
        .join();
    }
}

pub struct Browser {
    pub base: String,
    pub c: reqwest::Client,
}

impl Browser {
    pub async fn get(&self, percorso: &str) -> reqwest::Response {
        self.c
            .get(format!("{}{percorso}", self.base))
            .send()
            .await
            .expect("get")
    }

    pub async fn testo(&self, percorso: &str) -> (u16, String) {
        let r = self.get(percorso).await;
        let s = r.status().as_u16();
        (s, r.text().await.expect("testo"))
    }

    /// The CSRF token of the forms on a page.
    pub async fn csrf(&self, pagina: &str) -> String {
        let (_, html) = self.testo(pagina).await;
        estrai_csrf(&html).unwrap_or_else(|| panic!("nessun token CSRF in {pagina}"))
    }

    /// Posts a form with the CSRF token taken from `pagina`.
    pub async fn post_form(
        &self,
        pagina: &str,
        azione: &str,
        campi: &[(&str, &str)],
    ) -> reqwest::Response {
        let t = self.csrf(pagina).await;
        self.post_grezzo(azione, &t, campi).await
    }

    pub async fn post_grezzo(
        &self,
        azione: &str,
        csrf: &str,
        campi: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut corpo = url::form_urlencoded::Serializer::new(String::new());
        corpo.append_pair("_csrf", csrf);
        for (k, v) in campi {
            corpo.append_pair(k, v);
        }
        self.c
            .post(format!("{}{azione}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(corpo.finish())
            .send()
            .await
            .expect("post")
    }
}

pub fn estrai_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let fine = html[i..].find('"')?;
    Some(html[i..i + fine].to_string())
}

/// A new API token of `ente` with `aree` (made as by `push token create`); returns its secret.
pub async fn token_ente(app: &TestApp, ente: &str, aree: &[dominio::Area]) -> String {
    let e = dominio::CodiceEnte::parse(ente).expect("codice ente");
    app.p
        .crea_token(
            servizi::token::Richiedente::RigaDiComando,
            &e,
            aree,
            "prova",
        )
        .await
        .expect("token")
        .segreto
}

/// A plain API client with an optional bearer token.
pub async fn api(app: &TestApp, percorso: &str, token: Option<&str>) -> reqwest::Response {
    let mut r = reqwest::Client::new().get(format!("{}{percorso}", app.url));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.expect("api")
}

/// A page's HTML for `contains`: minijinja escapes `/` and `'` in values (`&#x2f;`, `&#x27;`),
/// so links and dates read as written.
pub fn senza_escape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// A slow client: sends `inizio` (request head and the start of the body) at once, then one
/// byte of body every `goccia` (or, with `None`, nothing more), and reads what the server
/// answers. Returns the answer once the server closes the connection, or `None` if it is still
/// open after `attesa`.
pub async fn corpo_lento(
    app: &TestApp,
    inizio: &str,
    goccia: Option<std::time::Duration>,
    attesa: std::time::Duration,
) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let indirizzo = app.url.trim_start_matches("http://");
    let s = tokio::net::TcpStream::connect(indirizzo)
        .await
        .expect("connect");
    let (mut leggi, mut scrivi) = s.into_split();
    scrivi.write_all(inizio.as_bytes()).await.expect("write");
    let gocciolatore = tokio::spawn(async move {
        let Some(passo) = goccia else {
            // Silent, but the connection stays open (the write half is kept).
            std::future::pending::<()>().await;
            return;
        };
        loop {
            tokio::time::sleep(passo).await;
            if scrivi.write_all(b"x").await.is_err() {
                break;
            }
        }
    });
    let mut risposta = Vec::new();
    let letto = tokio::time::timeout(attesa, leggi.read_to_end(&mut risposta)).await;
    gocciolatore.abort();
    letto
        .ok()
        .map(|_| String::from_utf8_lossy(&risposta).into_owned())
}
