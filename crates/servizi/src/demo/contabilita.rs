//! The demo's second shared database: the Region's programme list and the accounting of the
//! four entities that sent asset flows in March 2018, loaded through the same path as people
//! take (upload, background validation, submission, acceptance). The interventions' buildings
//! are buildings of the same entity's demo register, so their links lead into it; their mix
//! (tested, finished, in progress, late, stalled, suspended, awarded, programmed, revoked)
//! is counted back from today, so the demo shows late and stalled sites whenever it is loaded.

use dominio::{Area, CodiceEnte, DominioFlusso, Ruolo, Soggetto};
use flussi::genera::FormatoGenerato;
use flussi::genera::contabilita::{OpzioniContabilita, genera_contabilita, genera_programmi};

use super::{ENTI_PATRIMONIO, RiepilogoDemo, seme};
use crate::{ErroreServizio, Esito, Piattaforma};

/// Interventions of each entity's demo accounting.
pub const INTERVENTI_DEMO: [(&str, u64); 4] = [
    ("110001", 16),
    ("ARCA-PC", 48),
    ("ARCA-JON", 36),
    ("ARCA-NS", 28),
];

fn interno(e: impl std::fmt::Display) -> ErroreServizio {
    ErroreServizio::Interno(format!("dati dimostrativi di contabilità: {e}"))
}

impl Piattaforma {
    /// Uploads a demo file as `s` for `ente`, runs its validation and submits it; gives the
    /// flow's id. Refuses a demo file that is not valid (a bug of the generator).
    async fn invia_file_demo(
        &self,
        s: &Soggetto,
        ente: &CodiceEnte,
        dominio: DominioFlusso,
        nome: &str,
        byte: &[u8],
    ) -> Esito<i64> {
        let mut ric = self.deposito.ricevi(u64::MAX).map_err(interno)?;
        ric.scrivi(byte).map_err(interno)?;
        let ric = ric.chiudi().map_err(interno)?;
        let c = self.carica_flusso(s, ente, dominio, nome, ric).await?;
        let f = self.valida_e_attendi(c.flusso.id).await?;
        if f.valido != Some(true) {
            return Err(interno(format!("il flusso {nome} non è valido")));
        }
        self.invia_flusso(s, f.id, true, None).await?;
        Ok(f.id)
    }

    /// Loads the programme list (as the Region's administrator) and each entity's accounting
    /// (as its PROGRAMMI referent), accepted today.
    pub async fn carica_contabilita_demo(&self, r: &RiepilogoDemo) -> Esito<()> {
        let admin = r
            .amministratore
            .as_ref()
            .ok_or_else(|| interno("demo senza amministratore"))?;
        let oggi = self.orologio.oggi();
        let lavoro = self.deposito.lavoro().map_err(interno)?;
        let cartella = lavoro.path().to_path_buf();

        // The programmes, as the Region sends them.
        let regione = CodiceEnte::parse("REGIONE")?;
        let s_admin = Soggetto::Persona {
            cf: admin.cf.clone(),
            ruoli: vec![Ruolo::AmministratoreRegione],
        };
        let file = cartella.join("programmi.zip");
        let f2 = file.clone();
        tokio::task::spawn_blocking(move || genera_programmi(FormatoGenerato::ZipCsv, &f2))
            .await
            .map_err(interno)?
            .map_err(interno)?;
        let byte = std::fs::read(&file).map_err(interno)?;
        let id = self
            .invia_file_demo(
                &s_admin,
                &regione,
                DominioFlusso::Programmi,
                "programmi-regione-puglia.zip",
                &byte,
            )
            .await?;
        self.applica_flusso(id, admin.cf.as_str(), oggi).await?;

        for (ente, interventi) in INTERVENTI_DEMO {
            let Some((_, _, _, referente)) = r.enti.iter().find(|(c, ..)| c == ente) else {
                continue;
            };
            let codice = CodiceEnte::parse(ente)?;
            let s = Soggetto::Persona {
                cf: referente.cf.clone(),
                ruoli: vec![Ruolo::Referente {
                    ente: codice.clone(),
                    aree: vec![Area::Programmi],
                }],
            };
            // The buildings of the entity's demo register: FAB000001 … FAB<n>.
            let unita = ENTI_PATRIMONIO
                .iter()
                .find(|(e, ..)| *e == ente)
                .map_or(300, |(_, u, _)| *u);
            let (base, file) = (
                cartella.join(format!("pat-{ente}.zip")),
                cartella.join(format!("cont-{ente}.zip")),
            );
            let (e2, f2) = (ente.to_string(), file.clone());
            tokio::task::spawn_blocking(move || {
                let fabbricati = flussi::genera::genera_patrimonio(
                    &flussi::genera::OpzioniGenera {
                        unita: unita + 20,
                        seme: seme(&e2),
                        ente: e2.clone(),
                    },
                    FormatoGenerato::ZipCsv,
                    &base,
                )?
                .fabbricati;
                let _ = std::fs::remove_file(&base);
                genera_contabilita(
                    &OpzioniContabilita {
                        interventi,
                        seme: seme(&e2),
                        ente: e2,
                        fabbricati,
                        oggi,
                    },
                    FormatoGenerato::ZipCsv,
                    &f2,
                )
            })
            .await
            .map_err(interno)?
            .map_err(interno)?;
            let byte = std::fs::read(&file).map_err(interno)?;
            let nome = format!("contabilita-{}.zip", ente.to_lowercase());
            let id = self
                .invia_file_demo(&s, &codice, DominioFlusso::Contabilita, &nome, &byte)
                .await?;
            self.applica_flusso(id, admin.cf.as_str(), oggi).await?;
        }
        Ok(())
    }
}
