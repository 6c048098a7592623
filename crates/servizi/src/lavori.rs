//! The background workers: take jobs from the durable queue in the database (see
//! `archivio::flussi` for the locking and the fair choice across entities), keep their lease
//! alive while they work, and run them: the validation of an uploaded flow, the
//! (re)computation of a flow's difference.
//!
//! A server runs `lavori_paralleli` workers, so that a small flow does not wait behind another
//! entity's large one. Each worker is supervised: a panic restarts it after a growing pause,
//! and [`SaluteLavori`] tells `/healthz` whether every worker is alive and showing signs of
//! life.
//!
//! A job whose worker died is taken again when its lease expires; the work of a worker that
//! lost its lease is rolled back (its final write checks that it still holds the job), so a
//! job's effects happen exactly once. A job started `tentativi_lavori` times without ending
//! (a file that kills the process would otherwise crash-loop every server) is given up: the
//! flow ends `non_valido` with an Italian explanation in its report.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use archivio::{Lavoro, NuovaVoce, SegnalazioneRiga};
use flussi::lettori::dati::Dati;
use flussi::{Dichiarante, Opzioni};

use crate::registro::{self, Contesto, Raccoglitore};
use crate::{ErroreServizio, Esito, Piattaforma, audit, casuale, ora};

/// The code of the issue that explains a flow given up after its attempts (a file-level
/// problem of the file, in the spec's list).
const CODICE_NON_ELABORABILE: &str = "file_illeggibile";

/// The first pause before a crashed worker is restarted; it doubles up to [`RIAVVIO_MAX`].
const RIAVVIO_MIN: Duration = Duration::from_secs(1);
const RIAVVIO_MAX: Duration = Duration::from_secs(60);
/// A worker that ran this long before crashing is restarted after the first pause again.
const RIAVVIO_AZZERA: Duration = Duration::from_secs(300);

/// One worker's state, for `/healthz`.
#[derive(Default)]
struct Posto {
    vivo: AtomicBool,
    /// Milliseconds since the Unix epoch of the last sign of life.
    battito_ms: AtomicI64,
    riavvii: AtomicU32,
}

/// The health of this server's workers.
pub struct SaluteLavori {
    posti: Vec<Posto>,
    avviati: AtomicBool,
    /// After this long without a sign of life a worker counts as stuck.
    soglia_ms: i64,
    /// Fault injection for the supervision test (never in production): panics to raise.
    panici_di_prova: AtomicU32,
    /// Fault injection for the crash-loop test (never in production): abort the process when
    /// a validation starts.
    aborto_di_prova: bool,
    /// Fault injection for the fairness test (never in production): the validations of this
    /// entity pause for so many milliseconds before ending.
    pausa_di_prova: Option<(String, u64)>,
}

/// One worker as `/healthz` reports it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StatoPosto {
    pub posto: usize,
    pub attivo: bool,
    pub secondi_dall_ultimo_segnale: i64,
    pub riavvii: u32,
}

