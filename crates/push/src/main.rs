//! `push`: the single binary of PUSH – Puglia Social Housing. Thin by design: it parses the
//! command line into a configuration and calls the services or the web layer.

/// mimalloc instead of glibc's malloc: the validator and the list pages allocate many small
/// strings, and glibc's allocator was a fifth of a list page's CPU (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATORE: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};
use dominio::{Area, CodiceEnte};
use servizi::config::{Modalita, Segreto, Strato, TlsSmtp};
use servizi::demo::Scenario;
use servizi::token::Richiedente;
use servizi::{Config, Piattaforma};

mod validate;

const MODELLO_AIUTO: &str = "{about-with-newline}\nUso: {usage}\n\n{all-args}{after-help}";

#[derive(Parser)]
#[command(
    name = "push",
    about = "PUSH – Puglia Social Housing: la piattaforma della Regione Puglia per lo scambio di dati sull'edilizia residenziale pubblica.",
    help_template = MODELLO_AIUTO,
    disable_help_flag = true,
    disable_help_subcommand = true,
    disable_version_flag = true,
    subcommand_help_heading = "Comandi",
    subcommand_value_name = "COMANDO",
    arg_required_else_help = true,
    override_usage = "push <COMANDO> [OPZIONI]"
)]
struct Cli {
    #[command(flatten)]
    config: Impostazioni,
    #[command(subcommand)]
    comando: Comando,
    /// Mostra questo aiuto.
    #[arg(short = 'h', long = "help", action = ArgAction::Help, global = true, help_heading = "Generali")]
    aiuto: Option<bool>,
}

