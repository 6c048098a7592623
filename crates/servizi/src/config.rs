//! Configuration: defaults, then an optional TOML file, then the environment and the command
//! line (`PUSH_…`, `DATABASE_URL`). Secrets are wrapped in [`Segreto`], which never prints.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A secret value: its `Debug` and `Display` never show it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Segreto(String);

impl Segreto {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself. Call only where it is used, never to log.
    pub fn esponi(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Segreto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Segreto(***)")
    }
}
impl fmt::Display for Segreto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Operating mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modalita {
    Sviluppo,
    Produzione,
}

impl std::str::FromStr for Modalita {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sviluppo" => Ok(Self::Sviluppo),
            "produzione" => Ok(Self::Produzione),
            altro => Err(format!(
                "modalità «{altro}» sconosciuta: usare sviluppo o produzione"
            )),
        }
    }
}

/// Every setting, each optional: one layer (file, or environment plus command line).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strato {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<Segreto>,
    pub base_url: Option<String>,
    pub modalita: Option<Modalita>,
    pub accesso_sviluppo: Option<bool>,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<Segreto>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_utente: Option<String>,
    pub smtp_password: Option<Segreto>,
    pub smtp_mittente: Option<String>,
    pub smtp_tls: Option<TlsSmtp>,
    pub smtp_ca: Option<PathBuf>,
    pub pec_host: Option<String>,
    pub pec_port: Option<u16>,
    pub pec_tls: Option<TlsSmtp>,
    pub pec_utente: Option<String>,
    pub pec_password: Option<Segreto>,
    pub pec_mittente: Option<String>,
    pub posta_tentativi: Option<u32>,
    pub posta_ritardo_s: Option<u64>,
    pub posta_attiva: Option<bool>,
    pub session_secret: Option<Segreto>,
    pub durata_sessione_ore: Option<u32>,
    pub log: Option<String>,
    pub limite_caricamento_mb: Option<u64>,
    pub limite_validazione_s: Option<u64>,
    pub soglia_fermo_giorni: Option<u32>,
    pub lease_lavori_s: Option<u64>,
    pub attesa_lavori_ms: Option<u64>,
    pub tentativi_lavori: Option<u32>,
    pub lavori_paralleli: Option<usize>,
    pub ricerche_parallele: Option<usize>,
    pub ricerca_tempo_massimo_ms: Option<u64>,
    pub tile_url: Option<String>,
    pub validatore_simultanei: Option<u32>,
    pub validatore_al_minuto: Option<u32>,
    pub pubblico_simultanei: Option<u32>,
    pub pubblico_al_minuto: Option<u32>,
    pub attesa_intestazioni_s: Option<u64>,
    pub attesa_corpo_s: Option<u64>,
    pub durata_corpo_s: Option<u64>,
    pub durata_caricamento_s: Option<u64>,
    pub firme_ancore: Option<PathBuf>,
}

