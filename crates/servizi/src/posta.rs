//! The outbox: every e-mail and PEC message the platform sends.
//!
//! A use case that has something to tell writes the message with [`accoda`] **inside its own
//! transaction**, beside the change it tells about: the message exists if and only if the
//! change was committed, and a request never waits for a mail server. The sender loop
//! ([`avvia_postino`], one per `push serve`) takes due messages one at a time with a lease
//! (`archivio::posta`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), so
//! several servers never send the same message twice, and delivers them:
//!
//! - over SMTP with `lettre` (`--smtp-…`), or over the PEC provider's SMTP (`--pec-…`) for the
//!   `pec` channel;
//! - in development with no SMTP server configured, to the **development mailbox**: the message
//!   is marked sent with transport `casella` and read at `/sviluppo/posta`. Production never
//!   does this: without a server the messages wait, with the reason shown.
//!
//! A failed attempt puts the message back in the queue after a pause that doubles each time
//! (`posta_ritardo_s`, up to an hour); after `posta_tentativi` attempts it is `in_errore`, still
//! listed, and the Region can queue it again. A message whose sender died mid-way is taken
//! again when the lease expires; if the server had accepted it already, the recipient may get
//! it twice, with the same `Message-ID` (SMTP cannot do better), never zero times.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use archivio::{ContiPosta, FiltroMessaggi, Messaggio};
use archivio::{NuovoMessaggio, Tx};
use dominio::politica::{Azione, Soggetto, autorizza};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{ConfigSmtp, TlsSmtp};
use crate::{ErroreServizio, Esito, Modalita, Piattaforma, casuale, ora};

/// How long a sender holds a message: longer than an SMTP exchange may take
/// ([`ATTESA_SMTP`]), so that a message is never taken again while still being sent.
const LEASE: Duration = Duration::from_secs(180);
/// Longest SMTP exchange (connection, TLS, every command).
const ATTESA_SMTP: Duration = Duration::from_secs(60);
/// Longest pause between two attempts of one message.
const RITARDO_MAX_S: u64 = 3600;
/// How often an idle sender looks at the outbox (a message queued on this server wakes it).
const ATTESA_CODA: Duration = Duration::from_secs(2);
/// Longest subject, and longest body (each of text and HTML), of a queued message.
const MAX_OGGETTO: usize = 500;
const MAX_CORPO: usize = 512 * 1024;

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Canale {
    /// Ordinary e-mail (`--smtp-…`).
    Email,
    /// Certified mail (PEC), over the PEC provider's server (`--pec-…`).
    Pec,
}

impl Canale {
    pub fn as_str(self) -> &'static str {
        match self {
            Canale::Email => "email",
            Canale::Pec => "pec",
        }
    }
}

/// One recipient: an address, and the person it belongs to when there is one (so that the
/// person finds the message in the reserved area).
#[derive(Clone, Debug)]
pub struct Destinatario {
    pub indirizzo: String,
    pub persona: Option<String>,
}

/// A message to queue: one row per recipient is written.
#[derive(Clone, Debug)]
pub struct Busta {
    /// What it tells: `registrazione.approvata`, `flusso.inviato`, `sollecito`, …
    pub tipo: String,
    pub canale: Canale,
    pub destinatari: Vec<Destinatario>,
    /// The entity the message is logged for (shown on the entity's page).
    pub ente: Option<String>,
    pub flusso: Option<i64>,
    pub sollecito: Option<i64>,
    pub oggetto: String,
    /// The plain-text body (always sent).
    pub testo: String,
    /// The HTML body; `None` makes one from the text (escaped, in the standard layout).
    pub html: Option<String>,
}

/// A message's state as people read it.
pub fn etichetta_stato(stato: &str) -> &'static str {
    match stato {
        "in_coda" => "in coda",
        "in_invio" => "in invio",
        "inviato" => "inviato",
        "in_errore" => "in errore",
        _ => "sconosciuto",
    }
}