/// Settings shared by every command. Order: defaults, then `--config` file, then environment
/// variables and options (which win).
#[derive(Args, Clone)]
#[command(next_help_heading = "Configurazione (valgono per tutti i comandi)")]
struct Impostazioni {
    /// File TOML di configurazione (stesse chiavi delle opzioni, con «_»: listen, data_dir, database_url…).
    #[arg(long, global = true, env = "PUSH_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Indirizzo e porta di ascolto [predefinito: 127.0.0.1:8080].
    #[arg(long, global = true, env = "PUSH_LISTEN", value_name = "IND:PORTA")]
    listen: Option<SocketAddr>,
    /// Cartella dei dati (database SQLite, file, segreto di sessione) [predefinita: ./push-data].
    #[arg(long, global = true, env = "PUSH_DATA_DIR", value_name = "CARTELLA")]
    data_dir: Option<PathBuf>,
    /// Database: sqlite://FILE o postgres://… [predefinito: SQLite nella cartella dei dati].
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Indirizzo pubblico del sito, usato per i link e il ritorno da SPID (https://… abilita i cookie Secure) [predefinito: http://IND:PORTA].
    #[arg(long, global = true, env = "PUSH_BASE_URL", value_name = "URL")]
    base_url: Option<String>,
    /// Modalità: sviluppo o produzione [predefinita: sviluppo].
    #[arg(long, global = true, env = "PUSH_MODALITA", value_name = "MODALITÀ")]
    modalita: Option<Modalita>,
    /// Abilita l'accesso di sviluppo (scelta di una persona dimostrativa): vietato in produzione [predefinito: sì in sviluppo].
    #[arg(
        long,
        global = true,
        env = "PUSH_ACCESSO_SVILUPPO",
        value_name = "true|false",
        hide_possible_values = true
    )]
    accesso_sviluppo: Option<bool>,
    /// Issuer OpenID Connect del gateway SPID/CIE della Regione.
    #[arg(long, global = true, env = "PUSH_OIDC_ISSUER", value_name = "URL")]
    oidc_issuer: Option<String>,
    /// Client id OpenID Connect.
    #[arg(long, global = true, env = "PUSH_OIDC_CLIENT_ID", value_name = "ID")]
    oidc_client_id: Option<String>,
    /// Client secret OpenID Connect (meglio dall'ambiente che dalla riga di comando).
    #[arg(
        long,
        global = true,
        env = "PUSH_OIDC_CLIENT_SECRET",
        value_name = "SEGRETO",
        hide_env_values = true
    )]
    oidc_client_secret: Option<String>,
    /// Server SMTP per le notifiche (usato dalle notifiche e-mail/PEC).
    #[arg(long, global = true, env = "PUSH_SMTP_HOST", value_name = "HOST")]
    smtp_host: Option<String>,
    /// Porta SMTP [predefinita: 587 con starttls, 465 con implicito, 25 con nessuno].
    #[arg(long, global = true, env = "PUSH_SMTP_PORT", value_name = "PORTA")]
    smtp_port: Option<u16>,
    /// Protezione della connessione SMTP: nessuno (solo per un relay sulla stessa macchina), starttls o implicito [predefinita: starttls].
    #[arg(
        long,
        global = true,
        env = "PUSH_SMTP_TLS",
        value_name = "nessuno|starttls|implicito"
    )]
    smtp_tls: Option<TlsSmtp>,
    /// Certificati PEM di autorità aggiuntive per i server SMTP e PEC (una CA interna).
    #[arg(long, global = true, env = "PUSH_SMTP_CA", value_name = "FILE")]
    smtp_ca: Option<PathBuf>,
    /// Server SMTP del gestore PEC, per i messaggi all'indirizzo PEC degli enti.
    #[arg(long, global = true, env = "PUSH_PEC_HOST", value_name = "HOST")]
    pec_host: Option<String>,
    /// Porta del server PEC [predefinita: 465 con implicito, 587 con starttls].
    #[arg(long, global = true, env = "PUSH_PEC_PORT", value_name = "PORTA")]
    pec_port: Option<u16>,
    /// Protezione della connessione al server PEC [predefinita: implicito].
    #[arg(
        long,
        global = true,
        env = "PUSH_PEC_TLS",
        value_name = "nessuno|starttls|implicito"
    )]
    pec_tls: Option<TlsSmtp>,
    /// Utente della casella PEC.
    #[arg(long, global = true, env = "PUSH_PEC_UTENTE", value_name = "UTENTE")]
    pec_utente: Option<String>,
    /// Password della casella PEC.
    #[arg(
        long,
        global = true,
        env = "PUSH_PEC_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pec_password: Option<String>,
    /// Indirizzo PEC mittente [predefinito: il mittente delle notifiche].
    #[arg(
        long,
        global = true,
        env = "PUSH_PEC_MITTENTE",
        value_name = "INDIRIZZO"
    )]
    pec_mittente: Option<String>,
    /// Tentativi di invio di un messaggio prima di segnarlo «in errore» [predefiniti: 10].
    #[arg(long, global = true, env = "PUSH_POSTA_TENTATIVI", value_name = "N")]
    posta_tentativi: Option<u32>,
    /// Attesa dopo il primo invio non riuscito, in secondi; raddoppia a ogni tentativo fino a un'ora [predefinita: 30].
    #[arg(
        long,
        global = true,
        env = "PUSH_POSTA_RITARDO_S",
        value_name = "SECONDI"
    )]
    posta_ritardo_s: Option<u64>,
    /// Se questo server invia la posta in uscita; false se la invia un altro server [predefinito: true].
    #[arg(
        long,
        global = true,
        env = "PUSH_POSTA_ATTIVA",
        value_name = "true|false",
        hide_possible_values = true
    )]
    posta_attiva: Option<bool>,
    /// Utente SMTP.
    #[arg(long, global = true, env = "PUSH_SMTP_UTENTE", value_name = "UTENTE")]
    smtp_utente: Option<String>,
    /// Password SMTP.
    #[arg(
        long,
        global = true,
        env = "PUSH_SMTP_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    smtp_password: Option<String>,
    /// Dimensione massima di un flusso caricato, in MB [predefinita: 200].
    #[arg(
        long,
        global = true,
        env = "PUSH_LIMITE_CARICAMENTO_MB",
        value_name = "MB"
    )]
    limite_caricamento_mb: Option<u64>,
    /// Durata massima della validazione di un flusso, in secondi [predefinita: 900].
    #[arg(
        long,
        global = true,
        env = "PUSH_LIMITE_VALIDAZIONE_S",
        value_name = "SECONDI"
    )]
    limite_validazione_s: Option<u64>,
    /// Giorni senza SAL dopo i quali un cantiere con lavori in corso è «fermo» [predefinita: 365].
    #[arg(
        long,
        global = true,
        env = "PUSH_SOGLIA_FERMO_GIORNI",
        value_name = "GIORNI"
    )]
    soglia_fermo_giorni: Option<u32>,
    /// Durata del turno di un lavoro in background prima che un altro server possa riprenderlo, in secondi [predefinita: 60].
    #[arg(
        long,
        global = true,
        env = "PUSH_LEASE_LAVORI_S",
        value_name = "SECONDI"
    )]
    lease_lavori_s: Option<u64>,
    /// Ogni quanto un esecutore inattivo controlla la coda dei lavori, in millisecondi [predefinito: 1000].
    #[arg(long, global = true, env = "PUSH_ATTESA_LAVORI_MS", value_name = "MS")]
    attesa_lavori_ms: Option<u64>,
    /// Quante volte un lavoro in background viene avviato prima di rinunciare (il flusso diventa non valido, con il motivo) [predefinito: 3].
    #[arg(long, global = true, env = "PUSH_TENTATIVI_LAVORI", value_name = "N")]
    tentativi_lavori: Option<u32>,
    /// Quanti lavori in background questo server esegue insieme; 0 per nessuno [predefinito: 2].
    #[arg(long, global = true, env = "PUSH_LAVORI_PARALLELI", value_name = "N")]
    lavori_paralleli: Option<usize>,
    /// Quante ricerche nel registro (q=) questo server esegue insieme; le altre attendono un posto, poi ricevono «riprovi tra poco» (503) [predefinito: metà delle connessioni al database].
    #[arg(long, global = true, env = "PUSH_RICERCHE_PARALLELE", value_name = "N")]
    ricerche_parallele: Option<usize>,
    /// Tempo massimo di una ricerca nel registro, in millisecondi: oltre, la ricerca viene fermata (503) [predefinito: 3000].
    #[arg(
        long,
        global = true,
        env = "PUSH_RICERCA_TEMPO_MASSIMO_MS",
        value_name = "MS"
    )]
    ricerca_tempo_massimo_ms: Option<u64>,
    /// Indirizzo delle tessere della mappa ({z}/{x}/{y}), per esempio https://tile.openstreetmap.org/{z}/{x}/{y}.png; senza, le mappe mostrano solo i punti e i browser non contattano terzi [predefinito: nessuno].
    #[arg(long, global = true, env = "PUSH_TILE_URL", value_name = "URL")]
    tile_url: Option<String>,
    /// Quante validazioni il validatore pubblico (senza accesso) esegue insieme; le altre ricevono «riprovi tra poco» (503) [predefinito: 2].
    #[arg(
        long,
        global = true,
        env = "PUSH_VALIDATORE_SIMULTANEI",
        value_name = "N"
    )]
    validatore_simultanei: Option<u32>,
    /// Quanti file al minuto uno stesso indirizzo IP può inviare al validatore pubblico; oltre riceve 429 [predefinito: 10].
    #[arg(
        long,
        global = true,
        env = "PUSH_VALIDATORE_AL_MINUTO",
        value_name = "N"
    )]
    validatore_al_minuto: Option<u32>,
    /// Quante richieste ai dati pubblici (servizio geografico /ogc, dati aperti, cruscotto pubblico) questo server serve insieme; le altre ricevono 503 [predefinito: 8].
    #[arg(
        long,
        global = true,
        env = "PUSH_PUBBLICO_SIMULTANEI",
        value_name = "N"
    )]
    pubblico_simultanei: Option<u32>,
    /// Quante richieste al minuto ai dati pubblici può fare uno stesso indirizzo IP; oltre riceve 429 [predefinito: 600].
    #[arg(long, global = true, env = "PUSH_PUBBLICO_AL_MINUTO", value_name = "N")]
    pubblico_al_minuto: Option<u32>,
    /// Attesa massima delle intestazioni di una richiesta prima di chiudere la connessione, in secondi [predefinita: 10].
    #[arg(
        long,
        global = true,
        env = "PUSH_ATTESA_INTESTAZIONI_S",
        value_name = "SECONDI"
    )]
    attesa_intestazioni_s: Option<u64>,
    /// Pausa massima tra due parti del corpo di una richiesta (un invio fermo termina con 408), in secondi [predefinita: 30].
    #[arg(
        long,
        global = true,
        env = "PUSH_ATTESA_CORPO_S",
        value_name = "SECONDI"
    )]
    attesa_corpo_s: Option<u64>,
    /// Tempo massimo per ricevere il corpo intero di una richiesta (moduli, validatore pubblico, API), in secondi [predefinita: 60].
    #[arg(
        long,
        global = true,
        env = "PUSH_DURATA_CORPO_S",
        value_name = "SECONDI"
    )]
    durata_corpo_s: Option<u64>,
    /// Tempo massimo per ricevere un flusso caricato (fino a --limite-caricamento-mb), in secondi [predefinita: 900].
    #[arg(
        long,
        global = true,
        env = "PUSH_DURATA_CARICAMENTO_S",
        value_name = "SECONDI"
    )]
    durata_caricamento_s: Option<u64>,
    /// Certificati delle autorità di certificazione riconosciute (una cartella, o un file PEM con più certificati), per dire se il firmatario di un file .p7m è verificato; senza, nessun firmatario risulta verificato.
    #[arg(
        long,
        global = true,
        env = "PUSH_FIRME_ANCORE",
        value_name = "CARTELLA|FILE"
    )]
    firme_ancore: Option<PathBuf>,
    /// Mittente delle notifiche [predefinito: push@regione.puglia.it].
    #[arg(
        long,
        global = true,
        env = "PUSH_SMTP_MITTENTE",
        value_name = "INDIRIZZO"
    )]
    smtp_mittente: Option<String>,
    /// Segreto delle sessioni (almeno 32 caratteri): obbligatorio in produzione; in sviluppo è generato e salvato nella cartella dei dati.
    #[arg(
        long,
        global = true,
        env = "PUSH_SESSION_SECRET",
        value_name = "SEGRETO",
        hide_env_values = true
    )]
    session_secret: Option<String>,
    /// Durata delle sessioni in ore [predefinita: 8].
    #[arg(
        long,
        global = true,
        env = "PUSH_DURATA_SESSIONE_ORE",
        value_name = "ORE"
    )]
    durata_sessione_ore: Option<u32>,
    /// Livello dei log (filtro tracing, es. info, debug, web=debug) [predefinito: info].
    #[arg(long, global = true, env = "PUSH_LOG", value_name = "FILTRO")]
    log: Option<String>,
}