impl Strato {
    /// `self` over `sotto`: each setting present in `self` wins.
    pub fn sopra(self, sotto: Strato) -> Strato {
        Strato {
            listen: self.listen.or(sotto.listen),
            data_dir: self.data_dir.or(sotto.data_dir),
            database_url: self.database_url.or(sotto.database_url),
            base_url: self.base_url.or(sotto.base_url),
            modalita: self.modalita.or(sotto.modalita),
            accesso_sviluppo: self.accesso_sviluppo.or(sotto.accesso_sviluppo),
            oidc_issuer: self.oidc_issuer.or(sotto.oidc_issuer),
            oidc_client_id: self.oidc_client_id.or(sotto.oidc_client_id),
            oidc_client_secret: self.oidc_client_secret.or(sotto.oidc_client_secret),
            smtp_host: self.smtp_host.or(sotto.smtp_host),
            smtp_port: self.smtp_port.or(sotto.smtp_port),
            smtp_utente: self.smtp_utente.or(sotto.smtp_utente),
            smtp_password: self.smtp_password.or(sotto.smtp_password),
            smtp_mittente: self.smtp_mittente.or(sotto.smtp_mittente),
            smtp_tls: self.smtp_tls.or(sotto.smtp_tls),
            smtp_ca: self.smtp_ca.or(sotto.smtp_ca),
            pec_host: self.pec_host.or(sotto.pec_host),
            pec_port: self.pec_port.or(sotto.pec_port),
            pec_tls: self.pec_tls.or(sotto.pec_tls),
            pec_utente: self.pec_utente.or(sotto.pec_utente),
            pec_password: self.pec_password.or(sotto.pec_password),
            pec_mittente: self.pec_mittente.or(sotto.pec_mittente),
            posta_tentativi: self.posta_tentativi.or(sotto.posta_tentativi),
            posta_ritardo_s: self.posta_ritardo_s.or(sotto.posta_ritardo_s),
            posta_attiva: self.posta_attiva.or(sotto.posta_attiva),
            session_secret: self.session_secret.or(sotto.session_secret),
            durata_sessione_ore: self.durata_sessione_ore.or(sotto.durata_sessione_ore),
            log: self.log.or(sotto.log),
            limite_caricamento_mb: self.limite_caricamento_mb.or(sotto.limite_caricamento_mb),
            limite_validazione_s: self.limite_validazione_s.or(sotto.limite_validazione_s),
            soglia_fermo_giorni: self.soglia_fermo_giorni.or(sotto.soglia_fermo_giorni),
            lease_lavori_s: self.lease_lavori_s.or(sotto.lease_lavori_s),
            attesa_lavori_ms: self.attesa_lavori_ms.or(sotto.attesa_lavori_ms),
            tentativi_lavori: self.tentativi_lavori.or(sotto.tentativi_lavori),
            lavori_paralleli: self.lavori_paralleli.or(sotto.lavori_paralleli),
            ricerche_parallele: self.ricerche_parallele.or(sotto.ricerche_parallele),
            ricerca_tempo_massimo_ms: self
                .ricerca_tempo_massimo_ms
                .or(sotto.ricerca_tempo_massimo_ms),
            tile_url: self.tile_url.or(sotto.tile_url),
            validatore_simultanei: self.validatore_simultanei.or(sotto.validatore_simultanei),
            validatore_al_minuto: self.validatore_al_minuto.or(sotto.validatore_al_minuto),
            pubblico_simultanei: self.pubblico_simultanei.or(sotto.pubblico_simultanei),
            pubblico_al_minuto: self.pubblico_al_minuto.or(sotto.pubblico_al_minuto),
            attesa_intestazioni_s: self.attesa_intestazioni_s.or(sotto.attesa_intestazioni_s),
            attesa_corpo_s: self.attesa_corpo_s.or(sotto.attesa_corpo_s),
            durata_corpo_s: self.durata_corpo_s.or(sotto.durata_corpo_s),
            durata_caricamento_s: self.durata_caricamento_s.or(sotto.durata_caricamento_s),
            firme_ancore: self.firme_ancore.or(sotto.firme_ancore),
        }
    }

    pub fn da_file(percorso: &Path) -> Result<Strato, ErroreConfig> {
        let testo = std::fs::read_to_string(percorso).map_err(|e| {
            ErroreConfig(format!("impossibile leggere {}: {e}", percorso.display()))
        })?;
        toml::from_str(&testo)
            .map_err(|e| ErroreConfig(format!("{} non è un TOML valido: {e}", percorso.display())))
    }
}

/// OpenID Connect provider settings (the Region's SPID/CIE gateway).
#[derive(Clone, Debug)]
pub struct ConfigOidc {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Segreto,
}

/// How the connection to an SMTP server is protected (`--smtp-tls`, api.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsSmtp {
    /// Clear text: only for a relay on the same host.
    Nessuno,
    /// Plain connection upgraded with STARTTLS, which is required (the default).
    Starttls,
    /// TLS from the first byte (port 465; PEC providers).
    Implicito,
}

