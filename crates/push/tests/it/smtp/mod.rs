//! A real SMTP server started by the harness: `aiosmtpd` (PyPI) in a child Python, plain, with
//! STARTTLS or with implicit TLS (a test CA and a server certificate for 127.0.0.1 made with
//! the `openssl` command), optionally requiring AUTH. Each accepted message is a JSON file;
//! [`ServerSmtp::ricevuti`] reads them.
//!
//! The Python comes from `PUSH_TEST_PYTHON_SMTP` (a venv with aiosmtpd; `.ci/run` makes one).
//! The tests that use it are `#[ignore]` on plain `cargo test`, whose machine has only Rust.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = include_str!("raccoglitore.py");

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Modo {
    Nessuno,
    Starttls,
    Implicito,
}

impl Modo {
    pub fn nome(self) -> &'static str {
        match self {
            Modo::Nessuno => "nessuno",
            Modo::Starttls => "starttls",
            Modo::Implicito => "implicito",
        }
    }
}

#[derive(Debug, serde::Deserialize, Clone)]
pub struct Ricevuto {
    pub da: String,
    pub a: Vec<String>,
    pub oggetto: String,
    pub message_id: String,
    pub testo: Option<String>,
    pub html: Option<String>,
    pub autenticato: bool,
    pub tls: bool,
}

pub struct ServerSmtp {
    figlio: Child,
    pub porta: u16,
    cartella: tempfile::TempDir,
    /// The CA that signed the server's certificate (to trust it: `--smtp-ca`).
    pub ca: PathBuf,
}

/// A free port now (the server is started on it later, e.g. after a test of "server down").
pub fn porta_libera() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("comando openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA and a certificate for 127.0.0.1 signed by it, in `dir`.
fn certificati(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=PUSH test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

impl ServerSmtp {
    pub fn avvia(porta: u16, modo: Modo, credenziali: Option<(&str, &str)>) -> ServerSmtp {
        let python = std::env::var("PUSH_TEST_PYTHON_SMTP").unwrap_or_else(|_| {
            panic!("PUSH_TEST_PYTHON_SMTP non impostata: serve un Python con aiosmtpd (python3 -m venv v && v/bin/pip install aiosmtpd), come fa .ci/run")
        });
        let cartella = tempfile::tempdir().unwrap();
        let dir = cartella.path();
        std::fs::create_dir(dir.join("posta")).unwrap();
        std::fs::write(dir.join("raccoglitore.py"), SCRIPT).unwrap();
        if modo != Modo::Nessuno {
            certificati(dir);
        }
        let mut c = Command::new(python);
        c.arg(dir.join("raccoglitore.py"))
            .arg(porta.to_string())
            .arg(dir.join("posta"))
            .arg(modo.nome())
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((u, p)) = credenziali {
            c.env("SMTP_UTENTE", u).env("SMTP_PASSWORD", p);
        }
        let mut figlio = c.spawn().expect("avvio di aiosmtpd");
        let mut riga = String::new();
        BufReader::new(figlio.stdout.take().unwrap())
            .read_line(&mut riga)
            .unwrap();
        assert_eq!(riga.trim(), "pronto", "aiosmtpd non è partito");
        ServerSmtp {
            figlio,
            porta,
            ca: dir.join("ca.pem"),
            cartella,
        }
    }

    /// The messages accepted so far.
    pub fn ricevuti(&self) -> Vec<Ricevuto> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(self.cartella.path().join("posta")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                v.push(serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap());
            }
        }
        v
    }

    /// Waits until at least `n` messages arrived; all of them.
    pub async fn attendi(&self, n: usize) -> Vec<Ricevuto> {
        for _ in 0..1200 {
            let v = self.ricevuti();
            if v.len() >= n {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("attesi {n} messaggi, arrivati {}", self.ricevuti().len());
    }
}

impl Drop for ServerSmtp {
    fn drop(&mut self) {
        let _ = self.figlio.kill();
        let _ = self.figlio.wait();
    }
}
