//! `push demo`: a realistic demonstration database, and the March 2018 scenario exactly
//! (`data/scenario_marzo_2018.md`): 14 pilots, 13 registered entities each with an approved
//! legal representative and a referent per area, Lecce, Foggia and Taranto not registered.
//!
//! Every person is obviously fictitious: surnames like «Esempio», codici fiscali starting with
//! `DMO`, e-mail addresses under the reserved `.invalid` top-level domain.

use archivio::{NuovaVoce, Tx};
use chrono::{DateTime, Duration, TimeZone, Utc};
use dominio::CodiceFiscale;

use crate::{ErroreServizio, Esito, Piattaforma, audit::SISTEMA, ora};
use flussi::riferimento;

/// Which demo to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The March 2018 state and nothing later.
    Marzo2018,
    /// The March 2018 state plus later activity useful to click through (pending requests).
    Completo,
}

/// The pilot Comuni of the scenario, by name.
pub const COMUNI_PILOTA: [&str; 9] = [
    "Bari",
    "Brindisi",
    "Andria",
    "Alliste",
    "Carovigno",
    "Sannicandro di Bari",
    "Lecce",
    "Foggia",
    "Taranto",
];
/// Registered pilot Comuni.
pub const COMUNI_PILOTA_REGISTRATI: [&str; 6] = [
    "Bari",
    "Brindisi",
    "Andria",
    "Alliste",
    "Carovigno",
    "Sannicandro di Bari",
];
/// Registered non-pilot Comuni.
pub const COMUNI_NON_PILOTA_REGISTRATI: [&str; 2] = ["Gravina in Puglia", "Canosa di Puglia"];

const NOMI: [&str; 16] = [
    "Anna",
    "Marco",
    "Giulia",
    "Luca",
    "Francesca",
    "Paolo",
    "Chiara",
    "Davide",
    "Elena",
    "Stefano",
    "Sara",
    "Nicola",
    "Valentina",
    "Vito",
    "Rosa",
    "Michele",
];
const COGNOMI: [&str; 4] = ["Esempio", "Prova", "Fittizio", "Dimostrativo"];
const MESI: &[u8] = b"ABCDEHLMPRST";

/// A demo person.
#[derive(Clone, Debug)]
pub struct PersonaDemo {
    pub cf: CodiceFiscale,
    pub nome: String,
    pub email: String,
}

/// The `i`-th fictitious person, born (on paper) in the Comune with cadastral code `belfiore`.
pub fn persona_demo(
    i: usize,
    belfiore: &str,
    dominio_posta: &str,
) -> Result<PersonaDemo, ErroreServizio> {
    let nome = NOMI[i % NOMI.len()];
    let cognome = COGNOMI[(i / NOMI.len()) % COGNOMI.len()];
    let lettere_nome: String = nome
        .to_ascii_uppercase()
        .chars()
        .filter(|c| !"AEIOU".contains(*c))
        .chain("XXX".chars())
        .take(3)
        .collect();
    let primi15 = format!(
        "DMO{}{:02}{}{:02}{}",
        lettere_nome,
        50 + (i % 50),
        MESI[i % 12] as char,
        1 + (i % 28),
        belfiore
    );
    let cf = CodiceFiscale::con_controllo(&primi15)
        .map_err(|e| ErroreServizio::Interno(format!("cf demo {primi15}: {e}")))?;
    Ok(PersonaDemo {
        cf,
        nome: format!("{nome} {cognome}"),
        email: format!(
            "{}.{}@{dominio_posta}",
            nome.to_lowercase(),
            cognome.to_lowercase()
        ),
    })
}