#[derive(Subcommand)]
enum Comando {
    /// Avvia il server web.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push serve [--demo] [OPZIONI]", next_help_heading = "Opzioni")]
    Serve {
        /// Se il database è vuoto, carica la dimostrazione prima di avviare.
        #[arg(long)]
        demo: bool,
    },
    /// Applica le migrazioni del database ed esce.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push migrate [OPZIONI]", next_help_heading = "Opzioni")]
    Migrate,
    /// Gestisce i token delle applicazioni degli enti.
    #[command(subcommand, help_template = MODELLO_AIUTO, subcommand_help_heading = "Comandi", subcommand_value_name = "COMANDO", override_usage = "push token <COMANDO>")]
    Token(ComandoToken),
    /// Carica i dati dimostrativi in un database vuoto.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push demo [--scenario marzo-2018] [--sostituisci] [OPZIONI]", next_help_heading = "Opzioni")]
    Demo {
        #[command(subcommand)]
        azione: Option<AzioneDemo>,
        /// Scenario da caricare: «marzo-2018» carica esattamente lo stato annunciato il 12 marzo 2018.
        #[arg(long, value_name = "NOME")]
        scenario: Option<String>,
        /// Cancella i dati esistenti (tranne i dati di riferimento) prima di caricare.
        #[arg(long)]
        sostituisci: bool,
    },
    /// Controlla un flusso (senza database): stampa il rapporto; esce con 0 se valido, 1 se non valido, 2 se il comando non può essere eseguito.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push validate --dominio <DOMINIO> [--ente <CODICE>] [--programmi <FILE>] [--patrimonio <FILE>] [--formato <testo|json|csv>] <FILE>", next_help_heading = "Opzioni")]
    Validate(ArgomentiValidate),
    /// Esporta la specifica di un flusso: descrittore Table Schema (Frictionless), modello XLSX o ZIP di CSV vuoti.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push spec --dominio <DOMINIO> --formato <tableschema|xlsx|csv-zip> [--output <FILE>]", next_help_heading = "Opzioni")]
    Spec {
        /// Dominio: patrimonio, contabilita o programmi.
        #[arg(long, value_name = "DOMINIO")]
        dominio: String,
        /// tableschema (stampato sullo standard output se manca --output), xlsx o csv-zip.
        #[arg(long, value_name = "FORMATO")]
        formato: String,
        /// File da scrivere (obbligatorio per xlsx e csv-zip).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Registro delle operazioni (audit).
    #[command(subcommand, help_template = MODELLO_AIUTO, subcommand_help_heading = "Comandi", subcommand_value_name = "COMANDO", override_usage = "push audit <COMANDO>")]
    Audit(ComandoAudit),
}

#[derive(Subcommand)]
enum AzioneDemo {
    /// Genera un flusso realistico e deterministico (senza database), per prove e misure.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push demo genera --dominio <patrimonio|contabilita|programmi> --output <FILE> [--unita <N>] [--interventi <N>] [--fabbricati <N>] [--alla-data <AAAA-MM-GG>] [--ente <CODICE>] [--seme <N>]", next_help_heading = "Opzioni")]
    Genera(ArgomentiGenera),
}

/// The options of `push demo genera` (see [`validate::genera`]).
#[derive(Args)]
pub struct ArgomentiGenera {
    /// Dominio del flusso: patrimonio, contabilita o programmi (l'elenco dei programmi della Regione).
    #[arg(long, value_name = "DOMINIO")]
    pub dominio: String,
    /// Numero di unità immobiliari (patrimonio).
    #[arg(long, value_name = "N")]
    pub unita: Option<u64>,
    /// Numero di interventi (contabilita).
    #[arg(long, value_name = "N")]
    pub interventi: Option<u64>,
    /// Fabbricati del patrimonio dell'ente a cui collegare gli interventi (FAB000001 … FAB<N>, i codici del flusso patrimonio generato); 0: nessun collegamento (contabilita).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fabbricati: u64,
    /// Giorno di riferimento dei dati (contabilita): le date sono contate all'indietro da questo; predefinito oggi.
    #[arg(long, value_name = "AAAA-MM-GG")]
    pub alla_data: Option<String>,
    /// File da scrivere: .zip (CSV), .xlsx, oppure una cartella (CSV).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Ente dichiarante: codice ISTAT del Comune, codice ARCA o REGIONE.
    #[arg(long, value_name = "CODICE", default_value = "ARCA-PC")]
    pub ente: String,
    /// Seme del generatore: lo stesso seme produce gli stessi file.
    #[arg(long, value_name = "N", default_value_t = 2018)]
    pub seme: u64,
}

#[derive(Args)]
struct ArgomentiValidate {
    /// Dominio del flusso: patrimonio, contabilita o programmi.
    #[arg(long, value_name = "DOMINIO")]
    dominio: String,
    /// Ente dichiarante (codice ISTAT del Comune, codice ARCA o REGIONE): abilita il controllo fuori_territorio.
    #[arg(long, value_name = "CODICE")]
    ente: Option<String>,
    /// File dei programmi della Regione, per il controllo programma_sconosciuto (flusso contabilita).
    #[arg(long, value_name = "FILE")]
    programmi: Option<PathBuf>,
    /// Flusso del patrimonio dell'ente, per il controllo fabbricato_sconosciuto (flusso contabilita).
    #[arg(long, value_name = "FILE")]
    patrimonio: Option<PathBuf>,
    /// Formato del rapporto: testo (predefinito), json o csv.
    #[arg(long, value_name = "FORMATO", default_value = "testo")]
    formato: String,
    /// Dimensione massima del file in MB [predefinita: 200].
    #[arg(long, value_name = "MB", env = "PUSH_LIMITE_MB")]
    limite_mb: Option<u64>,
    /// Righe massime per tabella [predefinite: 5 000 000].
    #[arg(long, value_name = "N", env = "PUSH_LIMITE_RIGHE")]
    limite_righe: Option<u64>,
    /// Tempo massimo della validazione in secondi [predefinito: nessuno].
    #[arg(long, value_name = "SECONDI", env = "PUSH_LIMITE_SECONDI")]
    limite_secondi: Option<u64>,
    /// Il file da controllare: .xlsx, .zip, .csv, .json, anche firmato .p7m.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Subcommand)]
enum ComandoToken {
    /// Crea un token e lo stampa (solo il token) sullo standard output.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push token create (--ente <CODICE> --area <AREE> | --regione) [--nome <NOME>] [OPZIONI]", next_help_heading = "Opzioni")]
    Create {
        /// Codice dell'ente: ISTAT del Comune, codice ARCA o REGIONE.
        #[arg(
            long,
            value_name = "CODICE",
            required_unless_present = "regione",
            conflicts_with = "regione"
        )]
        ente: Option<String>,
        /// Aree del token: PATRIMONIO e/o PROGRAMMI, separate da virgola.
        #[arg(
            long,
            value_name = "AREE",
            required_unless_present = "regione",
            conflicts_with = "regione"
        )]
        area: Option<String>,
        /// Token della Regione (senza aree).
        #[arg(long)]
        regione: bool,
        /// Nome descrittivo del token.
        #[arg(long, value_name = "NOME")]
        nome: Option<String>,
    },
    /// Elenca i token (mai il loro valore).
    #[command(help_template = MODELLO_AIUTO, override_usage = "push token list [--ente <CODICE>] [OPZIONI]", next_help_heading = "Opzioni")]
    List {
        /// Solo i token di questo ente.
        #[arg(long, value_name = "CODICE")]
        ente: Option<String>,
    },
    /// Revoca un token.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push token revoke <ID> [OPZIONI]", next_help_heading = "Opzioni")]
    Revoke {
        /// Numero del token (da «push token list»).
        id: i64,
    },
}

