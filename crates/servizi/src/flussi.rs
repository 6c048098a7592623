//! The lifecycle of a flow (spec README §4): upload, validation in the background (see
//! [`crate::lavori`]), submission with a protocol number, the Region's review with the
//! difference against the register, acceptance (an atomic merge) or rejection.
//!
//! Generic over the domain: what is specific to a domain lives in the spec (`flussi::spec`)
//! and in [`crate::registro`].

use std::collections::HashMap;

use archivio::NuovoFlusso;
pub use archivio::{
    Differenza, FiltroFlussi, FiltroSegnalazioni, Flusso, LavoroRiga, NuovaVoce, RigaErrata,
    SegnalazioneRiga,
};
use chrono::NaiveDate;
use dominio::politica::{Azione, Soggetto, autorizza};
use dominio::{CodiceEnte, DominioFlusso, ErroreDominio, StatoFlusso, Testo};

use crate::deposito::Ricevuto;
use crate::registro::{self, Blocchi, LineeScelte, classifica};
use crate::{ErroreServizio, Esito, Piattaforma, audit, ora};

/// The outcome of an upload: the flow, and whether it is new (`false`: the same bytes were
/// already uploaded by this entity for this domain).
pub struct Caricamento {
    pub flusso: Flusso,
    pub nuovo: bool,
}

/// Counts of a difference, per table.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ConteggiDifferenza {
    pub aggiunti: u64,
    pub modificati: u64,
    pub rimossi: u64,
    /// The entity's current records of the table when the difference was computed (`None` in
    /// differences computed before it was recorded: they are computed again when it matters).
    #[serde(default)]
    pub attuali: Option<u64>,
}

/// A removal needs the referent's reason above this share of the table's current records
/// (spec README §4: more than 10 %)…
pub const SOGLIA_RIMOZIONI_PERCENTO: u64 = 10;
/// …or above this many records.
pub const SOGLIA_RIMOZIONI: u64 = 50;

impl ConteggiDifferenza {
    /// Whether these removals need a written reason (spec README §4 "Removals need a reason").
    pub fn rimozione_da_motivare(&self) -> bool {
        let attuali = self.attuali.unwrap_or(0);
        self.rimossi > SOGLIA_RIMOZIONI || self.rimossi * 100 > attuali * SOGLIA_RIMOZIONI_PERCENTO
    }
}

/// The Italian name of a register table, plural, for sentences («unità immobiliari»), from
/// its domain's definition.
pub fn nome_tabella(t: &str) -> String {
    registro::tavola_di(t)
        .map(|r| r.def.etichetta.to_lowercase())
        .unwrap_or_else(|| t.to_string())
}

/// The most differences of one kind and table kept as a list (the counts are always whole).
pub const MAX_DIFFERENZE_ELENCATE: usize = 50_000;

/// Whether the subject may learn which other entity an issue concerns (`catasto_conteso`
/// names the holder of a cadastral unit to the Region only).
fn vede_altri_enti(s: &Soggetto) -> bool {
    autorizza(s, &Azione::VedereDatiRegionali).is_ok()
}

fn stato(f: &Flusso) -> Esito<StatoFlusso> {
    Ok(f.stato)
}

fn chiavi(f: &Flusso) -> Esito<(CodiceEnte, DominioFlusso)> {
    Ok((f.ente.clone(), f.dominio))
}

fn conflitto_accettazione(s: StatoFlusso) -> ErroreServizio {
    match s {
        StatoFlusso::Superato => ErroreServizio::Conflitto(
            "Il flusso è stato superato da un flusso più recente dello stesso ente: non può più essere accettato né respinto.".into(),
        ),
        StatoFlusso::Accettato => ErroreServizio::Conflitto("Il flusso è già stato accettato.".into()),
        StatoFlusso::Respinto => ErroreServizio::Conflitto("Il flusso è già stato respinto.".into()),
        s => ErroreServizio::Conflitto(format!(
            "Il flusso è nello stato «{}»: si possono esaminare solo i flussi inviati.",
            s.etichetta()
        )),
    }
}

