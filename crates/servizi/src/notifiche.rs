//! The notifications of the lifecycle (spec README §7, api.md "Notifications"): registration
//! decision, accreditation of a referent, validation outcome with its counts, the receipt of a
//! submitted flow with its protocol number, the review's outcome.
//!
//! Each is written in the outbox ([`crate::posta::accoda`]) inside the transaction of the state
//! change it tells about, so a committed change always has its message and a rolled-back one
//! never does. Texts are Italian, plain text plus HTML, from the templates in `modelli_posta/`
//! (minijinja; the HTML ones auto-escape every value).
//!
//! Who receives a flow's messages: the person who uploaded it (validation) or submitted it
//! (receipt, outcome); when that was a machine token, the entity's referents of the flow's area.

use std::sync::OnceLock;

use archivio::{Flusso, Tx};
use chrono::{DateTime, Utc};
use dominio::numeri::intero_it;
use dominio::orologio::{data_it, data_ora_it};
use dominio::{Area, DominioFlusso};
use minijinja::{Environment, Value, context};

use crate::posta::{self, Busta, Canale, Destinatario};
use crate::{ErroreServizio, Esito, Piattaforma};

fn modelli() -> &'static Environment<'static> {
    static M: OnceLock<Environment<'static>> = OnceLock::new();
    M.get_or_init(|| {
        let mut env = Environment::new();
        // `.html` templates escape every value; `.txt` ones do not (it is plain text).
        macro_rules! modello {
            ($($n:literal),*) => {$(
                env.add_template(concat!($n, ".txt"), include_str!(concat!("../modelli_posta/", $n, ".txt")))
                    .expect(concat!("modello ", $n, ".txt"));
                env.add_template(concat!($n, ".html"), include_str!(concat!("../modelli_posta/", $n, ".html")))
                    .expect(concat!("modello ", $n, ".html"));
            )*};
        }
        modello!(
            "registrazione",
            "referente",
            "flusso_validato",
            "flusso_inviato",
            "flusso_esito"
        );
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // HTML escaping without minijinja's `/` → `&#x2f;`, which mail clients show as it is
        // in the source and which makes the links and protocol numbers unreadable there.
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() {
                if !value.is_none() {
                    out.write_str(&posta::escapa(&value.to_string()))?;
                }
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env
    })
}

/// Renders a template pair into (text, HTML page).
fn rendi(nome: &str, oggetto: &str, ctx: Value) -> Esito<(String, String)> {
    let env = modelli();
    let t = |est: &str| -> Esito<String> {
        env.get_template(&format!("{nome}.{est}"))
            .and_then(|t| t.render(&ctx))
            .map_err(|e| ErroreServizio::Interno(format!("modello di messaggio {nome}.{est}: {e}")))
    };
    let testo = t("txt")?;
    let html = posta::impagina(oggetto, &t("html")?);
    Ok((testo, html))
}

/// The domain in a subject or text: «del patrimonio» (empty for an unknown one).
fn nome_dominio(d: &str) -> &'static str {
    DominioFlusso::parse(d).map_or("", DominioFlusso::genitivo)
}

