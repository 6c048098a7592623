//! Who is asking: sessions of people (SPID/CIE through OpenID Connect, or the development
//! login) and machine tokens, resolved to a [`Soggetto`] with the roles valid *now*, so that a
//! revocation takes effect on the next request.

use archivio::{IncaricoRiga, NuovaVoce, Sessione};
use chrono::Duration;
use dominio::{Area, CodiceEnte, CodiceFiscale, Ruolo, Soggetto};
use serde::Serialize;

use crate::{ErroreServizio, Esito, Modalita, Piattaforma, audit, casuale, ora};

/// The logged-in person as pages show them.
#[derive(Clone, Debug, Serialize)]
pub struct Utente {
    pub cf: String,
    pub nome: String,
    pub metodo: String,
    pub incarichi: Vec<IncaricoRiga>,
}

/// A request's identity: the subject for the policy, and the person for display.
#[derive(Clone, Debug)]
pub struct Identita {
    pub soggetto: Soggetto,
    pub utente: Option<Utente>,
}

impl Identita {
    pub fn anonima() -> Self {
        Self {
            soggetto: Soggetto::Anonimo,
            utente: None,
        }
    }
}

/// How a login was made, stored with the session.
pub const METODO_SPID: &str = "spid";
pub const METODO_SVILUPPO: &str = "sviluppo";

/// Turns stored roles into policy roles, skipping rows that do not parse (logged).
pub fn ruoli(righe: &[IncaricoRiga]) -> Vec<Ruolo> {
    righe
        .iter()
        .filter_map(|r| {
            let ente = CodiceEnte::parse(&r.ente).ok()?;
            let ruolo = match r.ruolo.as_str() {
                "AMMINISTRATORE" if ente.is_regione() => Ruolo::AmministratoreRegione,
                "ISTRUTTORE" if ente.is_regione() => Ruolo::IstruttoreRegione,
                "LEGALE_RAPPRESENTANTE" => Ruolo::LegaleRappresentante { ente },
                "REFERENTE" => Ruolo::Referente {
                    ente,
                    aree: Area::parse_elenco(&r.aree).ok()?,
                },
                altro => {
                    tracing::warn!(
                        incarico = r.id,
                        ruolo = altro,
                        "incarico non riconosciuto, ignorato"
                    );
                    return None;
                }
            };
            Some(ruolo)
        })
        .collect()
}

impl Piattaforma {
    /// The identity behind a session cookie value; anonymous when absent, unknown or expired.
    pub async fn identita_da_sessione(&self, cookie: Option<&str>) -> Esito<Identita> {
        let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else {
            return Ok(Identita::anonima());
        };
        let Some(sess) = self.db.sessione(&casuale::hash(cookie), ora()).await? else {
            return Ok(Identita::anonima());
        };
        // A development session must not survive a restart in production mode.
        if sess.metodo == METODO_SVILUPPO && !self.accesso_sviluppo_attivo() {
            return Ok(Identita::anonima());
        }
        let Ok(cf) = CodiceFiscale::parse(&sess.cf) else {
            return Ok(Identita::anonima());
        };
        let persona = self.db.persona(cf.as_str()).await?;
        let incarichi = self.db.incarichi_attivi(cf.as_str()).await?;
        let soggetto = Soggetto::Persona {
            cf: cf.clone(),
            ruoli: ruoli(&incarichi),
        };
        Ok(Identita {
            soggetto,
            utente: Some(Utente {
                cf: cf.to_string(),
                nome: persona.map(|p| p.nome).unwrap_or_default(),
                metodo: sess.metodo,
                incarichi,
            }),
        })
    }

    /// The subject behind a bearer token; `None` when the token is unknown or revoked.
    pub async fn soggetto_da_token(&self, token: &str) -> Esito<Option<Soggetto>> {
        if !token.starts_with("push_") || token.len() > 128 {
            return Ok(None);
        }
        let Some(t) = self.db.token_attivo(&casuale::hash(token)).await? else {
            return Ok(None);
        };
        let Ok(ente) = CodiceEnte::parse(&t.ente) else {
            return Ok(None);
        };
        let aree = if ente.is_regione() {
            vec![]
        } else {
            Area::parse_elenco(&t.aree).unwrap_or_default()
        };
        Ok(Some(Soggetto::Token {
            id: t.id,
            ente,
            aree,
        }))
    }