impl Piattaforma {
    /// Uploads a file received by the web layer. The file is kept by its hash and a
    /// validation job is queued; identical bytes of the same entity and domain give back the
    /// existing flow.
    pub async fn carica_flusso(
        &self,
        s: &Soggetto,
        ente: &CodiceEnte,
        dominio: DominioFlusso,
        nome_file: &str,
        file: Ricevuto,
    ) -> Esito<Caricamento> {
        if let Err(n) = autorizza(s, &Azione::OperareFlusso(ente, dominio)) {
            return Err(n.into());
        }
        let spec = flussi::spec::dominio(dominio.as_str());
        // A domain can be sent once the platform has its register to merge it into.
        if spec.is_none_or(|d| !registro::ha_registro(d)) {
            return Err(ErroreServizio::Dominio(ErroreDominio::valore(
                "dominio",
                format!(
                    "L'invio dei flussi «{}» non è ancora disponibile sulla piattaforma.",
                    dominio.etichetta()
                ),
            )));
        }
        let nome_file = nome_file.trim();
        let nome_file = if nome_file.is_empty() {
            "flusso"
        } else {
            nome_file
        };
        let nome_file: String = nome_file
            .chars()
            .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
            .take(200)
            .collect();
        if let Some(f) = self
            .db
            .flusso_per_contenuto(ente.as_str(), dominio, &file.sha256)
            .await?
        {
            return Ok(Caricamento {
                flusso: f,
                nuovo: false,
            });
        }
        let sha = file.sha256.clone();
        let dimensione = file.dimensione as i64;
        let deposito = self.deposito.clone();
        tokio::task::spawn_blocking(move || deposito.conserva(file))
            .await
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?
            .map_err(|e| ErroreServizio::Interno(format!("conservazione del file: {e}")))?;
        let attore = audit::attore(s);
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        let id = match tx
            .crea_flusso(
                &NuovoFlusso {
                    ente: ente.as_str(),
                    dominio,
                    nome_file: &nome_file,
                    sha256: &sha,
                    dimensione,
                    caricato_da: &attore,
                },
                // The upload instant on the platform's clock, as the rest of the lifecycle (a campaign
                // counts the flows uploaded while it was open).
                self.orologio.ora(),
            )
            .await
        {
            Ok(id) => id,
            // The same bytes arrived twice at the same moment: the other request won.
            Err(archivio::ErroreArchivio::Duplicato(_)) => {
                drop(tx);
                let f = self
                    .db
                    .flusso_per_contenuto(ente.as_str(), dominio, &sha)
                    .await?
                    .ok_or(ErroreServizio::NonTrovato)?;
                return Ok(Caricamento {
                    flusso: f,
                    nuovo: false,
                });
            }
            Err(e) => return Err(e.into()),
        };
        tx.accoda_lavoro("validazione", id, adesso).await?;
        tx.audit(
            NuovaVoce {
                attore: &attore,
                ente: Some(ente.as_str()),
                azione: "flusso.caricato",
                oggetto: format!("flusso:{id}"),
                dettagli: serde_json::json!({
                    "dominio": dominio.as_str(), "nome_file": nome_file, "sha256": sha, "dimensione": dimensione
                }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        self.sveglia.notify_one();
        let f = self
            .db
            .flusso(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        Ok(Caricamento {
            flusso: f,
            nuovo: true,
        })
    }

    /// A flow the subject may see (404 for outsiders, as if it did not exist).
    pub async fn flusso_visibile(&self, s: &Soggetto, id: i64) -> Esito<Flusso> {
        let f = self
            .db
            .flusso(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let (ente, dom) = chiavi(&f)?;
        // Outsiders get "not found" from the policy; insiders without the area "forbidden".
        autorizza(s, &Azione::VedereDatiArea(&ente, dom.area()))?;
        Ok(f)
    }

    /// Flows the subject may see, newest first. The Region sees every entity's; anybody else
    /// only the entity given (which must be theirs).
    pub async fn elenco_flussi(&self, s: &Soggetto, mut f: FiltroFlussi) -> Esito<Vec<Flusso>> {
        if !s.is_regione() {
            let miei = s.enti();
            let ente = match f.ente.as_deref() {
                Some(e) => CodiceEnte::parse(e)?,
                None if miei.len() == 1 => miei[0].clone(),
                None if miei.is_empty() => {
                    autorizza(s, &Azione::VedereDatiRegionali)?;
                    return Ok(vec![]);
                }
                None => {
                    return Err(ErroreServizio::Dominio(ErroreDominio::valore(
                        "ente",
                        "Indichi l'ente di cui vedere i flussi.",
                    )));
                }
            };
            match f.dominio {
                Some(d) => autorizza(s, &Azione::VedereDatiArea(&ente, d.area()))?,
                // Without a domain: the flows of the domains the subject may see (a referent of
                // one area sees that area's flows only).
                None => {
                    let visibili: Vec<DominioFlusso> =
                        [DominioFlusso::Patrimonio, DominioFlusso::Contabilita]
                            .into_iter()
                            .filter(|d| {
                                autorizza(s, &Azione::VedereDatiArea(&ente, d.area())).is_ok()
                            })
                            .collect();
                    match visibili.as_slice() {
                        [] => {
                            autorizza(s, &Azione::VedereDatiArea(&ente, dominio::Area::Patrimonio))?
                        }
                        [d] => f.dominio = Some(*d),
                        _ => {}
                    }
                }
            }
            f.ente = Some(ente);
        }
        f.limite = f.limite.clamp(1, 1000);
        Ok(self.db.elenco_flussi(&f).await?)
    }

    /// The queue of the Region: submitted flows, oldest first.
    pub async fn coda_esame(&self, s: &Soggetto) -> Esito<Vec<Flusso>> {
        autorizza(s, &Azione::EsaminareFlussi)?;
        let mut v = self
            .db
            .elenco_flussi(&FiltroFlussi {
                stato: Some(StatoFlusso::Inviato),
                limite: 1000,
                ..Default::default()
            })
            .await?;
        v.reverse();
        Ok(v)
    }

    /// A page of a flow's report issues.
    pub async fn segnalazioni_flusso(
        &self,
        s: &Soggetto,
        id: i64,
        filtro: &FiltroSegnalazioni,
        offset: i64,
        limite: i64,
    ) -> Esito<(Vec<SegnalazioneRiga>, i64)> {
        self.flusso_visibile(s, id).await?;
        let (mut v, n) = self
            .db
            .segnalazioni(id, filtro, offset.max(0), limite.clamp(1, 1000))
            .await?;
        if !vede_altri_enti(s) {
            for x in &mut v {
                x.altro_ente = None;
            }
        }
        Ok((v, n))
    }

    /// A page of a flow's rows in error, with their values, the total, and which fields of
    /// those rows are in error: (table, row, field).
    pub async fn righe_errate_flusso(
        &self,
        s: &Soggetto,
        id: i64,
        tabella: Option<&str>,
        offset: i64,
        limite: i64,
    ) -> Esito<(Vec<RigaErrata>, i64, Vec<(String, i64, String)>)> {
        self.flusso_visibile(s, id).await?;
        let (righe, n) = self
            .db
            .righe_errate(id, tabella, offset.max(0), limite.clamp(1, 100))
            .await?;
        let chiavi: Vec<(String, i64)> =
            righe.iter().map(|r| (r.tabella.clone(), r.riga)).collect();
        let campi = self.db.campi_in_errore(id, &chiavi).await?;
        Ok((righe, n, campi))
    }

    /// The stored report of a validated flow, as the JSON of `push validate`.
    pub async fn report_flusso(&self, s: &Soggetto, id: i64) -> Esito<Option<Vec<u8>>> {
        self.flusso_visibile(s, id).await?;
        let nome = format!("flusso-{id}/report.json");
        let Some(p) = self
            .deposito
            .derivato(&nome)
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?
        else {
            return Ok(None);
        };
        let v = tokio::fs::read(p)
            .await
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        if !vede_altri_enti(s) {
            return Ok(Some(v));
        }
        // The Region's copy says which entity each such issue concerns (`altro_ente`).
        let altri = self.db.altri_enti_segnalazioni(id).await?;
        if altri.is_empty() {
            return Ok(Some(v));
        }
        let mut rep: serde_json::Value = serde_json::from_slice(&v)
            .map_err(|e| ErroreServizio::Interno(format!("rapporto del flusso {id}: {e}")))?;
        if let Some(segn) = rep
            .get_mut("segnalazioni")
            .and_then(serde_json::Value::as_array_mut)
        {
            for (n, ente) in altri {
                if let Some(x) = usize::try_from(n - 1)
                    .ok()
                    .and_then(|i| segn.get_mut(i))
                    .and_then(serde_json::Value::as_object_mut)
                {
                    x.insert("altro_ente".into(), ente.into());
                }
            }
        }
        Ok(Some(rep.to_string().into_bytes()))
    }

    /// The difference of a flow against the current register: per-table counts, and whether it
    /// is up to date (computed against the register as it is now). When it is not, a new
    /// computation is queued.
    pub async fn differenze_flusso(
        &self,
        s: &Soggetto,
        id: i64,
    ) -> Esito<(Flusso, Option<Vec<(String, ConteggiDifferenza)>>, bool)> {
        let f = self.flusso_visibile(s, id).await?;
        let Some(riepilogo) = f.differenze.as_deref() else {
            return Ok((f, None, false));
        };
        let conteggi: Vec<(String, ConteggiDifferenza)> = serde_json::from_str(riepilogo)
            .map_err(|e| ErroreServizio::Interno(format!("riepilogo differenze: {e}")))?;
        let base = self
            .db
            .ultimo_accettato(&f.ente, f.dominio)
            .await?
            .unwrap_or(0);
        let attuale = f.differenze_base == Some(base);
        if !attuale && matches!(stato(&f)?, StatoFlusso::Valido | StatoFlusso::Inviato) {
            let gia = self.db.lavori_di(id).await?.iter().any(|l| {
                l.tipo == "differenze" && matches!(l.stato.as_str(), "in_coda" | "in_corso")
            });
            if !gia {
                let mut tx = self.db.inizia().await?;
                tx.accoda_lavoro("differenze", id, ora()).await?;
                tx.commit().await?;
                self.sveglia.notify_one();
            }
        }
        Ok((f, Some(conteggi), attuale))
    }

    /// A page of one kind of difference of one table.
    pub async fn elenco_differenze(
        &self,
        s: &Soggetto,
        id: i64,
        tabella: &str,
        tipo: &str,
        offset: i64,
        limite: i64,
    ) -> Esito<Vec<Differenza>> {
        self.flusso_visibile(s, id).await?;
        Ok(self
            .db
            .differenze(id, tabella, tipo, offset.max(0), limite.clamp(1, 1000))
            .await?)
    }

    /// The tables whose removals need the referent's reason, on the difference against the
    /// register as it is now (computed again when the register changed since, or when it was
    /// computed before the current records were counted).
    pub async fn rimozioni_da_motivare(&self, id: i64) -> Esito<Vec<(String, ConteggiDifferenza)>> {
        let attuale = |f: &Flusso, base: i64| -> Option<Vec<(String, ConteggiDifferenza)>> {
            let c: Vec<(String, ConteggiDifferenza)> =
                serde_json::from_str(f.differenze.as_deref()?).ok()?;
            (f.differenze_base == Some(base) && c.iter().all(|(_, c)| c.attuali.is_some()))
                .then_some(c)
        };
        let f = self
            .db
            .flusso(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let base = self
            .db
            .ultimo_accettato(&f.ente, f.dominio)
            .await?
            .unwrap_or(0);
        let conteggi = match attuale(&f, base) {
            Some(c) => c,
            None => {
                self.calcola_differenze(id).await?;
                let f = self
                    .db
                    .flusso(id)
                    .await?
                    .ok_or(ErroreServizio::NonTrovato)?;
                attuale(&f, base).ok_or_else(|| {
                    ErroreServizio::Interno(format!("differenze del flusso {id} non calcolate"))
                })?
            }
        };
        Ok(conteggi
            .into_iter()
            .filter(|(_, c)| c.rimozione_da_motivare())
            .collect())
    }

    /// Submits a valid flow. With warnings, the referent must confirm having read them (the
    /// API's submission is the confirmation). Assigns the protocol number.
    pub async fn invia_flusso(
        &self,
        s: &Soggetto,
        id: i64,
        conferma_avvisi: bool,
        motivazione_rimozioni: Option<&str>,
    ) -> Esito<Flusso> {
        let f = self.flusso_visibile(s, id).await?;
        let (ente, dom) = chiavi(&f)?;
        autorizza(s, &Azione::OperareFlusso(&ente, dom))?;
        let st = stato(&f)?;
        if st != StatoFlusso::Valido {
            return Err(ErroreServizio::Conflitto(format!(
                "Si possono inviare solo i flussi validi; questo è nello stato «{}».",
                st.etichetta()
            )));
        }
        let avvisi = f.avvisi.unwrap_or(0);
        if avvisi > 0 && !conferma_avvisi {
            return Err(ErroreServizio::Dominio(ErroreDominio::valore(
                "conferma_avvisi",
                format!(
                    "Il flusso ha {avvisi} avvisi: confermi di averli letti prima di inviarlo."
                ),
            )));
        }
        // Removals above the threshold need the referent's reason, judged on the difference
        // against the register as it is now.
        let motivazione_rimozioni = motivazione_rimozioni
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| {
                Testo::parse(
                    m,
                    "motivazione_rimozioni",
                    "Motivazione delle rimozioni",
                    1,
                    2000,
                )
            })
            .transpose()?;
        let da_motivare = self.rimozioni_da_motivare(id).await?;
        if !da_motivare.is_empty() && motivazione_rimozioni.is_none() {
            let elenco: Vec<String> = da_motivare
                .iter()
                .map(|(t, c)| {
                    format!(
                        "{} {} su {}",
                        c.rimossi,
                        nome_tabella(t),
                        c.attuali.unwrap_or(0)
                    )
                })
                .collect();
            return Err(ErroreServizio::Dominio(ErroreDominio::valore(
                "motivazione_rimozioni",
                format!(
                    "Il flusso toglierebbe dal registro attuale dell'ente {}: scriva il motivo delle rimozioni (motivazione_rimozioni); la Regione lo leggerà accanto alle differenze prima di decidere.",
                    elenco.join(", ")
                ),
            )));
        }
        let attore = audit::attore(s);
        let adesso = self.orologio.ora();
        let destinatari = self
            .destinatari_flusso(ente.as_str(), dom.as_str(), &attore)
            .await?;
        let mut tx = self.db.inizia().await?;
        let f = tx
            .flusso_per_aggiornare(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        if f.stato != "valido" {
            return Err(ErroreServizio::Conflitto(
                "Il flusso è cambiato nel frattempo: ricarichi la pagina.".into(),
            ));
        }
        // The year in Rome: a flow sent at 23:30 UTC on 31 December is already next year's.
        let anno = dominio::orologio::anno_a(adesso);
        let n = tx.prossimo_protocollo(anno).await?;
        let protocollo = format!("{anno}/{n:06}");
        let motivazione_rimozioni = motivazione_rimozioni.as_ref().map(Testo::as_str);
        tx.invia_flusso(
            id,
            &protocollo,
            &attore,
            avvisi,
            motivazione_rimozioni,
            adesso,
        )
        .await?;
        tx.audit(
            NuovaVoce {
                attore: &attore,
                ente: Some(ente.as_str()),
                azione: "flusso.inviato",
                oggetto: format!("flusso:{id}"),
                dettagli: serde_json::json!({
                    "protocollo": protocollo, "avvisi_confermati": avvisi,
                    "motivazione_rimozioni": motivazione_rimozioni,
                }),
            },
            adesso,
        )
        .await?;
        let inviato = Flusso {
            protocollo: Some(protocollo.clone()),
            avvisi_confermati: Some(avvisi),
            ..f
        };
        let chi = self.nome_attore(s).await;
        self.notifica_invio(&mut tx, &inviato, destinatari, &chi, adesso)
            .await?;
        tx.commit().await?;
        self.posta_accodata();
        self.db.flusso(id).await?.ok_or(ErroreServizio::NonTrovato)
    }

    /// What the Region confirms before accepting a submitted flow: the flow, the difference
    /// per table and whether it is up to date. 409 when the flow is not `inviato`.
    pub async fn da_accettare(
        &self,
        s: &Soggetto,
        id: i64,
    ) -> Esito<(Flusso, Option<Vec<(String, ConteggiDifferenza)>>, bool)> {
        let visto = self.flusso_visibile(s, id).await?;
        let (_, dom) = chiavi(&visto)?;
        autorizza(s, &Azione::EsaminareFlusso(dom))?;
        let (f, conteggi, aggiornate) = self.differenze_flusso(s, id).await?;
        let st = stato(&f)?;
        if st != StatoFlusso::Inviato {
            return Err(conflitto_accettazione(st));
        }
        Ok((f, conteggi, aggiornate))
    }

    /// The jobs of a flow the subject may see, oldest first (its page tells a validation given
    /// up from one still running).
    pub async fn lavori_flusso(&self, s: &Soggetto, id: i64) -> Esito<Vec<LavoroRiga>> {
        self.flusso_visibile(s, id).await?;
        Ok(self.db.lavori_di(id).await?)
    }

    /// Per entity and domain, the date of the last accepted flow (the entity registry).
    pub async fn ultimi_accettati(
        &self,
    ) -> Esito<Vec<(String, String, chrono::DateTime<chrono::Utc>)>> {
        Ok(self.db.ultimi_accettati().await?)
    }

    /// Accepts a submitted flow: merges it into the register today.
    pub async fn accetta_flusso(&self, s: &Soggetto, id: i64) -> Esito<Flusso> {
        let visto = self.flusso_visibile(s, id).await?;
        let (_, dom) = chiavi(&visto)?;
        autorizza(s, &Azione::EsaminareFlusso(dom))?;
        self.applica_flusso(id, &audit::attore(s), self.orologio.oggi())
            .await
    }

    /// Withdraws a flow its entity has not submitted yet (spec README §4): state `ritirato`.
    /// Nothing is deleted: its file and report stay readable. 409 once submitted.
    pub async fn ritira_flusso(&self, s: &Soggetto, id: i64) -> Esito<Flusso> {
        let f = self.flusso_visibile(s, id).await?;
        let (ente, dom) = chiavi(&f)?;
        autorizza(s, &Azione::OperareFlusso(&ente, dom))?;
        let attore = audit::attore(s);
        let adesso = self.orologio.ora();
        let mut tx = self.db.inizia().await?;
        let f = tx
            .flusso_per_aggiornare(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let st = stato(&f)?;
        if !st.ritirabile() {
            return Err(ErroreServizio::Conflitto(match (st, &f.protocollo) {
                (StatoFlusso::Ritirato, _) => "Il flusso è già stato ritirato.".to_string(),
                (_, Some(p)) => format!(
                    "Il flusso è già stato inviato alla Regione (protocollo {p}): non può più essere ritirato."
                ),
                (s, None) => format!(
                    "Il flusso è nello stato «{}»: non può più essere ritirato.",
                    s.etichetta()
                ),
            }));
        }
        tx.ritira_flusso(id, &attore, adesso).await?;
        tx.audit(
            NuovaVoce {
                attore: &attore,
                ente: Some(ente.as_str()),
                azione: "flusso.ritirato",
                oggetto: format!("flusso:{id}"),
                dettagli: serde_json::json!({ "stato_precedente": st.as_str() }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        self.db.flusso(id).await?.ok_or(ErroreServizio::NonTrovato)
    }

    /// The originally uploaded file of a flow the subject may see: the flow and a local path
    /// to stream it from.
    pub async fn originale_flusso(
        &self,
        s: &Soggetto,
        id: i64,
    ) -> Esito<(Flusso, std::path::PathBuf)> {
        let f = self.flusso_visibile(s, id).await?;
        let p = self
            .deposito
            .originale(&f.sha256)
            .map_err(|e| ErroreServizio::Interno(format!("file del flusso {id}: {e}")))?;
        Ok((f, p))
    }

    /// Rejects a submitted flow with a reason shown to the entity.
    pub async fn respingi_flusso(&self, s: &Soggetto, id: i64, motivazione: &str) -> Esito<Flusso> {
        let visto = self.flusso_visibile(s, id).await?;
        let (_, dom) = chiavi(&visto)?;
        autorizza(s, &Azione::EsaminareFlusso(dom))?;
        let motivazione = Testo::parse(motivazione, "motivazione", "Motivazione", 1, 2000)?;
        let attore = audit::attore(s);
        let adesso = self.orologio.ora();
        let destinatari = self.destinatari_esito(id).await?;
        let mut tx = self.db.inizia().await?;
        let f = tx
            .flusso_per_aggiornare(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let st = stato(&f)?;
        if st != StatoFlusso::Inviato {
            return Err(conflitto_accettazione(st));
        }
        self.notifica_esito(&mut tx, &f, destinatari, Some(motivazione.as_str()), adesso)
            .await?;
        tx.esito_flusso(
            id,
            StatoFlusso::Respinto,
            &attore,
            Some(motivazione.as_str()),
            adesso,
        )
        .await?;
        tx.audit(
            NuovaVoce {
                attore: &attore,
                ente: Some(&f.ente),
                azione: "flusso.respinto",
                oggetto: format!("flusso:{id}"),
                dettagli: serde_json::json!({ "motivazione": motivazione.as_str() }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        self.posta_accodata();
        self.db.flusso(id).await?.ok_or(ErroreServizio::NonTrovato)
    }

    /// The merge: in one transaction, closes the current versions of changed and missing
    /// records, writes the new versions valid from `data`, marks the flow accepted and the
    /// entity's earlier flows superseded, and appends the audit entry. A crash anywhere
    /// leaves the register as it was.
    pub async fn applica_flusso(&self, id: i64, attore: &str, data: NaiveDate) -> Esito<Flusso> {
        let adesso = self.orologio.ora();
        // The entity (which never changes) is read before locking: locks are always taken
        // entity first, then flow, so that two merges of one entity queue instead of
        // deadlocking (each would hold its flow and wait for the other's).
        let ente = self
            .db
            .flusso(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?
            .ente;
        let destinatari = self.destinatari_esito(id).await?;
        let mut tx = self.db.inizia().await?;
        tx.blocca_ente(&ente).await?;
        let f = tx
            .flusso_per_aggiornare(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let st = stato(&f)?;
        if st != StatoFlusso::Inviato {
            return Err(conflitto_accettazione(st));
        }
        let spec = flussi::spec::dominio(f.dominio.as_str())
            .ok_or_else(|| ErroreServizio::Interno(format!("dominio {}", f.dominio)))?;
        let lavoro = self
            .deposito
            .lavoro()
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        let mut conteggi: Vec<(String, ConteggiDifferenza)> = Vec::new();
        // Where a large merge spends its time, in the log (docs/PERFORMANCE.md reads it).
        let mut fasi = Fasi::new();
        for reg in registro::tavole(spec) {
            let (t, tav) = (reg.tabella, &reg.tavola);
            let staging = self.staging(id, t.nome, lavoro.path())?;
            let correnti: HashMap<String, (i64, i64)> = tx
                .chiavi_correnti(tav, &f.ente)
                .await?
                .into_iter()
                .map(|(k, id, imp)| (k, (id, imp)))
                .collect();
            let attuali = correnti.len() as u64;
            let p = staging.clone();
            let c = tokio::task::spawn_blocking(move || classifica(&p, correnti))
                .await
                .map_err(|e| ErroreServizio::Interno(e.to_string()))?
                .map_err(|e| ErroreServizio::Interno(format!("righe del flusso: {e}")))?;
            let chiudi: Vec<i64> = c
                .modificati
                .iter()
                .chain(c.rimossi.iter())
                .map(|(_, id)| *id)
                .collect();
            tx.chiudi_versioni(tav, &chiudi, data, id).await?;
            fasi.segna(t.nome, "confronto");
            conteggi.push((
                t.nome.to_string(),
                ConteggiDifferenza {
                    aggiunti: c.aggiunti.len() as u64,
                    modificati: c.modificati.len() as u64,
                    rimossi: c.rimossi.len() as u64,
                    attuali: Some(attuali),
                },
            ));
            if c.da_inserire.iter().any(|x| *x) {
                // The selected staging lines go to the store as they are (no parsing into
                // values): COPY on PostgreSQL, a prepared INSERT on SQLite.
                let illeggibile =
                    |e: std::io::Error| ErroreServizio::Interno(format!("righe del flusso: {e}"));
                let mut linee = LineeScelte::apri(&staging, c.da_inserire).map_err(illeggibile)?;
                let mut carico = tx.carico(tav, &f.ente, data, id).await?;
                let mut blocco = Vec::new();
                while linee.prossimo(&mut blocco, 20_000).map_err(illeggibile)? {
                    carico.invia(&blocco).await?;
                }
                let finito = carico.fine().await?;
                tx.concludi_carico(finito).await?;
                fasi.segna(t.nome, "scrittura");
            }
        }
        // The dashboards' aggregates follow the register in the same transaction.
        crate::cruscotto::aggiorna_alla_fusione(&mut tx, &f.ente, f.dominio.as_str(), id, data)
            .await?;
        fasi.segna("cruscotti", "aggregati");
        self.pausa_di_prova_nella_fusione(id).await;
        tx.esito_flusso(id, StatoFlusso::Accettato, attore, None, adesso)
            .await?;
        let superati = tx.supera_flussi(&f.ente, f.dominio, id).await?;
        self.notifica_esito(&mut tx, &f, destinatari, None, adesso)
            .await?;
        tx.audit(
            NuovaVoce {
                attore,
                ente: Some(&f.ente),
                azione: "flusso.accettato",
                oggetto: format!("flusso:{id}"),
                dettagli: serde_json::json!({
                    "valido_dal": data.to_string(),
                    "differenze": conteggi.iter().map(|(t, c)| (t.clone(), serde_json::to_value(c).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                    "superati": superati,
                }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        fasi.segna("flusso", "esito e commit");
        tracing::info!(flusso = id, fasi = %fasi, "fusione completata");
        self.posta_accodata();
        // The merge's new rows reach the search index now, in the background (SQLite: the
        // index is filled after the merge; PostgreSQL: the GIN pending list, which every
        // search reads through until folded in, 33 ms → 0.3 ms a search after a million-unit
        // load, docs/PERFORMANCE.md). Searches find the rows meanwhile, more slowly.
        let (p, nome) = (self.clone(), spec.nome);
        tokio::spawn(async move { p.riordina_ricerca(Some(nome)).await });
        self.db.flusso(id).await?.ok_or(ErroreServizio::NonTrovato)
    }

    /// The people told of a review's outcome: those who had the receipt (api.md).
    async fn destinatari_esito(&self, id: i64) -> Esito<Vec<crate::posta::Destinatario>> {
        let f = self
            .db
            .flusso(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        match &f.inviato_da {
            Some(chi) => {
                self.destinatari_flusso(&f.ente, f.dominio.as_str(), chi)
                    .await
            }
            None => Ok(vec![]),
        }
    }

    /// How the receipt names who submitted: «Nome Cognome (CF)», or the token.
    async fn nome_attore(&self, s: &Soggetto) -> String {
        match s {
            Soggetto::Persona { cf, .. } => match self.db.persona(cf.as_str()).await {
                Ok(Some(p)) => format!("{} ({})", p.nome, cf.as_str()),
                _ => cf.to_string(),
            },
            Soggetto::Token { id, .. } => format!("applicazione dell'ente (token n. {id})"),
            Soggetto::Anonimo => "anonimo".into(),
        }
    }

    /// Fault injection for the crash test: with `PUSH_PROVA_PAUSA_FUSIONE_MS` set, and never in
    /// production, the merge stops after writing the register and before committing, and says
    /// so on the log, so that a test can kill the process at exactly that point.
    async fn pausa_di_prova_nella_fusione(&self, id: i64) {
        if self.config.modalita == crate::Modalita::Produzione {
            return;
        }
        let Some(ms) = std::env::var("PUSH_PROVA_PAUSA_FUSIONE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        else {
            return;
        };
        tracing::warn!(flusso = id, ms, "prova: fusione in pausa prima del commit");
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }

    /// The local path of a flow's staging file for a table; an empty file when the flow has no
    /// rows for it (an optional table left out means: no records).
    pub(crate) fn staging(
        &self,
        id: i64,
        tabella: &str,
        lavoro: &std::path::Path,
    ) -> Esito<std::path::PathBuf> {
        match self
            .deposito
            .derivato(&registro::nome_staging(id, tabella))
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?
        {
            Some(p) => Ok(p),
            None => {
                let p = lavoro.join(format!("vuoto-{}.tsv", crate::casuale::token_url(8)));
                std::fs::write(&p, b"").map_err(|e| ErroreServizio::Interno(e.to_string()))?;
                Ok(p)
            }
        }
    }

    /// Computes and stores a valid flow's difference against the current register.
    pub async fn calcola_differenze(&self, id: i64) -> Esito<()> {
        let f = self
            .db
            .flusso(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let spec = flussi::spec::dominio(f.dominio.as_str())
            .ok_or_else(|| ErroreServizio::Interno(format!("dominio {}", f.dominio)))?;
        let base = self
            .db
            .ultimo_accettato(&f.ente, f.dominio)
            .await?
            .unwrap_or(0);
        let lavoro = self
            .deposito
            .lavoro()
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        let mut conteggi: Vec<(String, ConteggiDifferenza)> = Vec::new();
        let mut elenco: Vec<Differenza> = Vec::new();
        for reg in registro::tavole(spec) {
            let (t, tav) = (reg.tabella, &reg.tavola);
            let staging = self.staging(id, t.nome, lavoro.path())?;
            let correnti: HashMap<String, (i64, i64)> = self
                .db
                .chiavi_correnti(tav, &f.ente)
                .await?
                .into_iter()
                .map(|(k, id, imp)| (k, (id, imp)))
                .collect();
            let attuali = correnti.len() as u64;
            let p = staging.clone();
            let c = tokio::task::spawn_blocking(move || classifica(&p, correnti))
                .await
                .map_err(|e| ErroreServizio::Interno(e.to_string()))?
                .map_err(|e| ErroreServizio::Interno(format!("righe del flusso: {e}")))?;
            conteggi.push((
                t.nome.to_string(),
                ConteggiDifferenza {
                    aggiunti: c.aggiunti.len() as u64,
                    modificati: c.modificati.len() as u64,
                    rimossi: c.rimossi.len() as u64,
                    attuali: Some(attuali),
                },
            ));
            let mut aggiunti = c.aggiunti.clone();
            aggiunti.sort();
            for k in aggiunti.into_iter().take(MAX_DIFFERENZE_ELENCATE) {
                elenco.push(Differenza {
                    tabella: t.nome.into(),
                    tipo: "aggiunto".into(),
                    chiave: k,
                    campi: None,
                });
            }
            for (k, _) in c.rimossi.iter().take(MAX_DIFFERENZE_ELENCATE) {
                elenco.push(Differenza {
                    tabella: t.nome.into(),
                    tipo: "rimosso".into(),
                    chiave: k.clone(),
                    campi: None,
                });
            }
            // Changed records, field by field: the new values from the staging file, the old
            // ones from the register.
            let n = c.modificati.len().min(MAX_DIFFERENZE_ELENCATE);
            if n > 0 {
                let mut scelte = vec![false; c.da_inserire.len()];
                for &l in c.linee_modificate.iter().take(n) {
                    scelte[l] = true;
                }
                let mut nuove = HashMap::new();
                let mut blocchi = Blocchi::apri(&staging, scelte, 20_000)
                    .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
                while let Some(b) = blocchi
                    .prossimo()
                    .map_err(|e| ErroreServizio::Interno(e.to_string()))?
                {
                    for r in b {
                        nuove.insert(r.chiave.clone(), r.campi);
                    }
                }
                let chiavi: Vec<String> = c
                    .modificati
                    .iter()
                    .take(n)
                    .map(|(k, _)| k.clone())
                    .collect();
                for v in self.db.versioni_correnti(tav, &f.ente, &chiavi).await? {
                    let Some(nuovi) = nuove.get(&v.chiave) else {
                        continue;
                    };
                    let campi: Vec<(&str, &Option<String>, &Option<String>)> = tav
                        .campi()
                        .iter()
                        .zip(v.campi.iter().zip(nuovi))
                        .filter(|(_, (a, b))| a != b)
                        .map(|(c, (a, b))| (*c, a, b))
                        .collect();
                    elenco.push(Differenza {
                        tabella: t.nome.into(),
                        tipo: "modificato".into(),
                        chiave: v.chiave.clone(),
                        campi: Some(serde_json::to_string(&campi).unwrap_or_default()),
                    });
                }
            }
        }
        let riepilogo = serde_json::to_string(&conteggi).unwrap_or_default();
        let mut tx = self.db.inizia().await?;
        tx.salva_differenze(id, base, &riepilogo, &elenco).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The durations of a merge's phases, for its log line.
struct Fasi {
    da: std::time::Instant,
    voci: Vec<String>,
}

impl Fasi {
    fn new() -> Self {
        Self {
            da: std::time::Instant::now(),
            voci: Vec::new(),
        }
    }

    /// Ends the current phase (of `oggetto`) and starts the next.
    fn segna(&mut self, oggetto: &str, fase: &str) {
        let ms = self.da.elapsed().as_millis();
        self.voci.push(format!("{oggetto} {fase} {ms} ms"));
        self.da = std::time::Instant::now();
    }
}

impl std::fmt::Display for Fasi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.voci.join(", "))
    }
}