/// Writes `b` in the outbox inside `tx`, one message per recipient; their ids. Recipients
/// without an address are skipped (a person may have none); their absence is the caller's to
/// log. The sender wakes when the caller calls [`Piattaforma::posta_accodata`] after commit
/// (or at its next look at the outbox, within seconds).
pub async fn accoda(
    tx: &mut Tx,
    b: &Busta,
    adesso: chrono::DateTime<chrono::Utc>,
) -> Esito<Vec<i64>> {
    let oggetto = una_riga(&b.oggetto, MAX_OGGETTO);
    let testo = tronca(&b.testo, MAX_CORPO);
    let html = match &b.html {
        Some(h) => tronca(h, MAX_CORPO),
        None => html_da_testo(&oggetto, &testo),
    };
    let mut ids = Vec::new();
    for d in &b.destinatari {
        let indirizzo = d.indirizzo.trim();
        if indirizzo.is_empty() {
            continue;
        }
        let id_messaggio = format!("<push-{}@push.regione.puglia.it>", casuale::token_url(18));
        let id = tx
            .accoda_messaggio(
                &NuovoMessaggio {
                    tipo: &b.tipo,
                    canale: b.canale.as_str(),
                    destinatario: indirizzo,
                    persona: d.persona.as_deref(),
                    ente: b.ente.as_deref(),
                    flusso: b.flusso,
                    sollecito: b.sollecito,
                    oggetto: &oggetto,
                    testo: &testo,
                    html: &html,
                    id_messaggio: &id_messaggio,
                },
                adesso,
            )
            .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// The subject on one line (a header cannot hold a line break), bounded.
fn una_riga(s: &str, max: usize) -> String {
    let v: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    tronca(v.trim(), max)
}

fn tronca(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut fine = max;
    while !s.is_char_boundary(fine) {
        fine -= 1;
    }
    format!("{}…", &s[..fine])
}

/// Escapes text for HTML.
pub fn escapa(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The HTML body of a plain-text message: its paragraphs, escaped, in the standard layout.
pub fn html_da_testo(oggetto: &str, testo: &str) -> String {
    let paragrafi: Vec<String> = testo
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escapa(p.trim()).replace('\n', "<br>\n")))
        .collect();
    impagina(oggetto, &paragrafi.join("\n"))
}

/// The standard HTML layout of a message around an already safe `corpo`.
pub fn impagina(oggetto: &str, corpo: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"it\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family: 'Titillium Web', Geneva, Tahoma, sans-serif; color: #1a1a1a; max-width: 40em;\">\n\
         <p style=\"color: #0066cc; font-weight: 600;\">PUSH – Regione Puglia, Sezione Politiche Abitative</p>\n{}\n\
         <hr><p style=\"font-size: 0.85em; color: #5c6f82;\">Messaggio automatico della piattaforma PUSH: non rispondere a questo indirizzo.</p>\n</body></html>\n",
        escapa(oggetto),
        corpo
    )
}

/// The pause before attempt `tentativi + 1`, after `tentativi` failed ones.
pub fn ritardo(base_s: u64, tentativi: i32) -> Duration {
    let esponente = (tentativi.max(1) - 1).min(20) as u32;
    Duration::from_secs(base_s.saturating_mul(1u64 << esponente).min(RITARDO_MAX_S))
}

impl Piattaforma {
    /// Wakes this server's sender: call after committing a transaction that queued messages.
    pub fn posta_accodata(&self) {
        self.sveglia_posta.notify_one();
    }

    /// Whether undelivered messages go to the development mailbox (development mode without
    /// an SMTP server).
    pub fn casella_di_sviluppo(&self) -> bool {
        self.config.modalita == Modalita::Sviluppo && self.config.smtp.is_none()
    }

    /// Messages logged for an entity: the Region, or the entity's own people.
    pub async fn messaggi_ente(
        &self,
        s: &Soggetto,
        ente: &str,
        limite: i64,
    ) -> Esito<Vec<Messaggio>> {
        let codice = dominio::CodiceEnte::parse(ente)?;
        autorizza(s, &Azione::VedereEnte(&codice))?;
        Ok(self
            .db
            .elenco_messaggi(&FiltroMessaggi {
                ente: Some(codice.as_str().to_string()),
                limite,
                ..Default::default()
            })
            .await?)
    }

