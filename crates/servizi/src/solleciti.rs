//! Reminders (*solleciti*, spec README §6): the Region picks entities by what they still owe,
//! previews the messages made from an editable template, and sends them through the outbox
//! (`posta`): the reminder and its messages are written in one transaction, and the outbox's
//! sender delivers them in the background with retries, so a request never waits for SMTP
//! and nothing is lost across a restart. Each reminder is logged for its entity; the outcome
//! is the delivery state of its messages.
//!
//! Where a reminder goes: to the e-mail addresses of the entity's people who can act (the
//! legal representative, and the referents of the area concerned); when it has none (an
//! entity that never registered) to the entity's PEC address: the approved registration's,
//! else the registry's (the protocol office's, from IndicePA). An e-mail reminder still
//! unanswered (the entity still owes the same thing) after the Region's number of days is
//! escalated once to the PEC address.

use std::collections::BTreeMap;

use archivio::{ModelloSollecito, NuovaVoce, NuovoSollecito, Sollecito};
use chrono::NaiveDate;
use dominio::politica::{Azione, Soggetto, autorizza};
use dominio::segnaposto;
use dominio::{DominioFlusso, ErroreDominio};
use serde::Serialize;

use crate::raccolte::StatoObiettivo;
use crate::{ErroreServizio, Esito, Piattaforma, audit::attore};

/// Days before an unanswered e-mail reminder is escalated, until the Region sets them.
pub const GIORNI_ESCALAZIONE: i64 = 14;

/// Why an entity is reminded; each has its template of the same code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Motivo {
    /// A pilot entity that has not registered.
    PilotaNonRegistrato,
    /// A registered entity without an accepted `patrimonio` flow (and none waiting for review).
    SenzaFlussoAccettato,
    /// A target of a campaign past its deadline that has not answered.
    InRitardo,
}

impl Motivo {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pilota_non_registrato" => Some(Self::PilotaNonRegistrato),
            "senza_flusso_accettato" => Some(Self::SenzaFlussoAccettato),
            "in_ritardo" => Some(Self::InRitardo),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PilotaNonRegistrato => "pilota_non_registrato",
            Self::SenzaFlussoAccettato => "senza_flusso_accettato",
            Self::InRitardo => "in_ritardo",
        }
    }

    pub fn etichetta(self) -> &'static str {
        match self {
            Self::PilotaNonRegistrato => "Enti pilota non registrati",
            Self::SenzaFlussoAccettato => {
                "Enti registrati senza un flusso del patrimonio accettato"
            }
            Self::InRitardo => "Enti in ritardo in una raccolta",
        }
    }
}

/// The code of the template used for an escalation to PEC.
pub const MODELLO_ESCALAZIONE: &str = "escalazione";

/// The built-in templates, used until the Region edits them: (code, title, subject, body).
pub const MODELLI_PREDEFINITI: [(&str, &str, &str, &str); 4] = [
    (
        "pilota_non_registrato",
        "Ente pilota non registrato",
        "PUSH – registrazione sulla piattaforma: {ente}",
        "Spettabile {ente},\n\nnell'ambito della fase pilota della piattaforma PUSH – Puglia Social Housing risulta ancora da completare {mancante}.\n\nSi sollecita a provvedere entro {scadenza}: il legale rappresentante può chiedere la registrazione, accedendo con SPID o CIE, all'indirizzo\n{link}\n\nCordiali saluti\nRegione Puglia – Sezione Politiche Abitative",
    ),
    (
        "senza_flusso_accettato",
        "Ente registrato senza flussi del patrimonio",
        "PUSH – invio dei flussi del patrimonio: {ente}",
        "Spettabile {ente},\n\nrisulta ancora da inviare {mancante}.\n\nSi sollecita a provvedere entro {scadenza}, caricando il flusso dall'area riservata:\n{link}\n\nCordiali saluti\nRegione Puglia – Sezione Politiche Abitative",
    ),
    (
        "in_ritardo",
        "Ente in ritardo in una raccolta",
        "PUSH – sollecito: {mancante}",
        "Spettabile {ente},\n\nè scaduto il termine del {scadenza} per {mancante}, che non risulta ancora inviato.\n\nSi sollecita a provvedere al più presto dall'area riservata, oppure a dichiarare, motivandolo, di non avere nulla da dichiarare:\n{link}\n\nCordiali saluti\nRegione Puglia – Sezione Politiche Abitative",
    ),
    (
        MODELLO_ESCALAZIONE,
        "Sollecito rimasto senza risposta (PEC)",
        "PUSH – secondo sollecito: {ente}",
        "Spettabile {ente},\n\nun precedente sollecito inviato ai referenti dell'ente è rimasto senza riscontro: risulta ancora da completare {mancante}.\n\nSi invita a provvedere entro {scadenza}:\n{link}\n\nCordiali saluti\nRegione Puglia – Sezione Politiche Abitative",
    ),
];