#[derive(Subcommand)]
enum ComandoAudit {
    /// Verifica l'intera catena del registro delle operazioni; indica la prima voce rotta.
    #[command(help_template = MODELLO_AIUTO, override_usage = "push audit verify [OPZIONI]", next_help_heading = "Opzioni")]
    Verify,
}

impl Impostazioni {
    fn config(&self) -> anyhow::Result<Config> {
        let da_riga = Strato {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            database_url: self
                .database_url
                .clone()
                .filter(|u| !u.trim().is_empty())
                .map(Segreto::new),
            base_url: self.base_url.clone(),
            modalita: self.modalita,
            accesso_sviluppo: self.accesso_sviluppo,
            oidc_issuer: self.oidc_issuer.clone(),
            oidc_client_id: self.oidc_client_id.clone(),
            oidc_client_secret: self.oidc_client_secret.clone().map(Segreto::new),
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            smtp_utente: self.smtp_utente.clone(),
            smtp_password: self.smtp_password.clone().map(Segreto::new),
            smtp_mittente: self.smtp_mittente.clone(),
            smtp_tls: self.smtp_tls,
            smtp_ca: self.smtp_ca.clone(),
            pec_host: self.pec_host.clone(),
            pec_port: self.pec_port,
            pec_tls: self.pec_tls,
            pec_utente: self.pec_utente.clone(),
            pec_password: self.pec_password.clone().map(Segreto::new),
            pec_mittente: self.pec_mittente.clone(),
            posta_tentativi: self.posta_tentativi,
            posta_ritardo_s: self.posta_ritardo_s,
            posta_attiva: self.posta_attiva,
            session_secret: self.session_secret.clone().map(Segreto::new),
            durata_sessione_ore: self.durata_sessione_ore,
            log: self.log.clone(),
            limite_caricamento_mb: self.limite_caricamento_mb,
            limite_validazione_s: self.limite_validazione_s,
            soglia_fermo_giorni: self.soglia_fermo_giorni,
            lease_lavori_s: self.lease_lavori_s,
            attesa_lavori_ms: self.attesa_lavori_ms,
            tentativi_lavori: self.tentativi_lavori,
            lavori_paralleli: self.lavori_paralleli,
            ricerche_parallele: self.ricerche_parallele,
            ricerca_tempo_massimo_ms: self.ricerca_tempo_massimo_ms,
            tile_url: self.tile_url.clone(),
            validatore_simultanei: self.validatore_simultanei,
            validatore_al_minuto: self.validatore_al_minuto,
            pubblico_simultanei: self.pubblico_simultanei,
            pubblico_al_minuto: self.pubblico_al_minuto,
            attesa_intestazioni_s: self.attesa_intestazioni_s,
            attesa_corpo_s: self.attesa_corpo_s,
            durata_corpo_s: self.durata_corpo_s,
            durata_caricamento_s: self.durata_caricamento_s,
            firme_ancore: self.firme_ancore.clone(),
        };
        let da_file = match &self.config {
            Some(f) => Strato::da_file(f)?,
            None => Strato::default(),
        };
        Ok(Config::risolvi(da_riga.sopra(da_file))?)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.config.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("errore: {e}");
            return ExitCode::from(2);
        }
    };
    // Demo data must never reach, or wipe, a production database.
    let solo_sviluppo = match &cli.comando {
        Comando::Serve { demo: true } => Some("push serve --demo"),
        // Loading the demo (even into an empty database) plants fictitious people with
        // regional roles and flows with protocol numbers; only `demo genera` writes a file.
        Comando::Demo {
            azione: None,
            sostituisci,
            ..
        } => Some(if *sostituisci {
            "push demo --sostituisci"
        } else {
            "push demo"
        }),
        _ => None,
    };
    if let Some(Err(e)) = solo_sviluppo.map(|c| config.solo_sviluppo(c)) {
        eprintln!("errore: {e}");
        return ExitCode::from(2);
    }
    let filtro = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filtro)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or journald gets plain text to search.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("errore: impossibile avviare il runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.comando {
        Comando::Demo {
            azione: Some(AzioneDemo::Genera(a)),
            ..
        } => {
            return validate::genera(&a);
        }
        Comando::Validate(a) => return validate::esegui(a, config.firme_ancore.as_deref()),
        Comando::Spec {
            dominio,
            formato,
            output,
        } => return validate::spec(&dominio, &formato, output.as_deref()),
        _ => {}
    }
    match rt.block_on(esegui(cli.comando, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("errore: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn esegui(comando: Comando, config: Config) -> anyhow::Result<ExitCode> {
    let listen = config.listen;
    let p = Piattaforma::avvia(config).await?;
    match comando {
        Comando::Serve { demo } => {
            if demo && p.senza_dati().await? {
                p.carica_demo(Scenario::Completo, false).await?;
                tracing::info!("dati dimostrativi caricati");
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("impossibile ascoltare su {listen}: {e}"))?;
            let indirizzo = listener.local_addr()?;
            tracing::info!(modalita = ?p.config.modalita, accesso_sviluppo = p.accesso_sviluppo_attivo(), "PUSH in ascolto su http://{indirizzo}");
            web::servi(p.clone(), listener, segnale_di_arresto()).await?;
            p.chiudi().await;
            Ok(ExitCode::SUCCESS)
        }
        Comando::Migrate => {
            println!("Migrazioni applicate.");
            Ok(ExitCode::SUCCESS)
        }
        Comando::Demo {
            scenario,
            sostituisci,
            ..
        } => {
            let scenario = match scenario.as_deref() {
                None => Scenario::Completo,
                Some("marzo-2018") => Scenario::Marzo2018,
                Some(altro) => anyhow::bail!(
                    "scenario «{altro}» sconosciuto: l'unico disponibile è marzo-2018"
                ),
            };
            let r = p.carica_demo(scenario, sostituisci).await?;
            println!("Dimostrazione caricata: {} enti registrati.", r.enti.len());
            if let Some(a) = &r.amministratore {
                println!("Amministratore regionale: {} ({})", a.nome, a.cf);
            }
            if let Some(i) = &r.istruttore {
                println!("Istruttore regionale: {} ({})", i.nome, i.cf);
            }
            for (ente, lr, rp, rg) in &r.enti {
                println!(
                    "{ente}: legale rappresentante {} ({}), referente patrimonio {} ({}), referente programmi {} ({})",
                    lr.nome, lr.cf, rp.nome, rp.cf, rg.nome, rg.cf
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Comando::Token(t) => token(&p, t).await,
        Comando::Validate(_) | Comando::Spec { .. } => Ok(ExitCode::from(2)),
        Comando::Audit(ComandoAudit::Verify) => match p.verifica_audit().await? {
            Ok(n) => {
                println!("Registro delle operazioni integro: {n} voci verificate.");
                Ok(ExitCode::SUCCESS)
            }
            Err(rottura) => {
                println!("Registro delle operazioni ALTERATO: {rottura}.");
                Ok(ExitCode::FAILURE)
            }
        },
    }
}

async fn token(p: &Piattaforma, t: ComandoToken) -> anyhow::Result<ExitCode> {
    match t {
        ComandoToken::Create {
            ente,
            area,
            regione,
            nome,
        } => {
            let (ente, aree) = if regione {
                (CodiceEnte::regione(), vec![])
            } else {
                let ente = CodiceEnte::parse(ente.as_deref().unwrap_or_default())?;
                let aree = Area::parse_elenco(area.as_deref().unwrap_or_default())?;
                (ente, aree)
            };
            let t = p
                .crea_token(
                    Richiedente::RigaDiComando,
                    &ente,
                    &aree,
                    nome.as_deref().unwrap_or(""),
                )
                .await?;
            println!("{}", t.segreto);
        }
        ComandoToken::List { ente } => {
            let ente = ente.as_deref().map(CodiceEnte::parse).transpose()?;
            for t in p
                .elenco_token(Richiedente::RigaDiComando, ente.as_ref())
                .await?
            {
                let stato = match t.revocato_il {
                    Some(d) => format!("revocato il {}", dominio::orologio::data_ora_it(d)),
                    None => "attivo".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.ente,
                    if t.aree.is_empty() { "-" } else { &t.aree },
                    t.nome,
                    dominio::orologio::data_ora_it(t.creato_il),
                    stato
                );
            }
        }
        ComandoToken::Revoke { id } => {
            p.revoca_token(Richiedente::RigaDiComando, None, id).await?;
            println!("Token {id} revocato.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn segnale_di_arresto() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("arresto in corso");
}