impl std::str::FromStr for TlsSmtp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nessuno" => Ok(Self::Nessuno),
            "starttls" => Ok(Self::Starttls),
            "implicito" => Ok(Self::Implicito),
            altro => Err(format!(
                "protezione SMTP «{altro}» sconosciuta: usare nessuno, starttls o implicito"
            )),
        }
    }
}

/// One SMTP server's settings: the ordinary mail server, or the PEC provider's.
#[derive(Clone, Debug)]
pub struct ConfigSmtp {
    pub host: String,
    pub port: u16,
    pub tls: TlsSmtp,
    pub utente: Option<String>,
    pub password: Option<Segreto>,
    pub mittente: String,
    /// Extra trusted CA certificates (PEM) for the server's certificate (an internal CA).
    pub ca: Option<PathBuf>,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Segreto,
    pub base_url: url::Url,
    pub modalita: Modalita,
    pub accesso_sviluppo: bool,
    pub oidc: Option<ConfigOidc>,
    pub smtp: Option<ConfigSmtp>,
    /// The PEC provider's SMTP server (certified mail to an entity's PEC address).
    pub pec: Option<ConfigSmtp>,
    /// How many times a message is tried before it is marked `in_errore`.
    pub posta_tentativi: u32,
    /// The pause after a message's first failed attempt, in seconds; it doubles at each
    /// further failure, up to an hour.
    pub posta_ritardo_s: u64,
    /// Whether this server sends the outbox's mail (`false`: another server does).
    pub posta_attiva: bool,
    /// `None` only until [`Config::prepara_segreto`] has run.
    pub session_secret: Option<Segreto>,
    pub durata_sessione_ore: u32,
    pub log: String,
    /// Largest uploaded flow, in MiB: refused while receiving, before it is stored whole.
    pub limite_caricamento_mb: u64,
    /// Longest validation of one flow, in seconds.
    pub limite_validazione_s: u64,
    /// A site in progress is stalled (`fermo`, `api.md`) when its last SAL (or the start of
    /// works) is more than this many days old.
    pub soglia_fermo_giorni: u32,
    /// How long a worker holds a job without renewing it.
    pub lease_lavori_s: u64,
    /// How often an idle worker looks at the queue (uploads on this server wake it at once).
    pub attesa_lavori_ms: u64,
    /// How many times a job is started before it is given up (a file that kills the process
    /// must not crash-loop every server): the flow then ends `non_valido`, with the reason.
    pub tentativi_lavori: u32,
    /// Jobs this server runs at once (0: this server runs none; another server does).
    pub lavori_paralleli: usize,
    /// Register searches (`q=`) this server runs at once; `None` = half the database pool.
    /// Searches are the one list that can read much of a table, so they get a budget of their
    /// own: a search waits for a place at most [`Config::ricerca_tempo_massimo_ms`], then is
    /// refused with 503 and `Retry-After`, and the rest of the pool stays for everyone else.
    pub ricerche_parallele: Option<usize>,
    /// The longest a register search's statement may run before it is stopped (503, Italian
    /// message), in milliseconds.
    pub ricerca_tempo_massimo_ms: u64,
    /// Map tiles URL template (`{z}/{x}/{y}`); empty (the default) = no tiles, markers only,
    /// and no request from the visitors' browsers to anyone but this server.
    pub tile_url: String,
    /// Most validations the public (anonymous) validator runs at once on this server; more are
    /// refused with 503 and `Retry-After`, so that memory stays bounded (each one may hold up
    /// to the readers' limits).
    pub validatore_simultanei: u32,
    /// Most files one client (IP address) may send to the public validator per minute; more
    /// are refused with 429 and `Retry-After`.
    pub validatore_al_minuto: u32,
    /// Most requests to the public data (GIS service, open data, public dashboard) served at
    /// once on this server; more are refused with 503 and `Retry-After` (some answers read the
    /// whole register).
    pub pubblico_simultanei: u32,
    /// Most requests to the public data one client (IP address) may make per minute; more are
    /// refused with 429 and `Retry-After`.
    pub pubblico_al_minuto: u32,
    /// Longest wait for a request's headers before the connection is closed (slow clients).
    pub attesa_intestazioni_s: u64,
    /// Longest pause between two pieces of a request body (a stalled upload ends with 408).
    pub attesa_corpo_s: u64,
    /// Longest time to receive a whole request body (forms, the public validator, the API
    /// calls): a client trickling a byte now and then cannot hold a request, or a validator
    /// place, for longer.
    pub durata_corpo_s: u64,
    /// Longest time to receive a whole flow upload (up to `limite_caricamento_mb`).
    pub durata_caricamento_s: u64,
    /// Trust anchors for signed (`.p7m`) files: a directory of CA certificates or one PEM/DER
    /// file (e.g. the qualified certifiers of the Italian trusted list). Without them no signer
    /// is shown as verified.
    pub firme_ancore: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ErroreConfig(pub String);

/// OpenStreetMap's standard layer: what the documentation suggests for `--tile-url`. It is
/// not the default: every browser that opens a map would send its address to a third party,
/// and the privacy notice promises no third-party tools unless the Region configures one.
pub const TILE_OSM: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

impl Config {
    /// Resolves a layer stack (already merged) into a configuration, applying defaults and the
    /// production rules.
    pub fn risolvi(s: Strato) -> Result<Config, ErroreConfig> {
        let listen = s
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("./push-data"));
        let database_url = s.database_url.unwrap_or_else(|| {
            Segreto::new(format!(
                "sqlite://{}",
                data_dir.join("push.sqlite").display()
            ))
        });
        if archivio::Backend::da_url(database_url.esponi()).is_none() {
            return Err(ErroreConfig(
                "l'indirizzo del database (DATABASE_URL) deve iniziare con sqlite:// o postgres://"
                    .into(),
            ));
        }
        let base = s.base_url.unwrap_or_else(|| format!("http://{listen}"));
        let base_url = url::Url::parse(&base).map_err(|e| {
            ErroreConfig(format!(
                "indirizzo pubblico (base_url) «{base}» non valido: {e}"
            ))
        })?;
        let modalita = s.modalita.unwrap_or(Modalita::Sviluppo);
        let accesso_sviluppo = s.accesso_sviluppo.unwrap_or(modalita == Modalita::Sviluppo);
        if modalita == Modalita::Produzione && accesso_sviluppo {
            return Err(ErroreConfig(
                "l'accesso di sviluppo non è ammesso in modalità produzione: rimuovere PUSH_ACCESSO_SVILUPPO".into(),
            ));
        }
        let oidc = match (s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret) {
            (Some(issuer), Some(client_id), Some(client_secret)) => Some(ConfigOidc {
                issuer,
                client_id,
                client_secret,
            }),
            (None, None, None) => None,
            _ => {
                return Err(ErroreConfig(
                    "OpenID Connect richiede insieme oidc_issuer, oidc_client_id e oidc_client_secret".into(),
                ));
            }
        };
        if modalita == Modalita::Produzione {
            if oidc.is_none() {
                return Err(ErroreConfig(
                    "in modalità produzione l'accesso SPID/CIE (oidc_issuer, oidc_client_id, oidc_client_secret) è obbligatorio".into(),
                ));
            }
            if s.session_secret.is_none() {
                return Err(ErroreConfig(
                    "in modalità produzione il segreto di sessione (PUSH_SESSION_SECRET) è obbligatorio".into(),
                ));
            }
            // Sessions, CSRF tokens and API tokens must not travel in clear.
            if base_url.scheme() != "https" {
                return Err(ErroreConfig(format!(
                    "in modalità produzione l'indirizzo pubblico (PUSH_BASE_URL) deve iniziare con https://, non «{base_url}»"
                )));
            }
        }
        if let Some(seg) = &s.session_secret
            && seg.esponi().len() < 32
        {
            return Err(ErroreConfig(
                "il segreto di sessione deve avere almeno 32 caratteri".into(),
            ));
        }
        let smtp_tls = s.smtp_tls.unwrap_or(TlsSmtp::Starttls);
        let smtp = s.smtp_host.map(|host| ConfigSmtp {
            host,
            port: s.smtp_port.unwrap_or(match smtp_tls {
                TlsSmtp::Implicito => 465,
                TlsSmtp::Starttls => 587,
                TlsSmtp::Nessuno => 25,
            }),
            tls: smtp_tls,
            utente: s.smtp_utente,
            password: s.smtp_password,
            mittente: s
                .smtp_mittente
                .clone()
                .unwrap_or_else(|| "push@regione.puglia.it".into()),
            ca: s.smtp_ca.clone(),
        });
        // PEC is delivered over TLS from the first byte unless told otherwise: so do the
        // providers' SMTP servers.
        let pec_tls = s.pec_tls.unwrap_or(TlsSmtp::Implicito);
        let pec = s.pec_host.map(|host| ConfigSmtp {
            host,
            port: s.pec_port.unwrap_or(match pec_tls {
                TlsSmtp::Implicito => 465,
                TlsSmtp::Starttls => 587,
                TlsSmtp::Nessuno => 25,
            }),
            tls: pec_tls,
            utente: s.pec_utente,
            password: s.pec_password,
            mittente: s
                .pec_mittente
                .or(s.smtp_mittente)
                .unwrap_or_else(|| "push@pec.rupar.puglia.it".into()),
            ca: s.smtp_ca,
        });
        for c in smtp.iter().chain(pec.iter()) {
            if c.utente.is_some() != c.password.is_some() {
                return Err(ErroreConfig(format!(
                    "il server di posta {} richiede insieme utente e password",
                    c.host
                )));
            }
            if modalita == Modalita::Produzione && c.tls == TlsSmtp::Nessuno && c.password.is_some()
            {
                return Err(ErroreConfig(format!(
                    "in modalità produzione la password del server di posta {} non può viaggiare in chiaro: usare starttls o implicito",
                    c.host
                )));
            }
        }
        Ok(Config {
            listen,
            data_dir,
            database_url,
            base_url,
            modalita,
            accesso_sviluppo,
            oidc,
            smtp,
            pec,
            posta_tentativi: s.posta_tentativi.unwrap_or(10).max(1),
            posta_ritardo_s: s.posta_ritardo_s.unwrap_or(30).max(1),
            posta_attiva: s.posta_attiva.unwrap_or(true),
            session_secret: s.session_secret,
            durata_sessione_ore: s.durata_sessione_ore.unwrap_or(8),
            log: s.log.unwrap_or_else(|| "info".into()),
            limite_caricamento_mb: s.limite_caricamento_mb.unwrap_or(200).max(1),
            limite_validazione_s: s.limite_validazione_s.unwrap_or(900).max(1),
            soglia_fermo_giorni: s
                .soglia_fermo_giorni
                .unwrap_or(dominio::intervento::SOGLIA_FERMO_GIORNI)
                .max(1),
            lease_lavori_s: s.lease_lavori_s.unwrap_or(60).max(3),
            attesa_lavori_ms: s.attesa_lavori_ms.unwrap_or(1000).max(10),
            tentativi_lavori: s.tentativi_lavori.unwrap_or(3).max(1),
            lavori_paralleli: s.lavori_paralleli.unwrap_or(2).min(64),
            ricerche_parallele: s.ricerche_parallele.map(|n| n.clamp(1, 1024)),
            ricerca_tempo_massimo_ms: s.ricerca_tempo_massimo_ms.unwrap_or(3000).max(1),
            tile_url: s.tile_url.map(|t| t.trim().to_string()).unwrap_or_default(),
            validatore_simultanei: s.validatore_simultanei.unwrap_or(2).max(1),
            validatore_al_minuto: s.validatore_al_minuto.unwrap_or(10).max(1),
            pubblico_simultanei: s.pubblico_simultanei.unwrap_or(8).max(1),
            pubblico_al_minuto: s.pubblico_al_minuto.unwrap_or(600).max(1),
            attesa_intestazioni_s: s.attesa_intestazioni_s.unwrap_or(10).max(1),
            attesa_corpo_s: s.attesa_corpo_s.unwrap_or(30).max(1),
            durata_corpo_s: s.durata_corpo_s.unwrap_or(60).max(1),
            durata_caricamento_s: s.durata_caricamento_s.unwrap_or(900).max(1),
            firme_ancore: s.firme_ancore.map(verifica_ancore).transpose()?,
        })
    }