/// Multi-line text of bounded length: new lines kept, other control characters refused.
pub fn testo_lungo(
    input: &str,
    campo: &'static str,
    etichetta: &str,
    min: usize,
    max: usize,
) -> Result<String, ErroreDominio> {
    let s = input.replace("\r\n", "\n");
    let s = s.trim();
    let n = s.chars().count();
    if n < min || n > max {
        return Err(ErroreDominio::valore(
            campo,
            format!("Il campo «{etichetta}» deve avere da {min} a {max} caratteri: ne ha {n}."),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ErroreDominio::valore(
            campo,
            format!("Il campo «{etichetta}» contiene caratteri non ammessi."),
        ));
    }
    Ok(s.to_string())
}

/// An entity that still owes something, with where its reminder would go.
#[derive(Clone, Debug, Serialize)]
pub struct Candidato {
    pub ente: String,
    pub denominazione: String,
    pub motivo: Motivo,
    pub raccolta: Option<i64>,
    /// What is missing, as the placeholder `{mancante}` writes it.
    pub mancante: String,
    pub scadenza: Option<NaiveDate>,
    pub link: String,
    /// `email` or `pec`.
    pub canale: &'static str,
    /// (address, codice fiscale of the person when it is a person's).
    pub indirizzi: Vec<(String, Option<String>)>,
}

/// A reminder message as it would be sent.
#[derive(Clone, Debug, Serialize)]
pub struct Anteprima {
    pub candidato: Candidato,
    pub oggetto: String,
    pub corpo: String,
}

/// A reminder of the log with its messages' delivery states.
#[derive(Clone, Debug, Serialize)]
pub struct VoceSollecito {
    pub sollecito: Sollecito,
    /// Italian summary of the outcome (e.g. «consegnato», «in coda», «non consegnato: …»).
    pub esito: String,
}

/// A template as typed in the editor.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
pub struct DomandaModello {
    #[serde(default)]
    pub oggetto: String,
    #[serde(default)]
    pub corpo: String,
}

fn modello_predefinito(codice: &str) -> Option<ModelloSollecito> {
    MODELLI_PREDEFINITI
        .iter()
        .find(|m| m.0 == codice)
        .map(|(c, t, o, b)| ModelloSollecito {
            codice: c.to_string(),
            titolo: t.to_string(),
            oggetto: o.to_string(),
            corpo: b.to_string(),
            modificato_il: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            modificato_da: String::new(),
        })
}

/// Fills a template for one entity.
pub fn componi(m: &ModelloSollecito, c: &Candidato) -> Result<(String, String), ErroreDominio> {
    let valore = |n: &str| match n {
        "ente" => c.denominazione.clone(),
        "mancante" => c.mancante.clone(),
        "scadenza" => c
            .scadenza
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| "al più presto".into()),
        "link" => c.link.clone(),
        _ => String::new(),
    };
    Ok((
        segnaposto::compila(&m.oggetto, valore)?,
        segnaposto::compila(&m.corpo, valore)?,
    ))
}

impl Piattaforma {
    /// The templates: the Region's where edited, else the built-in ones.
    pub async fn modelli_sollecito(&self, s: &Soggetto) -> Esito<Vec<ModelloSollecito>> {
        autorizza(s, &Azione::VedereMonitoraggio)?;
        self.modelli_interni().await
    }

    async fn modelli_interni(&self) -> Esito<Vec<ModelloSollecito>> {
        let salvati = self.db.modelli_sollecito().await?;
        Ok(MODELLI_PREDEFINITI
            .iter()
            .filter_map(|m| {
                salvati
                    .iter()
                    .find(|x| x.codice == m.0)
                    .cloned()
                    .or_else(|| modello_predefinito(m.0))
            })
            .collect())
    }

    async fn modello(&self, codice: &str) -> Esito<ModelloSollecito> {
        self.modelli_interni()
            .await?
            .into_iter()
            .find(|m| m.codice == codice)
            .ok_or(ErroreServizio::NonTrovato)
    }