fn data(anno: i32, mese: u32, giorno: u32, ora_: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(anno, mese, giorno, ora_, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

/// The people the demo creates, exposed for tests and the README.
#[derive(Clone, Debug, Default)]
pub struct RiepilogoDemo {
    pub amministratore: Option<PersonaDemo>,
    pub istruttore: Option<PersonaDemo>,
    /// (entity code, legal representative, referent PATRIMONIO, referent PROGRAMMI)
    pub enti: Vec<(String, PersonaDemo, PersonaDemo, PersonaDemo)>,
    /// People without any role (to try a registration).
    pub senza_ruolo: Vec<PersonaDemo>,
}

async fn voce(
    tx: &mut Tx,
    ente: Option<&str>,
    azione: &str,
    oggetto: String,
    quando: DateTime<Utc>,
    attore: &str,
) -> Esito<()> {
    tx.audit(
        NuovaVoce {
            attore,
            ente,
            azione,
            oggetto,
            dettagli: serde_json::json!({ "demo": true }),
        },
        quando,
    )
    .await?;
    Ok(())
}

impl Piattaforma {
    /// Loads a demo. Refuses a database holding data unless `sostituisci`.
    pub async fn carica_demo(&self, scenario: Scenario, sostituisci: bool) -> Esito<RiepilogoDemo> {
        if !sostituisci && !self.db.senza_dati().await? {
            return Err(ErroreServizio::Conflitto(
                "Il database contiene già dati: usi --sostituisci per cancellarli e caricare la dimostrazione.".into(),
            ));
        }
        let comuni = riferimento::comuni().map_err(ErroreServizio::Interno)?;
        let codice_di = |nome: &str| -> Esito<(String, String)> {
            comuni
                .iter()
                .find(|c| c.nome == nome)
                .map(|c| (c.istat.clone(), c.codice_catastale.clone()))
                .ok_or_else(|| {
                    ErroreServizio::Interno(format!(
                        "Comune {nome} assente dai dati di riferimento"
                    ))
                })
        };
        let arca = riferimento::arca().map_err(ErroreServizio::Interno)?;
        let bari_belfiore = codice_di("Bari")?.1;

        let mut tx = self.db.inizia().await?;
        if sostituisci {
            tx.svuota_dati().await?;
            voce(
                &mut tx,
                None,
                "demo.sostituita",
                "database".into(),
                ora(),
                SISTEMA,
            )
            .await?;
        }
        let mut r = RiepilogoDemo::default();
        let mut i = 0usize;
        let inizio = data(2017, 11, 6, 9);

        // Region staff.
        let admin = persona_demo(i, &bari_belfiore, "regione.push-demo.invalid")?;
        i += 1;
        let istr = persona_demo(i, &bari_belfiore, "regione.push-demo.invalid")?;
        i += 1;
        for (p, ruolo) in [(&admin, "AMMINISTRATORE"), (&istr, "ISTRUTTORE")] {
            tx.salva_persona(p.cf.as_str(), &p.nome, Some(&p.email), inizio)
                .await?;
            let id = tx
                .conferisci_incarico(
                    p.cf.as_str(),
                    "REGIONE",
                    ruolo,
                    "",
                    Some(&p.email),
                    SISTEMA,
                    inizio,
                )
                .await?;
            voce(
                &mut tx,
                Some("REGIONE"),
                "incarico.conferito",
                format!("incarico:{id}"),
                inizio,
                SISTEMA,
            )
            .await?;
        }
        r.amministratore = Some(admin.clone());
        r.istruttore = Some(istr);

        // Pilots.
        let mut pilota: Vec<String> = arca.iter().map(|a| a.codice.clone()).collect();
        for n in COMUNI_PILOTA {
            pilota.push(codice_di(n)?.0);
        }
        for (k, c) in pilota.iter().enumerate() {
            tx.imposta_pilota(c, true).await?;
            voce(
                &mut tx,
                Some(c),
                "ente.pilota",
                format!("ente:{c}"),
                inizio + Duration::minutes(k as i64),
                admin.cf.as_str(),
            )
            .await?;
        }

        // Registered entities, with their legal representative and two referents.
        let mut registrati: Vec<(String, String, String)> = arca
            .iter()
            .map(|a| {
                let belfiore = comuni
                    .iter()
                    .find(|c| c.istat == a.comune_sede)
                    .map(|c| c.codice_catastale.clone())
                    .unwrap_or_else(|| bari_belfiore.clone());
                (a.codice.clone(), belfiore, a.codice.to_lowercase())
            })
            .collect();
        for n in COMUNI_PILOTA_REGISTRATI
            .iter()
            .chain(COMUNI_NON_PILOTA_REGISTRATI.iter())
        {
            let (istat, belfiore) = codice_di(n)?;
            let slug = n.to_lowercase().replace(' ', "-");
            registrati.push((istat, belfiore, slug));
        }
        for (k, (codice, belfiore, slug)) in registrati.iter().enumerate() {
            let posta = format!("{slug}.push-demo.invalid");
            let lr = persona_demo(i, belfiore, &posta)?;
            let rp = persona_demo(i + 1, belfiore, &posta)?;
            let rg = persona_demo(i + 2, belfiore, &posta)?;
            i += 3;
            let richiesta = data(2017, 12, 1, 10) + Duration::days(3 * k as i64);
            let decisa = richiesta + Duration::days(5);
            tx.salva_persona(lr.cf.as_str(), &lr.nome, Some(&lr.email), richiesta)
                .await?;
            let pec = format!("protocollo@pec.{posta}");
            let id = tx
                .crea_registrazione(
                    codice,
                    lr.cf.as_str(),
                    &lr.nome,
                    &pec,
                    "+39 080 0000000",
                    &lr.email,
                    richiesta,
                )
                .await?;
            voce(
                &mut tx,
                Some(codice),
                "registrazione.richiesta",
                format!("registrazione:{id}"),
                richiesta,
                lr.cf.as_str(),
            )
            .await?;
            tx.decidi_registrazione(id, true, None, admin.cf.as_str(), decisa)
                .await?;
            tx.segna_registrato(codice, decisa).await?;
            tx.conferisci_incarico(
                lr.cf.as_str(),
                codice,
                "LEGALE_RAPPRESENTANTE",
                "",
                Some(&lr.email),
                admin.cf.as_str(),
                decisa,
            )
            .await?;
            voce(
                &mut tx,
                Some(codice),
                "registrazione.approvata",
                format!("registrazione:{id}"),
                decisa,
                admin.cf.as_str(),
            )
            .await?;
            for (p, area) in [(&rp, "PATRIMONIO"), (&rg, "PROGRAMMI")] {
                let quando = decisa + Duration::days(2);
                tx.salva_persona(p.cf.as_str(), &p.nome, Some(&p.email), quando)
                    .await?;
                let id = tx
                    .conferisci_incarico(
                        p.cf.as_str(),
                        codice,
                        "REFERENTE",
                        area,
                        Some(&p.email),
                        lr.cf.as_str(),
                        quando,
                    )
                    .await?;
                voce(
                    &mut tx,
                    Some(codice),
                    "referente.accreditato",
                    format!("incarico:{id}"),
                    quando,
                    lr.cf.as_str(),
                )
                .await?;
            }
            r.enti.push((codice.clone(), lr, rp, rg));
        }

        // People without a role: they can try the registration of an unregistered entity.
        let (lecce, lecce_belfiore) = codice_di("Lecce")?;
        let nuovo = persona_demo(i, &lecce_belfiore, "lecce.push-demo.invalid")?;
        i += 1;
        tx.salva_persona(
            nuovo.cf.as_str(),
            &nuovo.nome,
            Some(&nuovo.email),
            data(2018, 3, 1, 9),
        )
        .await?;
        r.senza_ruolo.push(nuovo.clone());

        if scenario == Scenario::Completo {
            // Later activity: Lecce's request waits for the Region's decision.
            let quando = ora();
            let id = tx
                .crea_registrazione(
                    &lecce,
                    nuovo.cf.as_str(),
                    &nuovo.nome,
                    "protocollo@pec.lecce.push-demo.invalid",
                    "+39 0832 000000",
                    &nuovo.email,
                    quando,
                )
                .await?;
            voce(
                &mut tx,
                Some(&lecce),
                "registrazione.richiesta",
                format!("registrazione:{id}"),
                quando,
                nuovo.cf.as_str(),
            )
            .await?;
            let (_, foggia_belfiore) = codice_di("Foggia")?;
            let altro = persona_demo(i, &foggia_belfiore, "foggia.push-demo.invalid")?;
            tx.salva_persona(altro.cf.as_str(), &altro.nome, Some(&altro.email), quando)
                .await?;
            r.senza_ruolo.push(altro);
        }
        voce(
            &mut tx,
            None,
            "demo.caricata",
            match scenario {
                Scenario::Marzo2018 => "scenario:marzo-2018".into(),
                Scenario::Completo => "scenario:completo".into(),
            },
            ora(),
            SISTEMA,
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }
}

#[cfg(test)]
mod test {
    #[test]
    fn persone_demo_valide_e_distinte() {
        let mut visti = std::collections::HashSet::new();
        for i in 0..200 {
            let p = super::persona_demo(i, "A662", "x.push-demo.invalid").unwrap();
            assert!(p.cf.as_str().starts_with("DMO"));
            assert!(dominio::Email::parse(&p.email).is_ok(), "{}", p.email);
            assert!(visti.insert(p.cf.clone()), "duplicato {}", p.cf);
        }
    }
}