    pub fn accesso_sviluppo_attivo(&self) -> bool {
        self.config.accesso_sviluppo && self.config.modalita == Modalita::Sviluppo
    }

    /// Opens a session for a person (creating the person on first login). Returns the cookie
    /// value; only its hash is stored.
    pub async fn apri_sessione(
        &self,
        cf: &CodiceFiscale,
        nome: &str,
        email: Option<&str>,
        metodo: &str,
    ) -> Esito<String> {
        let cookie = casuale::token_url(32);
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        tx.salva_persona(cf.as_str(), nome, email, adesso).await?;
        tx.segna_accesso(cf.as_str(), adesso).await?;
        tx.crea_sessione(&Sessione {
            id: casuale::hash(&cookie),
            cf: cf.to_string(),
            metodo: metodo.to_string(),
            creata_il: adesso,
            scade_il: adesso + Duration::hours(i64::from(self.config.durata_sessione_ore)),
        })
        .await?;
        tx.audit(
            NuovaVoce {
                attore: cf.as_str(),
                ente: None,
                azione: "accesso",
                oggetto: format!("persona:{cf}"),
                dettagli: serde_json::json!({ "metodo": metodo }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(cookie)
    }

    pub async fn chiudi_sessione(&self, cookie: &str) -> Esito<()> {
        self.db.elimina_sessione(&casuale::hash(cookie)).await?;
        Ok(())
    }

    /// The development login: only for people already known (the demo's), only in development.
    pub async fn accesso_sviluppo(&self, cf: &str) -> Esito<String> {
        if !self.accesso_sviluppo_attivo() {
            return Err(ErroreServizio::NonTrovato);
        }
        let cf = CodiceFiscale::parse(cf)?;
        let persona = self.db.persona(cf.as_str()).await?.ok_or_else(|| {
            ErroreServizio::Accesso(
                "Persona sconosciuta: scelga una delle persone dimostrative.".into(),
            )
        })?;
        self.apri_sessione(&cf, &persona.nome, None, METODO_SVILUPPO)
            .await
    }

    /// People offered by the development login: everyone with a role, plus those without.
    pub async fn persone_sviluppo(&self) -> Esito<(Vec<IncaricoRiga>, Vec<archivio::Persona>)> {
        if !self.accesso_sviluppo_attivo() {
            return Err(ErroreServizio::NonTrovato);
        }
        let con = self.db.persone_con_incarichi().await?;
        let senza = self
            .db
            .persone()
            .await?
            .into_iter()
            .filter(|p| !con.iter().any(|i| i.cf == p.cf))
            .collect();
        Ok((con, senza))
    }

    /// The names behind codici fiscali a page already shows (audit entries, a receipt's
    /// sender), so people read "Nome Cognome (CF)": cf → name. Only well-formed codici fiscali
    /// are looked up (`token:3` or `sistema` are not people); unknown ones are absent.
    pub async fn nomi_persone<'a>(
        &self,
        cf: impl IntoIterator<Item = &'a str>,
    ) -> Esito<std::collections::HashMap<String, String>> {
        let mut codici: Vec<String> = cf
            .into_iter()
            .filter_map(|c| CodiceFiscale::parse(c).ok())
            .map(|c| c.as_str().to_string())
            .collect();
        codici.sort();
        codici.dedup();
        Ok(self.db.nomi_persone(&codici).await?.into_iter().collect())
    }

    pub async fn pulisci_sessioni(&self) -> Esito<()> {
        let adesso = ora();
        self.db
            .pulisci_sessioni(adesso, adesso - Duration::minutes(15))
            .await?;
        Ok(())
    }
}

/// The audit actor for an identity.
pub fn attore(i: &Identita) -> String {
    audit::attore(&i.soggetto)
}
