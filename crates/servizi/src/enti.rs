//! The entity registry, registration of entities by their legal representatives, the Region's
//! decision, and the accreditation of referents.

use archivio::NuovaVoce;
pub use archivio::{Ente, IncaricoRiga, Registrazione};
use dominio::politica::{Azione, Soggetto, autorizza};
use dominio::valori::telefono;
use dominio::{Area, CodiceEnte, CodiceFiscale, Email, ErroreDominio, Testo};
use serde::Serialize;

use crate::{ErroreServizio, Esito, Piattaforma, audit::attore, ora};

/// What the public registry shows of an entity.
#[derive(Clone, Debug, Serialize)]
pub struct VoceRegistro {
    pub codice: String,
    pub denominazione: String,
    pub tipo: String,
    pub provincia: Option<String>,
    pub registrato: bool,
    pub pilota: bool,
}

impl From<&Ente> for VoceRegistro {
    fn from(e: &Ente) -> Self {
        VoceRegistro {
            codice: e.codice.clone(),
            denominazione: e.denominazione.clone(),
            tipo: e.tipo.clone(),
            provincia: e
                .sigla_provincia
                .clone()
                .or_else(|| e.province_competenza.clone()),
            registrato: e.registrato_il.is_some(),
            pilota: e.pilota,
        }
    }
}

/// Filters of the public registry.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
pub struct FiltroEnti {
    pub q: Option<String>,
    pub tipo: Option<String>,
    pub provincia: Option<String>,
    pub registrato: Option<String>,
}

impl FiltroEnti {
    fn ammette(&self, e: &Ente) -> bool {
        let q = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
        if let Some(q) = q
            && !e.denominazione.to_lowercase().contains(&q)
            && !e.codice.to_lowercase().contains(&q)
        {
            return false;
        }
        if let Some(t) = self.tipo.as_deref().filter(|t| !t.is_empty())
            && !e.tipo.eq_ignore_ascii_case(t)
        {
            return false;
        }
        if let Some(p) = self.provincia.as_deref().filter(|p| !p.is_empty()) {
            let p = p.to_ascii_uppercase();
            let in_prov = e.sigla_provincia.as_deref() == Some(p.as_str())
                || e.province_competenza
                    .as_deref()
                    .is_some_and(|l| l.split('|').any(|x| x == p));
            if !in_prov {
                return false;
            }
        }
        match self.registrato.as_deref() {
            Some("si") if e.registrato_il.is_none() => false,
            Some("no") if e.registrato_il.is_some() => false,
            _ => true,
        }
    }
}

/// A registration request as typed in the form.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
pub struct DomandaRegistrazione {
    #[serde(default)]
    pub ente: String,
    #[serde(default)]
    pub nome: String,
    #[serde(default)]
    pub pec: String,
    #[serde(default)]
    pub telefono: String,
    #[serde(default)]
    pub email: String,
}

/// A referent accreditation as typed in the form.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
pub struct DomandaReferente {
    #[serde(default)]
    pub codice_fiscale: String,
    #[serde(default)]
    pub nome: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub aree: Vec<String>,
}

/// Several field errors at once, so a form shows them all.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ErroriCampi(pub Vec<(String, String)>);

impl ErroriCampi {
    fn raccogli<T>(&mut self, r: Result<T, ErroreDominio>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(ErroreDominio::Valore { campo, messaggio }) => {
                self.0.push((campo.to_string(), messaggio));
                None
            }
            Err(e) => {
                self.0.push((String::new(), e.to_string()));
                None
            }
        }
    }
}

/// A use case refused for input reasons: all field errors, or a business error.
#[derive(Debug)]
pub enum Rifiuto {
    Campi(ErroriCampi),
    Servizio(ErroreServizio),
}

impl<E: Into<ErroreServizio>> From<E> for Rifiuto {
    fn from(e: E) -> Self {
        Rifiuto::Servizio(e.into())
    }
}

impl Piattaforma {
    pub async fn registro(&self, filtro: &FiltroEnti) -> Esito<Vec<Ente>> {
        Ok(self
            .db
            .enti()
            .await?
            .into_iter()
            .filter(|e| filtro.ammette(e))
            .collect())
    }

    pub async fn ente(&self, codice: &str) -> Esito<Ente> {
        let c = CodiceEnte::parse(codice).map_err(|_| ErroreServizio::NonTrovato)?;
        self.db
            .ente(c.as_str())
            .await?
            .ok_or(ErroreServizio::NonTrovato)
    }