    /// Ensures the data directory exists and, in development, a session secret: generated once
    /// and stored in the data directory (mode 0600) so sessions survive restarts.
    pub fn prepara(&mut self) -> Result<(), ErroreConfig> {
        // Owner only: it holds the database, the session secret and the uploaded files.
        crate::deposito::crea_cartella_privata(&self.data_dir)
            .and_then(|()| cartella_solo_proprietario(&self.data_dir))
            .map_err(|e| {
                ErroreConfig(format!(
                    "impossibile creare la cartella dati {}: {e}",
                    self.data_dir.display()
                ))
            })?;
        if self.session_secret.is_some() {
            return Ok(());
        }
        let file = self.data_dir.join("segreto-sessione");
        let segreto = match std::fs::read_to_string(&file) {
            Ok(s) if s.trim().len() >= 32 => s.trim().to_string(),
            _ => {
                let s = crate::casuale::token_esadecimale(32);
                scrivi_privato(&file, &s).map_err(|e| {
                    ErroreConfig(format!("impossibile scrivere {}: {e}", file.display()))
                })?;
                s
            }
        };
        self.session_secret = Some(Segreto::new(segreto));
        Ok(())
    }

    /// Refuses `comando` in production: the demo's data and its wiping are for development.
    pub fn solo_sviluppo(&self, comando: &str) -> Result<(), ErroreConfig> {
        if self.modalita == Modalita::Produzione {
            return Err(ErroreConfig(format!(
                "«{comando}» non è ammesso in modalità produzione: i dati dimostrativi sono solo per lo sviluppo"
            )));
        }
        Ok(())
    }

