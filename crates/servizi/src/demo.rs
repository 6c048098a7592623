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
    /// Loads a demo, with the scenario's `patrimonio` flows. Refuses a database holding data
    /// unless `sostituisci`.
    pub async fn carica_demo(&self, scenario: Scenario, sostituisci: bool) -> Esito<RiepilogoDemo> {
        let r = self.carica_demo_senza_flussi(scenario, sostituisci).await?;
        self.carica_patrimonio_demo(&r).await?;
        self.carica_monitoraggio_demo(&r, scenario).await?;
        // March 2018 stays exactly as announced: the accounting came later.
        if scenario == Scenario::Completo {
            self.carica_contabilita_demo(&r).await?;
        }
        Ok(r)
    }

    /// The demo's people, entities and registrations only (tests that do not need the flows
    /// start from this, which is much faster).
    pub async fn carica_demo_senza_flussi(
        &self,
        scenario: Scenario,
        sostituisci: bool,
    ) -> Esito<RiepilogoDemo> {
        // Wiping is never possible on a production database, whoever asks.
        if sostituisci {
            self.config
                .solo_sviluppo("push demo --sostituisci")
                .map_err(|e| ErroreServizio::Conflitto(e.to_string()))?;
        }
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
            let tavole: Vec<archivio::Tavola> = crate::registro::tavole_registro()
                .iter()
                .map(|t| t.tavola.clone())
                .collect();
            tx.svuota_dati(&tavole).await?;
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

/// The entities of the March 2018 scenario that had started sending `patrimonio` flows, with
/// the size of their demo register (units) and the date of their first accepted flow.
pub const ENTI_PATRIMONIO: [(&str, u64, (i32, u32, u32)); 4] = [
    ("110001", 600, (2018, 2, 12)),
    ("ARCA-PC", 4000, (2018, 2, 19)),
    ("ARCA-JON", 3000, (2018, 2, 26)),
    ("ARCA-NS", 2500, (2018, 3, 5)),
];

/// The seed of an entity's demo register (same entity, same data).
fn seme(ente: &str) -> u64 {
    ente.bytes().fold(2018u64, |a, b| {
        a.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

/// Writes the demo `patrimonio` flow of an entity: its generated register, or (`versione` > 0)
/// a later one where some units changed state and rent, some were sold (removed) and a few new
/// ones appeared, so that the history has something to show.
pub fn flusso_demo(
    ente: &str,
    unita: u64,
    versione: u32,
    output: &std::path::Path,
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let base = output.with_extension("base.zip");
    flussi::genera::genera_patrimonio(
        &flussi::genera::OpzioniGenera {
            unita: unita + 20,
            seme: seme(ente),
            ente: ente.to_string(),
        },
        flussi::genera::FormatoGenerato::ZipCsv,
        &base,
    )?;
    let mut z = zip::ZipArchive::new(std::fs::File::open(&base)?)?;
    let mut out = zip::ZipWriter::new(std::fs::File::create(output)?);
    let opzioni = zip::write::SimpleFileOptions::default();
    for i in 0..z.len() {
        let mut e = z.by_index(i)?;
        let nome = e.name().map_err(std::io::Error::other)?.to_string();
        let mut testo = String::new();
        e.read_to_string(&mut testo)?;
        if nome == "unita.csv" {
            testo = varia_unita(&testo, unita, versione)?;
        }
        out.start_file(nome, opzioni)?;
        out.write_all(testo.as_bytes())?;
    }
    out.finish()?;
    std::fs::remove_file(&base)?;
    Ok(())
}

/// The units of version `versione` of a demo register (see [`flusso_demo`]).
fn varia_unita(csv_testo: &str, unita: u64, versione: u32) -> std::io::Result<String> {
    let sep = if csv_testo.lines().next().is_some_and(|l| l.contains(';')) {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(sep)
        .from_reader(csv_testo.as_bytes());
    let intestazione = r.headers().map_err(std::io::Error::other)?.clone();
    let col = |n: &str| {
        intestazione
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == n)
    };
    let (stato, data, canone, occupanti) = (
        col("stato_occupazione"),
        col("data_assegnazione"),
        col("canone_mensile"),
        col("numero_occupanti"),
    );
    let mut w = csv::WriterBuilder::new()
        .delimiter(sep)
        .from_writer(Vec::new());
    w.write_record(&intestazione)
        .map_err(std::io::Error::other)?;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(std::io::Error::other)?;
        let i = i as u64;
        // The first version has `unita` units; each later one drops every 40th (a different
        // one per version), changes every 15th and adds the 20 spare ones at the end.
        if versione == 0 && i >= unita {
            break;
        }
        if versione > 0 && i % 40 == u64::from(7 * versione) % 40 {
            continue;
        }
        let mut v: Vec<String> = rec.iter().map(str::to_string).collect();
        if versione > 0 && i % 15 == u64::from(3 * versione) % 15 {
            if let (Some(s), Some(d), Some(c), Some(o)) = (stato, data, canone, occupanti)
                && v[s] == "ASSEGNATO"
            {
                v[s] = "SFITTO_ASSEGNABILE".into();
                v[d].clear();
                v[c].clear();
                v[o] = "0".into();
            } else if let Some(c) = canone
                && !v[c].is_empty()
            {
                v[c] = format!(
                    "{}.00",
                    v[c].split('.')
                        .next()
                        .unwrap_or("0")
                        .parse::<u64>()
                        .unwrap_or(0)
                        + 12
                );
            }
        }
        w.write_record(&v).map_err(std::io::Error::other)?;
    }
    String::from_utf8(
        w.into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?,
    )
    .map_err(std::io::Error::other)
}

impl Piattaforma {
    /// A sample `patrimonio` file for an entity, for trying the platform: the next version of
    /// its demo register (some units changed, some removed, a few added against the current
    /// one). Only where the development login is on, and for who may upload for the entity.
    pub async fn esempio_patrimonio(
        &self,
        s: &dominio::Soggetto,
        ente: &dominio::CodiceEnte,
    ) -> Esito<Vec<u8>> {
        dominio::politica::autorizza(
            s,
            &dominio::Azione::OperareArea(ente, dominio::Area::Patrimonio),
        )?;
        if !self.accesso_sviluppo_attivo() {
            return Err(ErroreServizio::NonTrovato);
        }
        let inviati = self
            .db
            .elenco_flussi(&archivio::FiltroFlussi {
                ente: Some(ente.clone()),
                dominio: Some(dominio::DominioFlusso::Patrimonio),
                limite: 1000,
                ..Default::default()
            })
            .await?
            .iter()
            .filter(|f| matches!(f.stato.as_str(), "accettato" | "superato"))
            .count() as u32;
        let unita = ENTI_PATRIMONIO
            .iter()
            .find(|(e, ..)| *e == ente.as_str())
            .map(|(_, u, _)| *u)
            .unwrap_or(300);
        let lavoro = self
            .deposito
            .lavoro()
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        let e = ente.as_str().to_string();
        tokio::task::spawn_blocking(move || {
            let f = lavoro.path().join("esempio.zip");
            flusso_demo(&e, unita, inviati, &f)?;
            std::fs::read(&f)
        })
        .await
        .map_err(|e| ErroreServizio::Interno(e.to_string()))?
        .map_err(|e| ErroreServizio::Interno(format!("file di esempio: {e}")))
    }

    /// Runs the queued jobs now, on this task, until the queue is empty (the demo loader and
    /// the tests use it; servers have their worker).
    pub async fn esegui_coda(&self) -> Esito<usize> {
        let mut n = 0;
        let esecutore = format!("immediato-{}", crate::casuale::token_url(6));
        loop {
            let adesso = ora();
            let lease = Duration::seconds(self.config.lease_lavori_s as i64);
            match self
                .db
                .prendi_lavoro(&esecutore, adesso, adesso + lease)
                .await?
            {
                Some(l) => {
                    self.esegui_lavoro(&esecutore, l).await;
                    n += 1;
                }
                None => return Ok(n),
            }
        }
    }

    /// Runs the queue and waits until flow `id` is validated, whoever takes its job: a server
    /// running on the same database may have taken it first (its worker then validates it),
    /// so an empty queue does not mean the validation is done. Bounded by twice the job lease.
    pub async fn valida_e_attendi(&self, id: i64) -> Esito<archivio::Flusso> {
        use dominio::StatoFlusso;
        let limite = std::time::Instant::now()
            + std::time::Duration::from_secs(2 * self.config.lease_lavori_s.max(30));
        loop {
            self.esegui_coda().await?;
            let f = self
                .db
                .flusso(id)
                .await?
                .ok_or(ErroreServizio::NonTrovato)?;
            if !matches!(f.stato, StatoFlusso::Caricato | StatoFlusso::InValidazione) {
                return Ok(f);
            }
            if std::time::Instant::now() > limite {
                return Err(ErroreServizio::Interno(format!(
                    "la validazione del flusso {id} non è terminata in tempo"
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Loads the demo `patrimonio` flows through the same path as a referent and an officer:
    /// upload, validation, submission, acceptance on the scenario's dates; then Andria's later
    /// flow that changes and removes units.
    pub async fn carica_patrimonio_demo(&self, r: &RiepilogoDemo) -> Esito<()> {
        use dominio::{Area, CodiceEnte, DominioFlusso, Ruolo, Soggetto};
        let admin = r
            .amministratore
            .as_ref()
            .ok_or_else(|| ErroreServizio::Interno("demo senza amministratore".into()))?;
        let lavoro = self
            .deposito
            .lavoro()
            .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        for (k, (ente, unita, (a, m, g))) in ENTI_PATRIMONIO.iter().enumerate() {
            let Some((_, _, referente, _)) = r.enti.iter().find(|(c, ..)| c == ente) else {
                continue;
            };
            let codice = CodiceEnte::parse(ente)?;
            let s = Soggetto::Persona {
                cf: referente.cf.clone(),
                ruoli: vec![Ruolo::Referente {
                    ente: codice.clone(),
                    aree: vec![Area::Patrimonio],
                }],
            };
            let versioni: &[(u32, (i32, u32, u32))] = if k == 0 {
                &[(0, (0, 0, 0)), (1, (2018, 3, 9))]
            } else {
                &[(0, (0, 0, 0))]
            };
            for (versione, data_dopo) in versioni {
                let file = lavoro.path().join(format!("demo-{ente}-{versione}.zip"));
                let (e2, u2, v2, f2) = (ente.to_string(), *unita, *versione, file.clone());
                tokio::task::spawn_blocking(move || flusso_demo(&e2, u2, v2, &f2))
                    .await
                    .map_err(|e| ErroreServizio::Interno(e.to_string()))?
                    .map_err(|e| ErroreServizio::Interno(format!("flusso dimostrativo: {e}")))?;
                let mut ric = self
                    .deposito
                    .ricevi(u64::MAX)
                    .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
                let byte =
                    std::fs::read(&file).map_err(|e| ErroreServizio::Interno(e.to_string()))?;
                let _ = std::fs::remove_file(&file);
                ric.scrivi(&byte)
                    .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
                let ric = ric
                    .chiudi()
                    .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
                let nome = format!(
                    "patrimonio-{}-{}.zip",
                    ente.to_lowercase(),
                    if *versione == 0 { "2018-02" } else { "2018-03" }
                );
                let c = self
                    .carica_flusso(&s, &codice, DominioFlusso::Patrimonio, &nome, ric)
                    .await?;
                let f = self.valida_e_attendi(c.flusso.id).await?;
                if f.valido != Some(true) {
                    return Err(ErroreServizio::Interno(format!(
                        "il flusso dimostrativo di {ente} non è valido"
                    )));
                }
                // A later register that removes many units says why, as a referent must.
                let motivo = (!self.rimozioni_da_motivare(f.id).await?.is_empty())
                    .then_some("Alloggi alienati o dismessi nel periodo (dati dimostrativi).");
                self.invia_flusso(&s, f.id, true, motivo).await?;
                let (a, m, g) = if *versione == 0 {
                    (*a, *m, *g)
                } else {
                    *data_dopo
                };
                let data = chrono::NaiveDate::from_ymd_opt(a, m, g)
                    .ok_or_else(|| ErroreServizio::Interno("data".into()))?;
                self.applica_flusso(f.id, admin.cf.as_str(), data).await?;
            }
        }
        Ok(())
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
pub mod contabilita;