fn adesso_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SaluteLavori {
    pub(crate) fn new(c: &crate::Config) -> Self {
        let prova = c.modalita != crate::Modalita::Produzione;
        let env = |k: &str| prova.then(|| std::env::var(k).ok()).flatten();
        Self {
            posti: (0..c.lavori_paralleli).map(|_| Posto::default()).collect(),
            avviati: AtomicBool::new(false),
            soglia_ms: (30_000_u64)
                .max(3 * c.attesa_lavori_ms)
                .max(c.lease_lavori_s * 1000) as i64,
            panici_di_prova: AtomicU32::new(
                env("PUSH_PROVA_PANICO_LAVORI")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            ),
            aborto_di_prova: env("PUSH_PROVA_ABORTO_VALIDAZIONE").is_some_and(|v| v == "1"),
            pausa_di_prova: env("PUSH_PROVA_PAUSA_VALIDAZIONE").and_then(|v| {
                let (e, ms) = v.split_once(':')?;
                Some((e.to_string(), ms.parse().ok()?))
            }),
        }
    }

    fn battito(&self, posto: usize) {
        if let Some(p) = self.posti.get(posto) {
            p.battito_ms.store(adesso_ms(), Ordering::Relaxed);
        }
    }

    fn vivo(&self, posto: usize, vivo: bool) {
        if let Some(p) = self.posti.get(posto) {
            p.vivo.store(vivo, Ordering::Relaxed);
            p.battito_ms.store(adesso_ms(), Ordering::Relaxed);
        }
    }

    /// Each worker's state; empty when this server runs no workers.
    pub fn stato(&self) -> Vec<StatoPosto> {
        if !self.avviati.load(Ordering::Relaxed) {
            return vec![];
        }
        let ora = adesso_ms();
        self.posti
            .iter()
            .enumerate()
            .map(|(i, p)| StatoPosto {
                posto: i + 1,
                attivo: p.vivo.load(Ordering::Relaxed),
                secondi_dall_ultimo_segnale: (ora - p.battito_ms.load(Ordering::Relaxed)).max(0)
                    / 1000,
                riavvii: p.riavvii.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// `None` when every worker is alive and showed a sign of life recently; else why not, in
    /// Italian.
    pub fn guasto(&self) -> Option<String> {
        let soglia = self.soglia_ms;
        let mut guasti = Vec::new();
        for s in self.stato() {
            if !s.attivo {
                guasti.push(format!(
                    "l'esecutore {} dei lavori in background non è attivo (caduto per un errore interno, riavvii: {})",
                    s.posto, s.riavvii
                ));
            } else if s.secondi_dall_ultimo_segnale * 1000 > soglia {
                guasti.push(format!(
                    "l'esecutore {} dei lavori in background non dà segni di vita da {} secondi",
                    s.posto, s.secondi_dall_ultimo_segnale
                ));
            }
        }
        (!guasti.is_empty()).then(|| {
            let mut t = guasti.join("; ");
            if let Some(p) = t.get(..1) {
                t = format!("{}{}", p.to_uppercase(), &t[1..]);
            }
            t + ": la validazione dei flussi caricati su questo server è ferma."
        })
    }
}

/// Aborts a task when dropped (also while unwinding from a panic), so a job's lease renewal
/// never outlives the job.
struct Annulla(tokio::task::AbortHandle);

impl Drop for Annulla {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts this server's supervised workers (`lavori_paralleli` of them); they run until the
/// returned task is aborted or the runtime stops.
pub fn avvia_esecutore(p: Piattaforma) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let n = p.lavori.posti.len();
        p.lavori.avviati.store(true, Ordering::Relaxed);
        // Dropping the set (when this task is aborted) aborts every worker.
        let mut set = tokio::task::JoinSet::new();
        for posto in 0..n {
            set.spawn(sorveglia(p.clone(), posto));
        }
        while set.join_next().await.is_some() {}
    })
}

/// Runs one worker and restarts it after a panic, with a pause that doubles each time.
async fn sorveglia(p: Piattaforma, posto: usize) {
    let mut pausa = RIAVVIO_MIN;
    loop {
        let inizio = std::time::Instant::now();
        let mut set = tokio::task::JoinSet::new();
        let p2 = p.clone();
        p.lavori.vivo(posto, true);
        set.spawn(async move { p2.ciclo_esecutore(posto).await });
        let esito = set.join_next().await;
        p.lavori.vivo(posto, false);
        match esito {
            Some(Err(e)) if e.is_panic() => {
                if inizio.elapsed() > RIAVVIO_AZZERA {
                    pausa = RIAVVIO_MIN;
                }
                if let Some(x) = p.lavori.posti.get(posto) {
                    x.riavvii.fetch_add(1, Ordering::Relaxed);
                }
                tracing::error!(
                    posto = posto + 1,
                    pausa_s = pausa.as_secs(),
                    "esecutore dei lavori caduto per un errore interno: riavvio dopo la pausa"
                );
                tokio::time::sleep(pausa).await;
                pausa = (pausa * 2).min(RIAVVIO_MAX);
            }
            _ => return,
        }
    }
}

impl Piattaforma {
    /// One worker's loop: take a job, run it; wait for a wake-up or the polling interval when
    /// the queue is empty.
    async fn ciclo_esecutore(&self, posto: usize) {
        let esecutore = format!(
            "{}-{}-{}",
            std::process::id(),
            posto + 1,
            casuale::token_url(6)
        );
        tracing::info!(esecutore, "esecutore dei lavori avviato");
        loop {
            self.lavori.battito(posto);
            let adesso = ora();
            let lease = chrono::Duration::seconds(self.config.lease_lavori_s as i64);
            match self
                .db
                .prendi_lavoro(&esecutore, adesso, adesso + lease)
                .await
            {
                Ok(Some(l)) => {
                    if self
                        .lavori
                        .panici_di_prova
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        tracing::warn!("prova: esecutore in panico");
                        panic!("prova: esecutore in panico");
                    }
                    self.esegui_lavoro_da(&esecutore, l, Some(posto)).await
                }
                Ok(None) => {
                    tokio::select! {
                        _ = self.sveglia.notified() => {}
                        _ = tokio::time::sleep(Duration::from_millis(self.config.attesa_lavori_ms)) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(errore = %e, "coda dei lavori non raggiungibile");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    pub(crate) async fn esegui_lavoro(&self, esecutore: &str, l: Lavoro) {
        self.esegui_lavoro_da(esecutore, l, None).await
    }

    async fn esegui_lavoro_da(&self, esecutore: &str, l: Lavoro, posto: Option<usize>) {
        tracing::info!(lavoro = l.id, tipo = %l.tipo, flusso = l.flusso, tentativo = l.tentativi, "lavoro iniziato");
        // Earlier attempts were started and never ended: each time the process died, or the
        // worker lost its lease. Running it again would crash-loop.
        if l.tentativi > self.config.tentativi_lavori as i32 {
            tracing::error!(
                lavoro = l.id,
                flusso = l.flusso,
                tentativi = l.tentativi - 1,
                "lavoro abbandonato: tentativi esauriti"
            );
            if let Err(e) = self.abbandona_lavoro(esecutore, &l, None).await {
                tracing::warn!(errore = %e, "lavoro abbandonato non registrato");
            }
            return;
        }
        // Keeps the lease alive (and the worker's heartbeat) while the job runs; aborted when
        // the job ends, also by a panic.
        let _rinnovo = {
            let db = self.db.clone();
            let es = esecutore.to_string();
            let secondi = self.config.lease_lavori_s;
            let salute = self.lavori.clone();
            Annulla(
                tokio::spawn(async move {
                    let ogni = Duration::from_secs((secondi / 3).max(1));
                    let mut ultimo = std::time::Instant::now();
                    loop {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        if let Some(posto) = posto {
                            salute.battito(posto);
                        }
                        if ultimo.elapsed() < ogni {
                            continue;
                        }
                        ultimo = std::time::Instant::now();
                        let scade = ora() + chrono::Duration::seconds(secondi as i64);
                        match db.rinnova_lavoro(l.id, &es, scade).await {
                            Ok(true) => {}
                            Ok(false) => break,
                            Err(e) => {
                                tracing::warn!(errore = %e, "rinnovo del lavoro non riuscito")
                            }
                        }
                    }
                })
                .abort_handle(),
            )
        };
        let esito = match l.tipo.as_str() {
            "validazione" => self.valida_flusso(esecutore, &l).await,
            "differenze" => self.lavoro_differenze(esecutore, &l).await,
            altro => Err(ErroreServizio::Interno(format!(
                "tipo di lavoro sconosciuto: {altro}"
            ))),
        };
        match esito {
            Ok(()) => tracing::info!(lavoro = l.id, "lavoro concluso"),
            Err(e) => {
                tracing::error!(lavoro = l.id, errore = %e, "lavoro non riuscito");
                let r = if l.tentativi < self.config.tentativi_lavori as i32 {
                    self.db
                        .rilascia_lavoro(l.id, esecutore)
                        .await
                        .map_err(Into::into)
                } else {
                    self.abbandona_lavoro(esecutore, &l, Some(&e.to_string()))
                        .await
                };
                if let Err(e) = r {
                    tracing::warn!(errore = %e, "stato del lavoro non aggiornato");
                }
            }
        }
    }

    /// Gives a job up after its last attempt. A validation ends the flow `non_valido`, with a
    /// report whose one issue explains, in Italian, that the file could not be processed (the
    /// entity and the Region read it on the flow's page and through the API).
    async fn abbandona_lavoro(
        &self,
        esecutore: &str,
        l: &Lavoro,
        causa: Option<&str>,
    ) -> Esito<()> {
        let tentativi = if causa.is_some() {
            l.tentativi
        } else {
            l.tentativi - 1
        };
        let errore = causa
            .map(str::to_string)
            .unwrap_or_else(|| format!("interrotto {tentativi} volte senza concludersi"));
        let adesso = ora();
        let f = self.db.flusso(l.flusso).await?;
        let da_chiudere = l.tipo == "validazione"
            && f.as_ref()
                .is_some_and(|f| matches!(f.stato.as_str(), "caricato" | "in_validazione"));
        let Some(f) = f.filter(|_| da_chiudere) else {
            let mut tx = self.db.inizia().await?;
            tx.chiudi_lavoro(l.id, esecutore, Some(&errore), adesso)
                .await?;
            return Ok(tx.commit().await?);
        };
        let messaggio = format!(
            "La validazione di questo file è stata avviata {tentativi} volte e non si è mai conclusa: \
             l'elaborazione del file interrompe il servizio o non termina. Il flusso è stato chiuso come \
             non valido perché non blocchi la validazione degli altri flussi. Controlli il file (per \
             esempio lo apra e lo salvi di nuovo, o lo esporti come ZIP di CSV) e lo carichi di nuovo; \
             se il problema si ripete, contatti l'assistenza della Regione indicando il numero del flusso ({}).",
            f.id
        );
        let segnalazione = flussi::report::Segnalazione {
            tabella: None,
            riga: None,
            campo: None,
            valore: None,
            codice: CODICE_NON_ELABORABILE.into(),
            gravita: flussi::spec::Gravita::Errore,
            messaggio: messaggio.clone(),
        };
        let rep = flussi::report::Report {
            dominio: f.dominio.to_string(),
            valido: false,
            errori: 1,
            avvisi: 0,
            troncato: false,
            tabelle: vec![],
            conteggi: [(CODICE_NON_ELABORABILE.to_string(), 1)].into(),
            segnalazioni: vec![segnalazione],
            firma: None,
            firme: vec![],
        };
        let cartella = self
            .deposito
            .lavoro()
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        let rep_file = cartella.path().join("report.json");
        std::fs::write(&rep_file, rep.json())
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        self.deposito
            .metti_derivato(&format!("flusso-{}/report.json", f.id), &rep_file)
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        self.db.inizia_validazione(f.id).await?;
        let mut tx = self.db.inizia().await?;
        tx.pulisci_validazione(f.id).await?;
        tx.inserisci_segnalazioni(
            f.id,
            &[SegnalazioneRiga {
                n: 1,
                tabella: None,
                riga: None,
                campo: None,
                valore: None,
                codice: CODICE_NON_ELABORABILE.into(),
                gravita: "errore".into(),
                messaggio,
                altro_ente: None,
            }],
        )
        .await?;
        tx.esito_validazione(f.id, false, 1, 0, 0, None, adesso)
            .await?;
        if !tx
            .chiudi_lavoro(l.id, esecutore, Some(&errore), adesso)
            .await?
        {
            return Err(ErroreServizio::Conflitto(
                "lavoro perso: scaduto il turno".into(),
            ));
        }
        tx.audit(
            NuovaVoce {
                attore: audit::SISTEMA,
                ente: Some(&f.ente),
                azione: "flusso.non_elaborabile",
                oggetto: format!("flusso:{}", f.id),
                dettagli: serde_json::json!({
                    "tentativi": tentativi, "errore": errore, "esecutore": esecutore,
                }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn lavoro_differenze(&self, esecutore: &str, l: &Lavoro) -> Esito<()> {
        self.calcola_differenze(l.flusso).await?;
        let mut tx = self.db.inizia().await?;
        tx.chiudi_lavoro(l.id, esecutore, None, ora()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Validates an uploaded flow: the engine with the platform's observer, progress written
    /// every half second, then the outcome, the issues and the rows in error in one
    /// transaction that also ends the job.
    async fn valida_flusso(&self, esecutore: &str, l: &Lavoro) -> Esito<()> {
        let id = l.flusso;
        let f = self
            .db
            .flusso(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        if !matches!(f.stato.as_str(), "caricato" | "in_validazione") {
            let mut tx = self.db.inizia().await?;
            tx.chiudi_lavoro(l.id, esecutore, None, ora()).await?;
            return Ok(tx.commit().await?);
        }
        let spec = flussi::spec::dominio(f.dominio.as_str())
            .ok_or_else(|| ErroreServizio::Interno(format!("dominio {}", f.dominio)))?;
        if self.lavori.aborto_di_prova {
            tracing::warn!(
                flusso = id,
                "prova: il processo termina all'avvio della validazione"
            );
            std::process::abort();
        }
        self.db.inizia_validazione(id).await?;
        let percorso = self
            .deposito
            .originale(&f.sha256)
            .map_err(|e| ErroreServizio::Interno(format!("file del flusso {id}: {e}")))?;
        // The limits of this validation, also for the estimate (which expands ZIP members).
        let limiti = flussi::lettori::Limiti {
            max_byte: self.config.limite_caricamento_mb * 1024 * 1024,
            scadenza: Some(
                std::time::Instant::now() + Duration::from_secs(self.config.limite_validazione_s),
            ),
            ..Default::default()
        };
        let stima = {
            let p = percorso.clone();
            let nome = f.nome_file.clone();
            let limiti = limiti.clone();
            tokio::task::spawn_blocking(move || flussi::lettori::stima_righe(&nome, &p, &limiti))
                .await
                .ok()
                .flatten()
        };
        self.db
            .stima_righe_flusso(id, stima.map(|n| n as i64))
            .await?;

        // What the platform's own checks need from the shared database.
        let mut cx = Contesto::default();
        if f.dominio == "patrimonio"
            && let Some(unita) = registro::tavola_di("unita")
        {
            cx.unita_attuali = self
                .db
                .chiavi_correnti(&unita.tavola, &f.ente)
                .await?
                .into_iter()
                .map(|(k, _, _)| k)
                .collect();
            cx.catasti_altrui = self
                .db
                .incroci_altrui(&unita.tavola, &f.ente)
                .await?
                .into_iter()
                .collect();
        }

        // Accounting: the Region's accepted programmes (`programma_sconosciuto`), the entity's
        // accepted buildings (`fabbricato_sconosciuto`), other entities' CUP (`cup_conteso`).
        let mut riferimenti = flussi::Riferimenti::default();
        if f.dominio == "contabilita" {
            let chiavi = |t: &'static registro::TavolaRegistro, ente: String| {
                let db = self.db.clone();
                async move {
                    Ok::<_, ErroreServizio>(
                        db.chiavi_correnti(&t.tavola, &ente)
                            .await?
                            .into_iter()
                            .map(|(k, _, _)| k)
                            .collect::<std::collections::HashSet<String>>(),
                    )
                }
            };
            if let Some(t) = registro::tavola_di("programmi") {
                riferimenti.programmi = Some(chiavi(t, "REGIONE".into()).await?);
            }
            if let Some(t) = registro::tavola_di("fabbricati") {
                riferimenti.fabbricati = Some(chiavi(t, f.ente.to_string()).await?);
            }
            if let Some(t) = registro::tavola_di("interventi") {
                cx.cup_altrui = self
                    .db
                    .incroci_altrui(&t.tavola, &f.ente)
                    .await?
                    .into_iter()
                    .collect();
            }
        }

        let lette: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let mut opzioni = Opzioni::new(self.orologio.oggi());
        opzioni.dichiarante = Dichiarante::da_codice(&f.ente);
        opzioni.riferimenti = riferimenti;
        opzioni.limiti = limiti;
        {
            let lette = lette.clone();
            opzioni.avanzamento = Some(Arc::new(move |t: &str, n: u64| {
                if let Ok(mut m) = lette.lock() {
                    m.insert(t.to_string(), n);
                }
            }));
        }
        // Removed with everything in it when this job ends, however it ends.
        let lavoro = self
            .deposito
            .lavoro()
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        let cartella = lavoro.path().join(format!("flusso-{id}"));
        let nome_file = f.nome_file.clone();
        let ancore = self.config.firme_ancore.clone();
        let mut compito = tokio::task::spawn_blocking(move || {
            let mut r = Raccoglitore::new(spec, cartella.clone(), cx)?;
            let rep = flussi::valida_file_con(
                &nome_file,
                Dati::File(percorso),
                spec,
                &opzioni,
                ancore.as_deref(),
                &mut r,
            );
            Ok::<_, std::io::Error>((rep, r, cartella))
        });
        let esito = loop {
            tokio::select! {
                r = &mut compito => break r,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    let n: u64 = lette.lock().map(|m| m.values().sum()).unwrap_or(0);
                    if let Err(e) = self.db.avanzamento_flusso(id, n as i64).await {
                        tracing::warn!(errore = %e, "avanzamento non registrato");
                    }
                }
            }
        };
        let (rep, mut racc, cartella) = esito
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?
            .map_err(|e| ErroreServizio::Interno(format!("cartella di lavoro: {e}")))?;
        let righe_errate = std::mem::take(&mut racc.righe_errate);
        let contesi = std::mem::take(&mut racc.contesi);
        let staging = racc
            .chiudi()
            .map_err(|e| ErroreServizio::Interno(format!("righe del flusso: {e}")))?;

        // The report as `push validate --formato json` prints it.
        let rep_file = cartella.join("report.json");
        std::fs::write(&rep_file, rep.json())
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        self.deposito
            .metti_derivato(&format!("flusso-{id}/report.json"), &rep_file)
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        if rep.valido {
            for (t, p) in &staging {
                self.deposito
                    .metti_derivato(&registro::nome_staging(id, t), p)
                    .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
            }
        }
        // The difference is ready when the flow shows as valid (a client that saw `valido`
        // can ask for it at once).
        if rep.valido
            && let Err(e) = self.calcola_differenze(id).await
        {
            // The review page queues a new computation when it finds none.
            tracing::warn!(flusso = id, errore = %e, "differenze non calcolate");
        }

        let segnalazioni: Vec<SegnalazioneRiga> = rep
            .segnalazioni
            .iter()
            .enumerate()
            .map(|(i, s)| SegnalazioneRiga {
                n: i as i32 + 1,
                tabella: s.tabella.clone(),
                riga: s.riga.map(|r| r as i64),
                campo: s.campo.clone(),
                valore: s.valore.clone(),
                codice: s.codice.clone(),
                gravita: s.gravita.as_str().to_string(),
                messaggio: s.messaggio.clone(),
                altro_ente: matches!(s.codice.as_str(), "catasto_conteso" | "cup_conteso")
                    .then(|| s.riga.and_then(|r| contesi.get(&r).cloned()))
                    .flatten(),
            })
            .collect();
        let righe: u64 = rep.tabelle.iter().map(|(_, i)| i.righe).sum();
        // Stored as the sentence people read: who signed, and whether that is verified.
        let firmatario = rep.firma.as_ref().map(|f| f.verifica());
        if let Some((ente, ms)) = &self.lavori.pausa_di_prova
            && f.ente == ente.as_str()
        {
            tracing::warn!(
                flusso = id,
                ms,
                "prova: validazione in pausa prima della fine"
            );
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
        let adesso = ora();
        let destinatari = self
            .destinatari_flusso(&f.ente, f.dominio.as_str(), &f.caricato_da)
            .await?;
        let mut tx = self.db.inizia().await?;
        // Withdrawn meanwhile by its entity: the validation's outcome is not needed.
        if tx
            .flusso_per_aggiornare(id)
            .await?
            .is_none_or(|f| f.stato != "in_validazione")
        {
            tx.chiudi_lavoro(l.id, esecutore, None, adesso).await?;
            return Ok(tx.commit().await?);
        }
        tx.pulisci_validazione(id).await?;
        tx.inserisci_segnalazioni(id, &segnalazioni).await?;
        tx.inserisci_righe_errate(id, &righe_errate).await?;
        tx.esito_validazione(
            id,
            rep.valido,
            rep.errori as i64,
            rep.avvisi as i64,
            righe as i64,
            firmatario.as_deref(),
            adesso,
        )
        .await?;
        if !tx.chiudi_lavoro(l.id, esecutore, None, adesso).await? {
            // Another worker took the job over: this run's results are dropped.
            return Err(ErroreServizio::Conflitto(
                "lavoro perso: scaduto il turno".into(),
            ));
        }
        tx.audit(
            NuovaVoce {
                attore: audit::SISTEMA,
                ente: Some(&f.ente),
                azione: "flusso.validato",
                oggetto: format!("flusso:{id}"),
                dettagli: serde_json::json!({
                    "valido": rep.valido, "errori": rep.errori, "avvisi": rep.avvisi, "righe": righe,
                    "esecutore": esecutore, "tentativo": l.tentativi,
                }),
            },
            adesso,
        )
        .await?;
        self.notifica_validazione(
            &mut tx,
            &f,
            destinatari,
            rep.valido,
            righe as i64,
            rep.errori as i64,
            rep.avvisi as i64,
            adesso,
        )
        .await?;
        tx.commit().await?;
        self.posta_accodata();
        Ok(())
    }
}