    /// Messages sent to the person logged in.
    pub async fn miei_messaggi(&self, s: &Soggetto, limite: i64) -> Esito<Vec<Messaggio>> {
        let Soggetto::Persona { cf, .. } = s else {
            return Err(ErroreServizio::Negato(dominio::Negato::Vietato));
        };
        Ok(self
            .db
            .elenco_messaggi(&FiltroMessaggi {
                persona: Some(cf.to_string()),
                limite,
                ..Default::default()
            })
            .await?)
    }

    /// One message sent to the person logged in (404 for anyone else's).
    pub async fn mio_messaggio(&self, s: &Soggetto, id: i64) -> Esito<Messaggio> {
        let Soggetto::Persona { cf, .. } = s else {
            return Err(ErroreServizio::Negato(dominio::Negato::Vietato));
        };
        match self.db.messaggio(id).await? {
            Some(m) if m.persona.as_deref() == Some(cf.as_str()) => Ok(m),
            _ => Err(ErroreServizio::NonTrovato),
        }
    }

    /// The whole outbox, filtered: the Region only.
    /// The outbox's counts by state (Region administrators).
    pub async fn conti_posta(&self, s: &Soggetto) -> Esito<ContiPosta> {
        autorizza(s, &Azione::GestirePosta)?;
        Ok(self.db.conti_posta().await?)
    }

    pub async fn messaggi(&self, s: &Soggetto, f: &FiltroMessaggi) -> Esito<Vec<Messaggio>> {
        autorizza(s, &Azione::GestirePosta)?;
        Ok(self.db.elenco_messaggi(f).await?)
    }

    /// The development mailbox: every message, only in development with no SMTP server, to
    /// anyone logged in (the demo's people are fictitious; the development login is a click).
    pub async fn casella(&self, s: &Soggetto, f: &FiltroMessaggi) -> Esito<Vec<Messaggio>> {
        if !self.casella_di_sviluppo() {
            return Err(ErroreServizio::NonTrovato);
        }
        autorizza(s, &Azione::AreaRiservata)?;
        Ok(self.db.elenco_messaggi(f).await?)
    }

    /// One message of the development mailbox.
    pub async fn messaggio_casella(&self, s: &Soggetto, id: i64) -> Esito<Messaggio> {
        if !self.casella_di_sviluppo() {
            return Err(ErroreServizio::NonTrovato);
        }
        autorizza(s, &Azione::AreaRiservata)?;
        self.db
            .messaggio(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)
    }

    /// Queues again a message given up after its attempts (the Region).
    pub async fn riaccoda_messaggio(&self, s: &Soggetto, id: i64) -> Esito<()> {
        autorizza(s, &Azione::GestirePosta)?;
        let mut tx = self.db.inizia().await?;
        if !tx.riaccoda_messaggio(id, ora()).await? {
            return Err(ErroreServizio::Conflitto(
                "Il messaggio non è in errore: non c'è nulla da riaccodare.".into(),
            ));
        }
        tx.audit(
            archivio::NuovaVoce {
                attore: &crate::audit::attore(s),
                ente: None,
                azione: "messaggio.riaccodato",
                oggetto: format!("messaggio:{id}"),
                dettagli: serde_json::json!({}),
            },
            ora(),
        )
        .await?;
        tx.commit().await?;
        self.posta_accodata();
        Ok(())
    }
}

/// The ways out of the outbox, built once at start.
pub struct Postino {
    smtp: Option<Arc<Uscita>>,
    pec: Option<Arc<Uscita>>,
    casella: bool,
    tentativi: u32,
    ritardo_s: u64,
}

/// One SMTP server and its sender address.
struct Uscita {
    trasporto: AsyncSmtpTransport<Tokio1Executor>,
    mittente: Mailbox,
    nome: &'static str,
}

/// Why a message was not delivered: worth another attempt, or not.
enum Mancata {
    Temporanea(String),
    Definitiva(String),
}

