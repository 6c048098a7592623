//! The demo's monitoring data: the registry's PEC addresses of the pilots and registered
//! entities (so that reminders to an unregistered pilot have somewhere to go), and, in the
//! complete demo, two collection campaigns and the reminders to the three pilots that had not
//! registered in March 2018 (queued in the outbox, readable in the development mailbox).

use chrono::Duration;
use dominio::{Ruolo, Soggetto};

use crate::demo::{RiepilogoDemo, Scenario};
use crate::solleciti::Motivo;
use crate::{ErroreServizio, Esito, Piattaforma};

/// The demo PEC address of an entity: the same form as a Comune's registration
/// (`protocollo@pec.lecce.push-demo.invalid`).
pub fn pec_demo(denominazione: &str) -> String {
    let slug: String = denominazione
        .strip_prefix("Comune di ")
        .unwrap_or(denominazione)
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("protocollo@pec.{slug}.push-demo.invalid")
}

impl Piattaforma {
    pub async fn carica_monitoraggio_demo(
        &self,
        r: &RiepilogoDemo,
        scenario: Scenario,
    ) -> Esito<()> {
        let admin = r
            .amministratore
            .as_ref()
            .ok_or_else(|| ErroreServizio::Interno("demo senza amministratore".into()))?;
        let enti = self.db.enti().await?;
        let adesso = self.orologio.ora();
        let oggi = self.orologio.oggi();
        let mut tx = self.db.inizia().await?;
        for e in enti
            .iter()
            .filter(|e| e.tipo != "REGIONE" && (e.pilota || e.registrato_il.is_some()))
        {
            tx.imposta_pec_ente(&e.codice, Some(&pec_demo(&e.denominazione)))
                .await?;
        }
        if scenario == Scenario::Marzo2018 {
            tx.commit().await?;
            return Ok(());
        }
        let pilota: Vec<String> = enti
            .iter()
            .filter(|e| e.pilota)
            .map(|e| e.codice.clone())
            .collect();
        let pilota_registrati: Vec<String> = enti
            .iter()
            .filter(|e| e.pilota && e.registrato_il.is_some())
            .map(|e| e.codice.clone())
            .collect();
        let codice = |nome: &str| {
            enti.iter()
                .find(|e| e.tipo == "COMUNE" && e.denominazione == format!("Comune di {nome}"))
                .map(|e| e.codice.clone())
                .ok_or_else(|| ErroreServizio::Interno(format!("Comune {nome} assente")))
        };
        let chi = admin.cf.as_str();
        // Asset flows from the pilots: open, the deadline three weeks ahead.
        let patrimonio = tx
            .crea_raccolta(
                &archivio::NuovaRaccolta {
                    titolo: "Patrimonio ERP – enti pilota",
                    dominio: "patrimonio",
                    scadenza: oggi + Duration::days(21),
                    chiusura: oggi + Duration::days(51),
                    selezione: "enti pilota",
                    aperta_da: chi,
                },
                &pilota,
                adesso - Duration::days(7),
            )
            .await?;
        let alliste = codice("Alliste")?;
        tx.dichiara_nulla(
            patrimonio,
            &alliste,
            "Il Comune non possiede alloggi di edilizia residenziale pubblica: il patrimonio ERP del territorio è dell'ARCA Sud Salento (dati dimostrativi).",
            chi,
            adesso - Duration::days(3),
        )
        .await?;
        // The historical accounting the notice announced: the deadline has passed.
        let contabilita = tx
            .crea_raccolta(
                &archivio::NuovaRaccolta {
                    titolo: "Contabilità storica dei cantieri finanziati – enti pilota registrati",
                    dominio: "contabilita",
                    scadenza: oggi - Duration::days(5),
                    chiusura: oggi + Duration::days(25),
                    selezione: "enti pilota registrati",
                    aperta_da: chi,
                },
                &pilota_registrati,
                adesso - Duration::days(40),
            )
            .await?;
        let carovigno = codice("Carovigno")?;
        tx.dichiara_nulla(
            contabilita,
            &carovigno,
            "Nessun intervento finanziato negli ultimi dieci anni (dati dimostrativi).",
            chi,
            adesso - Duration::days(10),
        )
        .await?;
        for (id, titolo) in [(patrimonio, "patrimonio"), (contabilita, "contabilita")] {
            tx.audit(
                archivio::NuovaVoce {
                    attore: chi,
                    ente: None,
                    azione: "raccolta.aperta",
                    oggetto: format!("raccolta:{id}"),
                    dettagli: serde_json::json!({ "demo": true, "dominio": titolo }),
                },
                adesso,
            )
            .await?;
        }
        tx.commit().await?;
        // The reminders the notice asked for: the three pilots that had not registered.
        let s = Soggetto::Persona {
            cf: admin.cf.clone(),
            ruoli: vec![Ruolo::AmministratoreRegione],
        };
        let mancanti: Vec<String> = self
            .candidati_sollecito(&s, Motivo::PilotaNonRegistrato, None)
            .await?
            .into_iter()
            .map(|c| c.ente)
            .collect();
        self.invia_solleciti(&s, Motivo::PilotaNonRegistrato, None, &mancanti)
            .await?;
        Ok(())
    }
}