    /// Saves a template (a Region administrator). A placeholder that does not exist is refused
    /// here, so that it can never reach an entity as literal text.
    pub async fn salva_modello_sollecito(
        &self,
        s: &Soggetto,
        codice: &str,
        d: &DomandaModello,
    ) -> Result<(), crate::enti::Rifiuto> {
        autorizza(s, &Azione::GestireSolleciti).map_err(ErroreServizio::from)?;
        let base = modello_predefinito(codice).ok_or(ErroreServizio::NonTrovato)?;
        let mut err = crate::enti::ErroriCampi::default();
        let oggetto = testo_lungo(&d.oggetto, "oggetto", "Oggetto", 3, 200)
            .and_then(|o| {
                if o.contains('\n') {
                    Err(ErroreDominio::valore(
                        "oggetto",
                        "L'oggetto sta su una riga.",
                    ))
                } else {
                    segnaposto::verifica("oggetto", &o).map(|_| o)
                }
            })
            .map_err(|e| err.0.push(("oggetto".into(), e.to_string())))
            .ok();
        let corpo = testo_lungo(&d.corpo, "corpo", "Testo", 10, 10_000)
            .and_then(|c| segnaposto::verifica("corpo", &c).map(|_| c))
            .map_err(|e| err.0.push(("corpo".into(), e.to_string())))
            .ok();
        let (Some(oggetto), Some(corpo)) = (oggetto, corpo) else {
            return Err(crate::enti::Rifiuto::Campi(err));
        };
        let chi = attore(s);
        let adesso = self.orologio.ora();
        let mut tx = self.db.inizia().await.map_err(ErroreServizio::from)?;
        tx.salva_modello_sollecito(&ModelloSollecito {
            codice: base.codice.clone(),
            titolo: base.titolo,
            oggetto,
            corpo,
            modificato_il: adesso,
            modificato_da: chi.clone(),
        })
        .await
        .map_err(ErroreServizio::from)?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: None,
                azione: "sollecito.modello_modificato",
                oggetto: format!("modello_sollecito:{}", base.codice),
                dettagli: serde_json::json!({}),
            },
            adesso,
        )
        .await
        .map_err(ErroreServizio::from)?;
        tx.commit().await.map_err(ErroreServizio::from)?;
        Ok(())
    }

    /// The days after which an unanswered reminder is escalated.
    pub async fn giorni_escalazione(&self) -> Esito<i64> {
        Ok(self
            .db
            .giorni_escalazione()
            .await?
            .unwrap_or(GIORNI_ESCALAZIONE))
    }

    /// Sets the escalation days (a Region administrator), 1 to 365.
    pub async fn imposta_giorni_escalazione(&self, s: &Soggetto, giorni: &str) -> Esito<()> {
        autorizza(s, &Azione::GestireSolleciti)?;
        let g: i64 = giorni
            .trim()
            .parse()
            .ok()
            .filter(|g| (1..=365).contains(g))
            .ok_or_else(|| {
                ErroreDominio::valore("giorni", "Indichi un numero di giorni da 1 a 365.")
            })?;
        let chi = attore(s);
        let adesso = self.orologio.ora();
        let mut tx = self.db.inizia().await?;
        tx.imposta_giorni_escalazione(g, &chi, adesso).await?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: None,
                azione: "sollecito.escalazione_impostata",
                oggetto: "impostazioni:monitoraggio".into(),
                dettagli: serde_json::json!({ "giorni": g }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The people of an entity who can act on `area` (legal representative and the area's
    /// referents), with an e-mail address: (address, codice fiscale).
    async fn indirizzi_ente(
        &self,
        incarichi: &[archivio::IncaricoRiga],
        ente: &str,
        area: &str,
    ) -> Vec<(String, Option<String>)> {
        let mut v: Vec<(String, Option<String>)> = incarichi
            .iter()
            .filter(|i| i.ente == ente)
            .filter(|i| {
                i.ruolo == "LEGALE_RAPPRESENTANTE"
                    || (i.ruolo == "REFERENTE" && i.aree.split(',').any(|a| a == area))
            })
            .filter_map(|i| {
                i.email
                    .clone()
                    .filter(|e| !e.is_empty())
                    .map(|e| (e, Some(i.cf.clone())))
            })
            .collect();
        v.sort();
        v.dedup_by(|a, b| a.0 == b.0);
        v
    }

    /// The entities that still owe what `motivo` says (for `InRitardo`, in campaign
    /// `raccolta`), with where each reminder would go.
    pub async fn candidati_sollecito(
        &self,
        s: &Soggetto,
        motivo: Motivo,
        raccolta: Option<i64>,
    ) -> Esito<Vec<Candidato>> {
        autorizza(s, &Azione::VedereMonitoraggio)?;
        self.candidati(motivo, raccolta).await
    }

    async fn candidati(&self, motivo: Motivo, raccolta: Option<i64>) -> Esito<Vec<Candidato>> {
        let base = self
            .config
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_string();
        let incarichi = self.db.persone_con_incarichi().await?;
        let mut v = Vec::new();
        match motivo {
            Motivo::PilotaNonRegistrato => {
                for e in self.db.enti().await? {
                    if e.tipo == "REGIONE" || !e.pilota || e.registrato_il.is_some() {
                        continue;
                    }
                    let pec = self.db.pec_ente(&e.codice).await?;
                    v.push(Candidato {
                        link: format!("{base}/area/registrazione?ente={}", e.codice),
                        ente: e.codice,
                        denominazione: e.denominazione,
                        motivo,
                        raccolta: None,
                        mancante: "la registrazione dell'ente sulla piattaforma".into(),
                        scadenza: None,
                        canale: "pec",
                        indirizzi: pec.into_iter().map(|p| (p, None)).collect(),
                    });
                }
            }
            Motivo::SenzaFlussoAccettato => {
                let accettati: Vec<String> = self
                    .db
                    .ultimi_accettati()
                    .await?
                    .into_iter()
                    .filter(|(_, d, _)| d == "patrimonio")
                    .map(|(e, ..)| e)
                    .collect();
                // An entity whose flow waits for the Region's review has done its part.
                let in_esame: Vec<String> = self
                    .db
                    .ultimi_flussi()
                    .await?
                    .into_iter()
                    .filter(|f| f.dominio == "patrimonio" && f.stato == "inviato")
                    .map(|f| f.ente)
                    .collect();
                for e in self.db.enti().await? {
                    if e.tipo == "REGIONE"
                        || e.registrato_il.is_none()
                        || accettati.contains(&e.codice)
                        || in_esame.contains(&e.codice)
                    {
                        continue;
                    }
                    v.push(
                        self.candidato_registrato(
                            &incarichi,
                            e.codice,
                            e.denominazione,
                            motivo,
                            None,
                            "il flusso del patrimonio (banca dati patrimoniale ERP)".into(),
                            None,
                            format!("{base}/area/flussi"),
                            "PATRIMONIO",
                        )
                        .await?,
                    );
                }
            }
            Motivo::InRitardo => {
                let id = raccolta
                    .ok_or_else(|| ErroreDominio::valore("raccolta", "Scelga la raccolta."))?;
                let r = self
                    .db
                    .raccolta(id)
                    .await?
                    .ok_or(ErroreServizio::NonTrovato)?;
                let oggi = self.orologio.oggi();
                if oggi > r.chiusura {
                    return Ok(vec![]);
                }
                let obiettivi = self.db.obiettivi(Some(id)).await?;
                let flussi = self.db.flussi_raccolta(&r).await?;
                let dominio = DominioFlusso::parse(&r.dominio).map_err(ErroreServizio::from)?;
                for x in crate::raccolte::righe(&r, &obiettivi, &flussi, oggi) {
                    // Late and still owing: a submitted flow waits for the Region, not for them.
                    if !x.in_ritardo || x.conforme || x.stato == StatoObiettivo::Inviato {
                        continue;
                    }
                    let mancante = format!(
                        "il flusso {} richiesto dalla raccolta «{}»",
                        match dominio {
                            DominioFlusso::Patrimonio => "del patrimonio",
                            _ => "della contabilità dei cantieri",
                        },
                        r.titolo
                    );
                    if x.registrato {
                        let link = format!("{base}/enti/{}", x.ente);
                        v.push(
                            self.candidato_registrato(
                                &incarichi,
                                x.ente,
                                x.denominazione,
                                motivo,
                                Some(id),
                                mancante,
                                Some(r.scadenza),
                                link,
                                dominio.area().as_str(),
                            )
                            .await?,
                        );
                    } else {
                        let pec = self.db.pec_ente(&x.ente).await?;
                        v.push(Candidato {
                            link: format!("{base}/area/registrazione?ente={}", x.ente),
                            ente: x.ente,
                            denominazione: x.denominazione,
                            motivo,
                            raccolta: Some(id),
                            mancante,
                            scadenza: Some(r.scadenza),
                            canale: "pec",
                            indirizzi: pec.into_iter().map(|p| (p, None)).collect(),
                        });
                    }
                }
            }
        }
        Ok(v)
    }

    #[allow(clippy::too_many_arguments)]
    async fn candidato_registrato(
        &self,
        incarichi: &[archivio::IncaricoRiga],
        ente: String,
        denominazione: String,
        motivo: Motivo,
        raccolta: Option<i64>,
        mancante: String,
        scadenza: Option<NaiveDate>,
        link: String,
        area: &str,
    ) -> Esito<Candidato> {
        let email = self.indirizzi_ente(incarichi, &ente, area).await;
        let (canale, indirizzi) = if email.is_empty() {
            let pec = self.db.pec_ente(&ente).await?;
            ("pec", pec.into_iter().map(|p| (p, None)).collect())
        } else {
            ("email", email)
        };
        Ok(Candidato {
            ente,
            denominazione,
            motivo,
            raccolta,
            mancante,
            scadenza,
            link,
            canale,
            indirizzi,
        })
    }

    /// The messages a sending would produce, for the entities chosen (all candidates when
    /// `enti` is empty).
    pub async fn anteprima_solleciti(
        &self,
        s: &Soggetto,
        motivo: Motivo,
        raccolta: Option<i64>,
        enti: &[String],
    ) -> Esito<Vec<Anteprima>> {
        let m = self.modello(motivo.as_str()).await?;
        let mut v = Vec::new();
        for c in self.candidati_sollecito(s, motivo, raccolta).await? {
            if !enti.is_empty() && !enti.contains(&c.ente) {
                continue;
            }
            let (oggetto, corpo) = componi(&m, &c)?;
            v.push(Anteprima {
                candidato: c,
                oggetto,
                corpo,
            });
        }
        Ok(v)
    }

    /// Sends the reminders (a Region administrator) to the chosen entities that still owe:
    /// an entity chosen on a stale page that has meanwhile complied is left out. Returns how
    /// many reminders were recorded.
    pub async fn invia_solleciti(
        &self,
        s: &Soggetto,
        motivo: Motivo,
        raccolta: Option<i64>,
        enti: &[String],
    ) -> Esito<usize> {
        autorizza(s, &Azione::GestireSolleciti)?;
        if enti.is_empty() {
            return Err(ErroreDominio::valore("enti", "Scelga almeno un ente.").into());
        }
        let anteprime = self.anteprima_solleciti(s, motivo, raccolta, enti).await?;
        let chi = attore(s);
        let adesso = self.orologio.ora();
        let mut tx = self.db.inizia().await?;
        for a in &anteprime {
            self.registra_sollecito(&mut tx, a, motivo.as_str(), None, &chi, adesso)
                .await?;
        }
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: None,
                azione: "sollecito.inviati",
                oggetto: format!("solleciti:{}", motivo.as_str()),
                dettagli: serde_json::json!({
                    "raccolta": raccolta,
                    "enti": anteprime.iter().map(|a| a.candidato.ente.as_str()).collect::<Vec<_>>(),
                }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        self.posta_accodata();
        Ok(anteprime.len())
    }

    /// Records one reminder and queues its messages, in the caller's transaction.
    async fn registra_sollecito(
        &self,
        tx: &mut archivio::Tx,
        a: &Anteprima,
        modello: &str,
        escalation_di: Option<i64>,
        chi: &str,
        adesso: chrono::DateTime<chrono::Utc>,
    ) -> Esito<i64> {
        let c = &a.candidato;
        let destinatari = c
            .indirizzi
            .iter()
            .map(|(i, _)| i.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let errore = c.indirizzi.is_empty().then_some(if c.canale == "pec" {
            "Nessun indirizzo PEC noto per l'ente: il sollecito non è stato inviato."
        } else {
            "Nessun indirizzo noto per l'ente: il sollecito non è stato inviato."
        });
        let id = tx
            .inserisci_sollecito(
                &NuovoSollecito {
                    ente: &c.ente,
                    motivo: c.motivo.as_str(),
                    raccolta: c.raccolta,
                    modello,
                    canale: c.canale,
                    destinatari: &destinatari,
                    oggetto: &a.oggetto,
                    corpo: &a.corpo,
                    errore,
                    inviato_da: chi,
                    escalation_di,
                },
                adesso,
            )
            .await?;
        if !c.indirizzi.is_empty() {
            crate::posta_solleciti::accoda(
                tx,
                if escalation_di.is_some() {
                    "sollecito.escalation"
                } else {
                    "sollecito"
                },
                c.canale,
                &c.indirizzi,
                &c.ente,
                id,
                &a.oggetto,
                &a.corpo,
                adesso,
            )
            .await?;
        }
        tx.audit(
            NuovaVoce {
                attore: chi,
                ente: Some(&c.ente),
                azione: if escalation_di.is_some() {
                    "sollecito.escalato"
                } else {
                    "sollecito.inviato"
                },
                oggetto: format!("sollecito:{id}"),
                dettagli: serde_json::json!({
                    "motivo": c.motivo.as_str(), "canale": c.canale, "destinatari": destinatari,
                }),
            },
            adesso,
        )
        .await?;
        Ok(id)
    }

    /// Escalates the e-mail reminders unanswered after the Region's number of days to the
    /// entity's PEC address, once each (several servers may run this together: each reminder
    /// is claimed by one). Returns how many were escalated. Run by `push serve` periodically.
    pub async fn escala_solleciti(&self) -> Esito<usize> {
        let giorni = self.giorni_escalazione().await?;
        let adesso = self.orologio.ora();
        let prima_di = adesso - chrono::Duration::days(giorni);
        let da_vedere = self.db.solleciti_da_escalare(prima_di).await?;
        if da_vedere.is_empty() {
            return Ok(0);
        }
        let modello = self.modello(MODELLO_ESCALAZIONE).await?;
        let mut n = 0;
        // The candidates per (reason, campaign), computed once per pass.
        let mut cache: BTreeMap<(String, Option<i64>), Vec<Candidato>> = BTreeMap::new();
        for s in da_vedere {
            let Some(motivo) = Motivo::parse(&s.motivo) else {
                continue;
            };
            let chiave = (s.motivo.clone(), s.raccolta);
            if !cache.contains_key(&chiave) {
                let c = self.candidati(motivo, s.raccolta).await?;
                cache.insert(chiave.clone(), c);
            }
            let ancora = cache
                .get(&chiave)
                .and_then(|v| v.iter().find(|c| c.ente == s.ente))
                .cloned();
            let mut tx = self.db.inizia().await?;
            let esito = match &ancora {
                None => "non_necessaria",
                Some(_) => match self.db.pec_ente(&s.ente).await? {
                    Some(_) => "inviata",
                    None => "senza_pec",
                },
            };
            if !tx.segna_escalato(s.id, esito, adesso).await? {
                continue;
            }
            if let (Some(mut c), "inviata") = (ancora, esito) {
                c.canale = "pec";
                c.indirizzi = self
                    .db
                    .pec_ente(&s.ente)
                    .await?
                    .into_iter()
                    .map(|p| (p, None))
                    .collect();
                let (oggetto, corpo) = componi(&modello, &c)?;
                let a = Anteprima {
                    candidato: c,
                    oggetto,
                    corpo,
                };
                self.registra_sollecito(
                    &mut tx,
                    &a,
                    MODELLO_ESCALAZIONE,
                    Some(s.id),
                    crate::audit::SISTEMA,
                    adesso,
                )
                .await?;
                n += 1;
            }
            tx.commit().await?;
        }
        if n > 0 {
            self.posta_accodata();
        }
        Ok(n)
    }

    /// The reminders of an entity (`Some`) or all, newest first, with their outcome: for the
    /// Region, and for the entity's own people on its page.
    pub async fn solleciti(
        &self,
        s: &Soggetto,
        ente: Option<&dominio::CodiceEnte>,
    ) -> Esito<Vec<VoceSollecito>> {
        match ente {
            Some(e) => autorizza(s, &Azione::VedereEnte(e))?,
            None => autorizza(s, &Azione::VedereMonitoraggio)?,
        }
        let v = self.db.solleciti(ente.map(|e| e.as_str()), 200).await?;
        let mut out = Vec::with_capacity(v.len());
        for x in v {
            let esito = match &x.errore {
                Some(e) => e.clone(),
                None => crate::posta_solleciti::esito(self, x.id).await?,
            };
            out.push(VoceSollecito {
                sollecito: x,
                esito,
            });
        }
        Ok(out)
    }
}