fn uscita(c: &ConfigSmtp, nome: &'static str) -> Result<Uscita, String> {
    let mittente = Mailbox::from_str(&c.mittente)
        .map_err(|e| format!("mittente «{}» non valido: {e}", c.mittente))?;
    let tls = |host: &str| -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(host.to_string());
        if let Some(ca) = &c.ca {
            let pem =
                std::fs::read(ca).map_err(|e| format!("certificati {}: {e}", ca.display()))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| format!("certificati {}: {e}", ca.display()))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| format!("TLS: {e}"))
    };
    let mut t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host)
        .port(c.port)
        .timeout(Some(ATTESA_SMTP));
    t = match c.tls {
        TlsSmtp::Nessuno => t.tls(Tls::None),
        TlsSmtp::Starttls => t.tls(Tls::Required(tls(&c.host)?)),
        TlsSmtp::Implicito => t.tls(Tls::Wrapper(tls(&c.host)?)),
    };
    if let (Some(u), Some(p)) = (&c.utente, &c.password) {
        t = t.credentials(Credentials::new(u.clone(), p.esponi().to_string()));
    }
    Ok(Uscita {
        trasporto: t.build(),
        mittente,
        nome,
    })
}

impl Postino {
    /// The sender for this configuration; an error names a setting that cannot work.
    pub fn new(c: &crate::Config) -> Result<Self, String> {
        Ok(Self {
            smtp: c
                .smtp
                .as_ref()
                .map(|s| uscita(s, "smtp").map(Arc::new))
                .transpose()?,
            pec: c
                .pec
                .as_ref()
                .map(|s| uscita(s, "pec").map(Arc::new))
                .transpose()?,
            casella: c.modalita == Modalita::Sviluppo && c.smtp.is_none(),
            tentativi: c.posta_tentativi,
            ritardo_s: c.posta_ritardo_s,
        })
    }

    /// Delivers one message; the name of the transport used.
    async fn consegna(&self, m: &Messaggio) -> Result<&'static str, Mancata> {
        let uscita = match m.canale.as_str() {
            "pec" => self.pec.as_ref(),
            _ => self.smtp.as_ref(),
        };
        let Some(u) = uscita else {
            if self.casella {
                return Ok("casella");
            }
            return Err(Mancata::Temporanea(if m.canale == "pec" {
                "server PEC non configurato (--pec-host): il messaggio attende".into()
            } else {
                "server SMTP non configurato (--smtp-host): il messaggio attende".into()
            }));
        };
        let a = Mailbox::from_str(&m.destinatario).map_err(|e| {
            Mancata::Definitiva(format!("indirizzo «{}» non valido: {e}", m.destinatario))
        })?;
        let data: std::time::SystemTime = m.creato_il.into();
        let email = lettre::Message::builder()
            .from(u.mittente.clone())
            .to(a)
            .subject(m.oggetto.clone())
            .message_id(Some(m.id_messaggio.clone()))
            .date(data)
            .multipart(MultiPart::alternative_plain_html(
                m.testo.clone(),
                m.html.clone(),
            ))
            .map_err(|e| Mancata::Definitiva(format!("messaggio non componibile: {e}")))?;
        match u.trasporto.send(email).await {
            Ok(_) => Ok(u.nome),
            // A permanent SMTP refusal (5xx: no such mailbox, policy) will not change on retry.
            Err(e) if e.is_permanent() => Err(Mancata::Definitiva(format!(
                "rifiutato dal server {}: {e}",
                u.nome
            ))),
            Err(e) => Err(Mancata::Temporanea(format!(
                "server {} non raggiungibile o in errore: {e}",
                u.nome
            ))),
        }
    }
}