impl Piattaforma {
    fn link(&self, percorso: &str) -> String {
        self.config
            .base_url
            .join(percorso)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| percorso.to_string())
    }

    /// The address of a person acting for an entity: the one given at accreditation, else the
    /// person's own.
    async fn indirizzo_persona(&self, cf: &str, ente: &str) -> Esito<Option<Destinatario>> {
        let incarichi = self.db.incarichi_attivi(cf).await?;
        let dell_ente = incarichi
            .iter()
            .filter(|i| i.ente == ente)
            .find_map(|i| i.email.clone().filter(|e| !e.trim().is_empty()));
        let indirizzo = match dell_ente {
            Some(e) => Some(e),
            None => self.db.persona(cf).await?.and_then(|p| p.email),
        };
        Ok(indirizzo
            .filter(|e| !e.trim().is_empty())
            .map(|indirizzo| Destinatario {
                indirizzo,
                persona: Some(cf.to_string()),
            }))
    }

    /// Who hears about a flow an actor (`audit::attore`: a codice fiscale or `token:N`) acted
    /// on: that person, or for a token the entity's referents of the flow's area.
    pub(crate) async fn destinatari_flusso(
        &self,
        ente: &str,
        dominio: &str,
        attore: &str,
    ) -> Esito<Vec<Destinatario>> {
        if !attore.starts_with("token:") && dominio::CodiceFiscale::parse(attore).is_ok() {
            return Ok(self
                .indirizzo_persona(attore, ente)
                .await?
                .into_iter()
                .collect());
        }
        let area = DominioFlusso::parse(dominio)
            .map(|d| d.area())
            .unwrap_or(Area::Patrimonio);
        let mut v: Vec<Destinatario> = self
            .db
            .incarichi_ente(ente)
            .await?
            .into_iter()
            .filter(|i| i.revocato_il.is_none() && i.ruolo == "REFERENTE")
            .filter(|i| Area::parse_elenco(&i.aree).is_ok_and(|a| a.contains(&area)))
            .filter_map(|i| {
                i.email
                    .filter(|e| !e.trim().is_empty())
                    .map(|indirizzo| Destinatario {
                        indirizzo,
                        persona: Some(i.cf),
                    })
            })
            .collect();
        v.sort_by(|a, b| a.indirizzo.cmp(&b.indirizzo));
        v.dedup_by(|a, b| a.indirizzo == b.indirizzo && a.persona == b.persona);
        Ok(v)
    }

    /// Queues the registration decision for the requester.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn notifica_registrazione(
        &self,
        tx: &mut Tx,
        r: &archivio::Registrazione,
        approvata: bool,
        motivazione: &str,
        adesso: DateTime<Utc>,
    ) -> Esito<()> {
        let oggetto = format!(
            "PUSH: registrazione di {} {}",
            r.denominazione_ente,
            if approvata { "approvata" } else { "respinta" }
        );
        let link = if approvata {
            self.link(&format!("/area/enti/{}/referenti", r.ente))
        } else {
            self.link("/area/registrazione")
        };
        let (testo, html) = rendi(
            "registrazione",
            &oggetto,
            context! { nome => r.nome, ente => r.denominazione_ente, approvata, motivazione,
            data => data_it(adesso), link },
        )?;
        let tipo = if approvata {
            "registrazione.approvata"
        } else {
            "registrazione.respinta"
        };
        let a = vec![Destinatario {
            indirizzo: r.email.clone(),
            persona: Some(r.cf.clone()),
        }];
        let email = Email {
            tipo,
            ente: &r.ente,
            flusso: None,
            oggetto,
            testo,
            html,
        };
        accoda_email(tx, email, a, adesso).await
    }

    /// Queues the news of an accreditation for the referent.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn notifica_referente(
        &self,
        tx: &mut Tx,
        ente: &str,
        cf: &str,
        nome: &str,
        email: &str,
        aree: &[Area],
        adesso: DateTime<Utc>,
    ) -> Esito<()> {
        let denominazione = self
            .db
            .ente(ente)
            .await?
            .map(|e| e.denominazione)
            .unwrap_or_else(|| ente.to_string());
        let oggetto = format!("PUSH: accreditamento come referente di {denominazione}");
        let aree: Vec<&str> = aree
            .iter()
            .map(|a| match a {
                Area::Patrimonio => "patrimonio",
                Area::Programmi => "programmi e contabilità",
            })
            .collect();
        let (testo, html) = rendi(
            "referente",
            &oggetto,
            context! { nome, ente => denominazione, aree => aree.join(", "),
            data => data_it(adesso), link => self.link("/area") },
        )?;
        let a = vec![Destinatario {
            indirizzo: email.to_string(),
            persona: Some(cf.to_string()),
        }];
        let email = Email {
            tipo: "referente.accreditato",
            ente,
            flusso: None,
            oggetto,
            testo,
            html,
        };
        accoda_email(tx, email, a, adesso).await
    }

    /// Queues the validation outcome, with its counts.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn notifica_validazione(
        &self,
        tx: &mut Tx,
        f: &Flusso,
        destinatari: Vec<Destinatario>,
        valido: bool,
        righe: i64,
        errori: i64,
        avvisi: i64,
        adesso: DateTime<Utc>,
    ) -> Esito<()> {
        let oggetto = format!(
            "PUSH: flusso {} n. {} {}",
            nome_dominio(f.dominio.as_str()),
            f.id,
            if valido { "valido" } else { "non valido" }
        );
        let (testo, html) = rendi(
            "flusso_validato",
            &oggetto,
            context! { dominio => nome_dominio(f.dominio.as_str()), id => f.id, ente => f.denominazione_ente,
            nome_file => f.nome_file, caricato_il => data_ora_it(f.caricato_il), data => data_ora_it(adesso),
            valido, righe => intero_it(righe), errori => intero_it(errori), avvisi => intero_it(avvisi),
            link => self.link(&format!("/area/flussi/{}", f.id)) },
        )?;
        let email = Email {
            tipo: "flusso.validato",
            ente: f.ente.as_str(),
            flusso: Some(f.id),
            oggetto,
            testo,
            html,
        };
        accoda_email(tx, email, destinatari, adesso).await
    }

    /// Queues the receipt of a submitted flow (`f` as it is once submitted).
    pub(crate) async fn notifica_invio(
        &self,
        tx: &mut Tx,
        f: &Flusso,
        destinatari: Vec<Destinatario>,
        inviato_da: &str,
        adesso: DateTime<Utc>,
    ) -> Esito<()> {
        let protocollo = f.protocollo.clone().unwrap_or_default();
        let oggetto = format!(
            "PUSH: ricevuta del flusso {} n. {}, protocollo {protocollo}",
            nome_dominio(f.dominio.as_str()),
            f.id
        );
        let (testo, html) = rendi(
            "flusso_inviato",
            &oggetto,
            context! { dominio => nome_dominio(f.dominio.as_str()), id => f.id, ente => f.denominazione_ente,
            nome_file => f.nome_file, protocollo, data => data_ora_it(adesso),
            righe => intero_it(f.righe.unwrap_or(0)), avvisi => intero_it(f.avvisi_confermati.unwrap_or(0)),
            inviato_da, link => self.link(&format!("/area/flussi/{}/ricevuta", f.id)) },
        )?;
        let email = Email {
            tipo: "flusso.inviato",
            ente: f.ente.as_str(),
            flusso: Some(f.id),
            oggetto,
            testo,
            html,
        };
        accoda_email(tx, email, destinatari, adesso).await
    }

    /// Queues the review's outcome: accepted, or rejected with the reason.
    pub(crate) async fn notifica_esito(
        &self,
        tx: &mut Tx,
        f: &Flusso,
        destinatari: Vec<Destinatario>,
        motivazione: Option<&str>,
        adesso: DateTime<Utc>,
    ) -> Esito<()> {
        let accettato = motivazione.is_none();
        let protocollo = f.protocollo.clone().unwrap_or_default();
        let oggetto = format!(
            "PUSH: flusso {} n. {} (protocollo {protocollo}) {}",
            nome_dominio(f.dominio.as_str()),
            f.id,
            if accettato { "accettato" } else { "respinto" }
        );
        let (testo, html) = rendi(
            "flusso_esito",
            &oggetto,
            context! { dominio => nome_dominio(f.dominio.as_str()), id => f.id, ente => f.denominazione_ente,
            protocollo, accettato, motivazione => motivazione.unwrap_or(""), data => data_ora_it(adesso),
            link => self.link(&format!("/area/flussi/{}", f.id)) },
        )?;
        let tipo = if accettato {
            "flusso.accettato"
        } else {
            "flusso.respinto"
        };
        let email = Email {
            tipo,
            ente: f.ente.as_str(),
            flusso: Some(f.id),
            oggetto,
            testo,
            html,
        };
        accoda_email(tx, email, destinatari, adesso).await
    }
}