    /// A person asks to register an entity as its legal representative.
    pub async fn richiedi_registrazione(
        &self,
        s: &Soggetto,
        d: &DomandaRegistrazione,
    ) -> Result<i64, Rifiuto> {
        autorizza(s, &Azione::RichiedereRegistrazione)?;
        let Soggetto::Persona { cf, .. } = s else {
            return Err(ErroreServizio::Negato(dominio::Negato::Vietato).into());
        };
        let mut errori = ErroriCampi::default();
        let ente = errori.raccogli(CodiceEnte::parse(&d.ente));
        let nome = errori.raccogli(Testo::parse(&d.nome, "nome", "Nome e cognome", 3, 120));
        let pec = errori.raccogli(Email::parse_campo(&d.pec, "pec"));
        let tel = errori.raccogli(telefono(&d.telefono));
        let email = errori.raccogli(Email::parse_campo(&d.email, "email"));
        let (Some(ente), Some(nome), Some(pec), Some(tel), Some(email)) =
            (ente, nome, pec, tel, email)
        else {
            return Err(Rifiuto::Campi(errori));
        };
        let Some(e) = self.db.ente(ente.as_str()).await? else {
            errori.0.push((
                "ente".into(),
                format!("L'ente con codice {ente} non esiste nel registro."),
            ));
            return Err(Rifiuto::Campi(errori));
        };
        if ente.is_regione() {
            errori.0.push((
                "ente".into(),
                "La Regione non si registra: il suo personale è abilitato dall'amministratore."
                    .into(),
            ));
            return Err(Rifiuto::Campi(errori));
        }
        if e.registrato_il.is_some() {
            return Err(ErroreServizio::Conflitto(format!(
                "{} è già registrato sulla piattaforma.",
                e.denominazione
            ))
            .into());
        }
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        tx.salva_persona(cf.as_str(), nome.as_str(), Some(email.as_str()), adesso)
            .await?;
        let id = match tx
            .crea_registrazione(
                ente.as_str(),
                cf.as_str(),
                nome.as_str(),
                pec.as_str(),
                &tel,
                email.as_str(),
                adesso,
            )
            .await
        {
            Ok(id) => id,
            Err(archivio::ErroreArchivio::Duplicato(_)) => {
                return Err(ErroreServizio::Conflitto(format!(
                    "Per {} esiste già una richiesta di registrazione in attesa di decisione.",
                    e.denominazione
                ))
                .into());
            }
            Err(err) => return Err(err.into()),
        };
        tx.audit(
            NuovaVoce {
                attore: cf.as_str(),
                ente: Some(ente.as_str()),
                azione: "registrazione.richiesta",
                oggetto: format!("registrazione:{id}"),
                dettagli: serde_json::json!({ "nome": nome.as_str(), "pec": pec.as_str(), "telefono": tel, "email": email.as_str() }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn registrazioni(
        &self,
        s: &Soggetto,
        stato: Option<&str>,
    ) -> Esito<Vec<Registrazione>> {
        autorizza(s, &Azione::DecidereRegistrazioni)?;
        Ok(self.db.registrazioni(stato).await?)
    }

    pub async fn registrazione(&self, s: &Soggetto, id: i64) -> Esito<Registrazione> {
        autorizza(s, &Azione::DecidereRegistrazioni)?;
        self.db
            .registrazione(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)
    }

    pub async fn mie_registrazioni(&self, s: &Soggetto) -> Esito<Vec<Registrazione>> {
        match s {
            Soggetto::Persona { cf, .. } => Ok(self.db.registrazioni_di(cf.as_str()).await?),
            _ => Ok(vec![]),
        }
    }

    /// The Region approves (making the requester legal representative) or rejects with a reason.
    pub async fn decidi_registrazione(
        &self,
        s: &Soggetto,
        id: i64,
        approva: bool,
        motivazione: &str,
    ) -> Result<(), Rifiuto> {
        autorizza(s, &Azione::DecidereRegistrazioni)?;
        let r = self
            .db
            .registrazione(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let motivazione = motivazione.trim();
        if !approva && motivazione.is_empty() {
            let mut e = ErroriCampi::default();
            e.0.push(("motivazione".into(), "Per respingere una richiesta serve la motivazione, che sarà mostrata al richiedente.".into()));
            return Err(Rifiuto::Campi(e));
        }
        if motivazione.chars().count() > 2000 {
            let mut e = ErroriCampi::default();
            e.0.push((
                "motivazione".into(),
                "La motivazione può avere al massimo 2000 caratteri.".into(),
            ));
            return Err(Rifiuto::Campi(e));
        }
        let chi = attore(s);
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        tx.decidi_registrazione(
            id,
            approva,
            (!motivazione.is_empty()).then_some(motivazione),
            &chi,
            adesso,
        )
        .await
        .map_err(|e| match e {
            archivio::ErroreArchivio::NonTrovato => {
                ErroreServizio::Conflitto("La richiesta è già stata decisa.".into())
            }
            e => e.into(),
        })?;
        if approva {
            tx.segna_registrato(&r.ente, adesso).await?;
            tx.conferisci_incarico(
                &r.cf,
                &r.ente,
                "LEGALE_RAPPRESENTANTE",
                "",
                Some(&r.email),
                &chi,
                adesso,
            )
            .await?;
        }
        self.notifica_registrazione(&mut tx, &r, approva, motivazione, adesso)
            .await?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: Some(&r.ente),
                azione: if approva {
                    "registrazione.approvata"
                } else {
                    "registrazione.respinta"
                },
                oggetto: format!("registrazione:{id}"),
                dettagli: serde_json::json!({ "richiedente": r.cf, "motivazione": motivazione }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        self.posta_accodata();
        Ok(())
    }

    /// The entity's people (representative and referents, active and revoked).
    pub async fn incarichi_ente(
        &self,
        s: &Soggetto,
        ente: &CodiceEnte,
    ) -> Esito<Vec<IncaricoRiga>> {
        autorizza(s, &Azione::VedereEnte(ente))?;
        Ok(self.db.incarichi_ente(ente.as_str()).await?)
    }

    /// The legal representative accredits a referent for one or more areas.
    pub async fn accredita_referente(
        &self,
        s: &Soggetto,
        ente: &CodiceEnte,
        d: &DomandaReferente,
    ) -> Result<i64, Rifiuto> {
        autorizza(s, &Azione::GestireReferenti(ente))?;
        let mut errori = ErroriCampi::default();
        let cf = errori.raccogli(CodiceFiscale::parse(&d.codice_fiscale));
        let nome = errori.raccogli(Testo::parse(&d.nome, "nome", "Nome e cognome", 3, 120));
        let email = errori.raccogli(Email::parse_campo(&d.email, "email"));
        let aree = errori.raccogli(Area::parse_elenco(&d.aree.join(",")));
        let (Some(cf), Some(nome), Some(email), Some(aree)) = (cf, nome, email, aree) else {
            return Err(Rifiuto::Campi(errori));
        };
        let chi = attore(s);
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        tx.salva_persona(cf.as_str(), nome.as_str(), Some(email.as_str()), adesso)
            .await?;
        let aree_txt = Area::elenco(&aree);
        let id = match tx
            .conferisci_incarico(
                cf.as_str(),
                ente.as_str(),
                "REFERENTE",
                &aree_txt,
                Some(email.as_str()),
                &chi,
                adesso,
            )
            .await
        {
            Ok(id) => id,
            Err(archivio::ErroreArchivio::Duplicato(_)) => {
                return Err(ErroreServizio::Conflitto(format!(
                    "{} è già referente di questo ente: per cambiarne le aree revochi l'incarico e lo conferisca di nuovo.",
                    nome.as_str()
                ))
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        self.notifica_referente(
            &mut tx,
            ente.as_str(),
            cf.as_str(),
            nome.as_str(),
            email.as_str(),
            &aree,
            adesso,
        )
        .await?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: Some(ente.as_str()),
                azione: "referente.accreditato",
                oggetto: format!("incarico:{id}"),
                dettagli: serde_json::json!({ "cf": cf.as_str(), "nome": nome.as_str(), "aree": aree_txt }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        self.posta_accodata();
        Ok(id)
    }

    /// The legal representative revokes a referent: effective on the referent's next request.
    pub async fn revoca_referente(
        &self,
        s: &Soggetto,
        ente: &CodiceEnte,
        id: i64,
        motivo: &str,
    ) -> Esito<()> {
        autorizza(s, &Azione::GestireReferenti(ente))?;
        let inc = self
            .db
            .incarico(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        if inc.ente != ente.as_str() || inc.ruolo != "REFERENTE" {
            return Err(ErroreServizio::NonTrovato);
        }
        let motivo = motivo.trim();
        let chi = attore(s);
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        tx.revoca_incarico(id, ente.as_str(), &chi, motivo, adesso)
            .await
            .map_err(|e| match e {
                archivio::ErroreArchivio::NonTrovato => {
                    ErroreServizio::Conflitto("L'incarico è già stato revocato.".into())
                }
                e => e.into(),
            })?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: Some(ente.as_str()),
                azione: "referente.revocato",
                oggetto: format!("incarico:{id}"),
                dettagli: serde_json::json!({ "cf": inc.cf, "motivo": motivo }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The Region marks or unmarks an entity as pilot.
    pub async fn imposta_pilota(&self, s: &Soggetto, ente: &CodiceEnte, pilota: bool) -> Esito<()> {
        autorizza(s, &Azione::GestirePilota)?;
        let chi = attore(s);
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        tx.imposta_pilota(ente.as_str(), pilota).await?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: Some(ente.as_str()),
                azione: if pilota {
                    "ente.pilota"
                } else {
                    "ente.non_pilota"
                },
                oggetto: format!("ente:{ente}"),
                dettagli: serde_json::json!({ "pilota": pilota }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