/// Starts this server's sender; it runs until the returned task is aborted.
pub fn avvia_postino(p: Piattaforma) -> Result<tokio::task::JoinHandle<()>, String> {
    let postino = Postino::new(&p.config)?;
    if !p.config.posta_attiva {
        tracing::info!("posta in uscita: questo server non invia (PUSH_POSTA_ATTIVA=false)");
        return Ok(tokio::spawn(async {}));
    }
    if p.config.modalita == Modalita::Produzione && p.config.smtp.is_none() {
        tracing::warn!(
            "nessun server SMTP configurato (--smtp-host): le notifiche restano in coda finché non lo si configura"
        );
    }
    Ok(tokio::spawn(async move {
        let esecutore = format!("posta-{}-{}", std::process::id(), casuale::token_url(6));
        loop {
            // A panic while sending one message must not stop the mail for good.
            let p2 = p.clone();
            let es = esecutore.clone();
            let pst = postino.clone_ref();
            let r = tokio::spawn(async move { ciclo(&p2, &pst, &es).await }).await;
            if let Err(e) = r {
                if e.is_cancelled() {
                    return;
                }
                tracing::error!("invio della posta caduto per un errore interno: riavvio");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }))
}

impl Postino {
    fn clone_ref(&self) -> Postino {
        Postino {
            smtp: self.smtp.clone(),
            pec: self.pec.clone(),
            casella: self.casella,
            tentativi: self.tentativi,
            ritardo_s: self.ritardo_s,
        }
    }
}

async fn ciclo(p: &Piattaforma, postino: &Postino, esecutore: &str) {
    loop {
        let adesso = ora();
        let lease = chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::seconds(180));
        match p
            .db
            .prendi_messaggio(esecutore, adesso, adesso + lease)
            .await
        {
            Ok(Some(m)) => invia_uno(p, postino, esecutore, m).await,
            Ok(None) => {
                tokio::select! {
                    _ = p.sveglia_posta.notified() => {}
                    _ = tokio::time::sleep(ATTESA_CODA) => {}
                }
            }
            Err(e) => {
                tracing::warn!(errore = %e, "posta in uscita non raggiungibile");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Delivers one taken message and records the outcome.
pub(crate) async fn invia_uno(p: &Piattaforma, postino: &Postino, esecutore: &str, m: Messaggio) {
    let esito = postino.consegna(&m).await;
    let r = match esito {
        Ok(trasporto) => {
            tracing::info!(messaggio = m.id, tipo = %m.tipo, trasporto, "messaggio inviato");
            p.db.messaggio_inviato(m.id, esecutore, trasporto, ora())
                .await
        }
        Err(Mancata::Definitiva(e)) => {
            tracing::warn!(messaggio = m.id, errore = %e, "messaggio non recapitabile");
            p.db.messaggio_fallito(m.id, esecutore, &e, None).await
        }
        Err(Mancata::Temporanea(e)) => {
            let riprova = (m.tentativi < postino.tentativi as i32).then(|| {
                ora()
                    + chrono::Duration::from_std(ritardo(postino.ritardo_s, m.tentativi))
                        .unwrap_or(chrono::Duration::hours(1))
            });
            tracing::warn!(messaggio = m.id, tentativo = m.tentativi, errore = %e, riprova = ?riprova, "invio non riuscito");
            p.db.messaggio_fallito(m.id, esecutore, &e, riprova).await
        }
    };
    match r {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            messaggio = m.id,
            "esito dell'invio non registrato: il messaggio era stato ripreso da un altro server"
        ),
        Err(e) => {
            tracing::warn!(messaggio = m.id, errore = %e, "esito dell'invio non registrato: sarà ritentato alla scadenza")
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn il_ritardo_raddoppia_fino_a_un_ora() {
        assert_eq!(ritardo(30, 1), Duration::from_secs(30));
        assert_eq!(ritardo(30, 2), Duration::from_secs(60));
        assert_eq!(ritardo(30, 3), Duration::from_secs(120));
        assert_eq!(ritardo(30, 40), Duration::from_secs(3600));
    }

    #[test]
    fn il_testo_diventa_html_senza_marcatori() {
        let h = html_da_testo(
            "Oggetto <b>",
            "Ciao <script>alert(1)</script>\n\nSecondo & fine",
        );
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;"));
        assert!(h.contains("<p>Secondo &amp; fine</p>"));
        assert!(h.contains("<title>Oggetto &lt;b&gt;</title>"));
    }

    #[test]
    fn l_oggetto_sta_su_una_riga() {
        assert_eq!(una_riga("a\r\nBcc: x@y", 100), "a  Bcc: x@y");
    }
}