/// One rendered e-mail of the lifecycle, before it is addressed.
struct Email<'a> {
    tipo: &'a str,
    ente: &'a str,
    flusso: Option<i64>,
    oggetto: String,
    testo: String,
    html: String,
}

/// Writes `e` in the outbox for `destinatari`, in the caller's transaction. Nobody to write to
/// is not an error of the state change (an entity may have no referent of the area yet): it
/// is logged and the change goes on.
async fn accoda_email(
    tx: &mut Tx,
    e: Email<'_>,
    destinatari: Vec<Destinatario>,
    adesso: DateTime<Utc>,
) -> Esito<()> {
    if destinatari.is_empty() {
        tracing::warn!(
            flusso = e.flusso,
            tipo = e.tipo,
            "nessun indirizzo a cui notificare"
        );
        return Ok(());
    }
    posta::accoda(
        tx,
        &Busta {
            tipo: e.tipo.into(),
            canale: Canale::Email,
            destinatari,
            ente: Some(e.ente.to_string()),
            flusso: e.flusso,
            sollecito: None,
            oggetto: e.oggetto,
            testo: e.testo,
            html: Some(e.html),
        },
        adesso,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn i_modelli_si_compongono_e_l_html_e_escapato() {
        let (t, h) = rendi(
            "flusso_esito",
            "Oggetto",
            context! { dominio => "del patrimonio", id => 7, ente => "Comune <di> Bari",
            protocollo => "2026/000001", accettato => false, motivazione => "<script>x</script>",
            data => "01/01/2026 10:00", link => "http://x/area/flussi/7" },
        )
        .unwrap();
        assert!(
            t.contains("RESPINTO") && t.contains("<script>x</script>"),
            "{t}"
        );
        assert!(!h.contains("<script>x"), "{h}");
        assert!(
            h.contains("&lt;script&gt;") && h.contains("Comune &lt;di&gt; Bari"),
            "{h}"
        );
    }
}