    pub fn https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    pub fn segreto_sessione(&self) -> &Segreto {
        // `prepara` always sets it; an empty fallback would only make CSRF tokens fail closed.
        static VUOTO: std::sync::OnceLock<Segreto> = std::sync::OnceLock::new();
        self.session_secret
            .as_ref()
            .unwrap_or_else(|| VUOTO.get_or_init(|| Segreto::new("")))
    }
}

/// Tightens an existing data directory to mode 0700 (one made by an older version, or by hand).
fn cartella_solo_proprietario(p: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Loads the trust anchors once at start: a wrong path or a folder without certificates is a
/// configuration error now, not a surprise on the first signed file.
fn verifica_ancore(percorso: PathBuf) -> Result<PathBuf, ErroreConfig> {
    match flussi::lettori::firma::conta_ancore(&percorso) {
        Ok(0) => Err(ErroreConfig(format!(
            "le autorità di certificazione riconosciute (firme_ancore) in {} non contengono alcun certificato",
            percorso.display()
        ))),
        Ok(_) => Ok(percorso),
        Err(e) => Err(ErroreConfig(format!("firme_ancore: {e}"))),
    }
}

fn scrivi_privato(file: &Path, contenuto: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(file)?;
    f.write_all(contenuto.as_bytes())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn i_segreti_non_si_stampano() {
        let s = Strato {
            session_secret: Some(Segreto::new("x".repeat(40))),
            oidc_client_secret: Some(Segreto::new("segretissimo")),
            oidc_client_id: Some("c".into()),
            oidc_issuer: Some("http://x".into()),
            ..Default::default()
        };
        let c = Config::risolvi(Strato {
            smtp_host: Some("smtp.x".into()),
            smtp_utente: Some("u".into()),
            smtp_password: Some(Segreto::new("password-smtp")),
            pec_host: Some("pec.x".into()),
            pec_utente: Some("p".into()),
            pec_password: Some(Segreto::new("password-pec")),
            ..s
        })
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("segretissimo"));
        assert!(
            !dbg.contains("password-smtp") && !dbg.contains("password-pec"),
            "{dbg}"
        );
        assert!(!dbg.contains(&"x".repeat(40)));
    }

    #[test]
    fn produzione_rifiuta_accesso_sviluppo_e_chiede_segreti() {
        let base = || Strato {
            modalita: Some(Modalita::Produzione),
            session_secret: Some(Segreto::new("s".repeat(40))),
            oidc_client_secret: Some(Segreto::new("k")),
            oidc_client_id: Some("c".into()),
            oidc_issuer: Some("http://x".into()),
            base_url: Some("https://push.regione.puglia.it".into()),
            ..Default::default()
        };
        assert!(Config::risolvi(base()).is_ok());
        let e = Config::risolvi(Strato {
            base_url: Some("http://push.regione.puglia.it".into()),
            ..base()
        })
        .unwrap_err();
        assert!(e.0.contains("https://"), "{e}");
        let e = Config::risolvi(Strato {
            base_url: None,
            ..base()
        })
        .unwrap_err();
        assert!(e.0.contains("https://"), "{e}");
        let e = Config::risolvi(Strato {
            accesso_sviluppo: Some(true),
            ..base()
        })
        .unwrap_err();
        assert!(e.0.contains("accesso di sviluppo"));
        assert!(
            Config::risolvi(Strato {
                session_secret: None,
                ..base()
            })
            .is_err()
        );
        assert!(
            Config::risolvi(Strato {
                oidc_issuer: None,
                oidc_client_id: None,
                oidc_client_secret: None,
                ..base()
            })
            .is_err()
        );
        // development defaults to the development login
        assert!(Config::risolvi(Strato::default()).unwrap().accesso_sviluppo);
    }

    #[test]
    fn posta_smtp_e_pec() {
        let c = Config::risolvi(Strato {
            smtp_host: Some("smtp.x".into()),
            pec_host: Some("pec.x".into()),
            ..Default::default()
        })
        .unwrap();
        let smtp = c.smtp.unwrap();
        assert_eq!((smtp.tls, smtp.port), (TlsSmtp::Starttls, 587));
        let pec = c.pec.unwrap();
        assert_eq!((pec.tls, pec.port), (TlsSmtp::Implicito, 465));
        assert_eq!("IMPLICITO".parse::<TlsSmtp>(), Ok(TlsSmtp::Implicito));
        assert!(
            "ssl"
                .parse::<TlsSmtp>()
                .unwrap_err()
                .contains("nessuno, starttls o implicito")
        );
        // User and password go together; a password never travels in clear in production.
        assert!(
            Config::risolvi(Strato {
                smtp_host: Some("smtp.x".into()),
                smtp_utente: Some("u".into()),
                ..Default::default()
            })
            .is_err()
        );
        let e = Config::risolvi(Strato {
            modalita: Some(Modalita::Produzione),
            session_secret: Some(Segreto::new("s".repeat(40))),
            oidc_client_secret: Some(Segreto::new("k")),
            oidc_client_id: Some("c".into()),
            oidc_issuer: Some("http://x".into()),
            base_url: Some("https://push.regione.puglia.it".into()),
            smtp_host: Some("smtp.x".into()),
            smtp_tls: Some(TlsSmtp::Nessuno),
            smtp_utente: Some("u".into()),
            smtp_password: Some(Segreto::new("p")),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.0.contains("in chiaro"), "{e}");
    }

    #[test]
    fn strati() {
        let file = Strato {
            listen: Some("127.0.0.1:9000".parse().unwrap()),
            log: Some("debug".into()),
            ..Default::default()
        };
        let env = Strato {
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Default::default()
        };
        let c = Config::risolvi(env.sopra(file)).unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.log, "debug");
    }
}
