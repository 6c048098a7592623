//! The background worker: takes jobs from the durable queue in the database (see
//! `archivio::flussi` for the locking), keeps its lease alive while it works, and runs
//! them: the validation of an uploaded flow, the (re)computation of a flow's difference.
//!
//! A job whose worker died is taken again when its lease expires; the work of a worker that
//! lost its lease is rolled back (its final write checks that it still holds the job), so a
//! job's effects happen exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use archivio::{Lavoro, NuovaVoce, SegnalazioneRiga};
use flussi::lettori::dati::Dati;
use flussi::{Dichiarante, Opzioni};

use crate::registro::{self, Contesto, Raccoglitore};
use crate::{ErroreServizio, Esito, Piattaforma, audit, casuale, ora};

/// How many times a job is tried before it is marked failed.
const MAX_TENTATIVI: i32 = 3;

/// Starts the worker loop of this server; it runs until the runtime stops.
pub fn avvia_esecutore(p: Piattaforma) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let esecutore = format!("{}-{}", std::process::id(), casuale::token_url(6));
        tracing::info!(esecutore, "esecutore dei lavori avviato");
        loop {
            let adesso = ora();
            let lease = chrono::Duration::seconds(p.config.lease_lavori_s as i64);
            match p.db.prendi_lavoro(&esecutore, adesso, adesso + lease).await {
                Ok(Some(l)) => p.esegui_lavoro(&esecutore, l).await,
                Ok(None) => {
                    tokio::select! {
                        _ = p.sveglia.notified() => {}
                        _ = tokio::time::sleep(Duration::from_millis(p.config.attesa_lavori_ms)) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(errore = %e, "coda dei lavori non raggiungibile");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    })
}

impl Piattaforma {
    pub(crate) async fn esegui_lavoro(&self, esecutore: &str, l: Lavoro) {
        tracing::info!(lavoro = l.id, tipo = %l.tipo, flusso = l.flusso, tentativo = l.tentativi, "lavoro iniziato");
        // Keeps the lease alive while the job runs.
        let rinnovo = {
            let db = self.db.clone();
            let es = esecutore.to_string();
            let secondi = self.config.lease_lavori_s;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs((secondi / 3).max(1))).await;
                    let scade = ora() + chrono::Duration::seconds(secondi as i64);
                    match db.rinnova_lavoro(l.id, &es, scade).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => tracing::warn!(errore = %e, "rinnovo del lavoro non riuscito"),
                    }
                }
            })
        };
        let esito = match l.tipo.as_str() {
            "validazione" => self.valida_flusso(esecutore, &l).await,
            "differenze" => self.lavoro_differenze(esecutore, &l).await,
            altro => Err(ErroreServizio::Interno(format!(
                "tipo di lavoro sconosciuto: {altro}"
            ))),
        };
        rinnovo.abort();
        match esito {
            Ok(()) => tracing::info!(lavoro = l.id, "lavoro concluso"),
            Err(e) => {
                tracing::error!(lavoro = l.id, errore = %e, "lavoro non riuscito");
                let r = if l.tentativi < MAX_TENTATIVI {
                    self.db.rilascia_lavoro(l.id, esecutore).await
                } else {
                    self.fallisci_lavoro(l.id, esecutore, &e.to_string()).await
                };
                if let Err(e) = r {
                    tracing::warn!(errore = %e, "stato del lavoro non aggiornato");
                }
            }
        }
    }

    /// Marks a job failed for good (after its last attempt).
    async fn fallisci_lavoro(
        &self,
        id: i64,
        esecutore: &str,
        errore: &str,
    ) -> archivio::Risultato<()> {
        let mut tx = self.db.inizia().await?;
        tx.chiudi_lavoro(id, esecutore, Some(errore), ora()).await?;
        tx.commit().await
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
        let spec = flussi::spec::dominio(&f.dominio)
            .ok_or_else(|| ErroreServizio::Interno(format!("dominio {}", f.dominio)))?;
        self.db.inizia_validazione(id).await?;
        let percorso = self
            .deposito
            .originale(&f.sha256)
            .map_err(|e| ErroreServizio::Interno(format!("file del flusso {id}: {e}")))?;
        let stima = {
            let p = percorso.clone();
            let nome = f.nome_file.clone();
            tokio::task::spawn_blocking(move || flussi::lettori::stima_righe(&nome, &p))
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
            && let Some((_, unita)) = registro::tavole(spec)
                .into_iter()
                .find(|(t, _)| t.nome == "unita")
        {
            cx.unita_attuali = self
                .db
                .chiavi_correnti(&unita, &f.ente)
                .await?
                .into_iter()
                .map(|(k, _, _)| k)
                .collect();
            cx.catasti_altrui = self.db.catasti_altrui(&f.ente).await?.into_iter().collect();
        }

        let lette: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let mut opzioni = Opzioni::new(self.orologio.oggi());
        opzioni.dichiarante = Dichiarante::da_codice(&f.ente);
        opzioni.limiti.max_byte = self.config.limite_caricamento_mb * 1024 * 1024;
        opzioni.limiti.scadenza =
            Some(std::time::Instant::now() + Duration::from_secs(self.config.limite_validazione_s));
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
        let mut compito = tokio::task::spawn_blocking(move || {
            let mut r = Raccoglitore::new(cartella.clone(), cx)?;
            let rep = flussi::valida_file_con(
                &nome_file,
                Dati::File(percorso),
                spec,
                &opzioni,
                None,
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
            })
            .collect();
        let righe: u64 = rep.tabelle.iter().map(|(_, i)| i.righe).sum();
        let firmatario = rep.firma.as_ref().map(|f| f.descrizione());
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
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
        tx.commit().await?;
        Ok(())
    }
}
