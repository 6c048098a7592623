//! Mail to a real SMTP server (aiosmtpd, see `smtp`), checked on arrival: every notification
//! over STARTTLS with authentication, PEC over implicit TLS, a retry after the server was down
//! and a restart in between, and two servers sending one outbox with each message once.
//! `#[ignore]` on plain `cargo test` (they need Python with aiosmtpd); `.ci/run` runs them.

use std::collections::HashSet;
use std::time::Duration;

use dominio::{Area, CodiceEnte, Ruolo, Soggetto};
use servizi::config::Strato;
use servizi::posta::{Busta, Canale, Destinatario};

use crate::aiuto::{Opzioni, TestApp};
use crate::flussi::{carica_e_accetta, flusso_demo, token};
use crate::posta::{amministratore, carica_e_invia_come, consegnati, referente};
use crate::processi::Server;
use crate::smtp::{Modo, ServerSmtp, porta_libera};

const ANDRIA: &str = "110001";

fn busta(i: usize, canale: Canale) -> Busta {
    Busta {
        tipo: "prova".into(),
        canale,
        destinatari: vec![Destinatario {
            indirizzo: format!("destinatario{i}@pec.andria.push-demo.invalid"),
            persona: None,
        }],
        ente: Some(ANDRIA.into()),
        flusso: None,
        sollecito: None,
        oggetto: format!("Messaggio di prova n. {i} – è arrivato"),
        testo: format!("Testo del messaggio n. {i}: città, perché, €."),
        html: None,
    }
}

async fn accoda(app: &TestApp, buste: &[Busta]) -> Vec<i64> {
    let mut tx = app.p.db().inizia().await.unwrap();
    let mut ids = Vec::new();
    for b in buste {
        ids.extend(
            servizi::posta::accoda(&mut tx, b, servizi::ora())
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    app.p.posta_accodata();
    ids
}

#[tokio::test]
#[ignore = "richiede Python con aiosmtpd (PUSH_TEST_PYTHON_SMTP): lo esegue .ci/run"]
async fn posta_smtp_ogni_notifica_arriva_su_starttls_con_autenticazione() {
    let smtp = ServerSmtp::avvia(
        porta_libera(),
        Modo::Starttls,
        Some(("push", "segreto-smtp")),
    );
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            smtp_host: Some("127.0.0.1".into()),
            smtp_port: Some(smtp.porta),
            smtp_tls: Some(servizi::TlsSmtp::Starttls),
            smtp_ca: Some(smtp.ca.clone()),
            smtp_utente: Some("push".into()),
            smtp_password: Some(servizi::Segreto::new("segreto-smtp")),
            smtp_mittente: Some("PUSH Regione Puglia <push@regione.push-demo.invalid>".into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let (lr, rp, _) = app.persone(ANDRIA);
    // A flow as a person: validated, submitted (receipt), rejected with the reason.
    let s = referente(&rp, ANDRIA, &[Area::Patrimonio]);
    let id = carica_e_invia_come(&app, &s, ANDRIA, 25).await;
    app.p
        .respingi_flusso(&amministratore(&app), id, "Manca il fabbricato F-12")
        .await
        .unwrap();
    // A flow through a token: the area's referents hear, and it is accepted.
    let t = token(&app, ANDRIA, &[Area::Patrimonio]).await;
    let id2 = carica_e_accetta(&app, &t, flusso_demo(ANDRIA, 20, 1), (2026, 2, 1)).await;
    // Accreditation of a referent by the legal representative.
    let lr_s = Soggetto::Persona {
        cf: dominio::CodiceFiscale::parse(&lr).unwrap(),
        ruoli: vec![Ruolo::LegaleRappresentante {
            ente: CodiceEnte::parse(ANDRIA).unwrap(),
        }],
    };
    let nuovo = dominio::CodiceFiscale::con_controllo("NVORFR80A01A662").unwrap();
    app.p
        .accredita_referente(
            &lr_s,
            &CodiceEnte::parse(ANDRIA).unwrap(),
            &servizi::enti::DomandaReferente {
                codice_fiscale: nuovo.to_string(),
                nome: "Nuovo Referente".into(),
                email: "nuovo.referente@andria.push-demo.invalid".into(),
                aree: vec!["PROGRAMMI".into()],
            },
        )
        .await
        .map_err(|_| "accreditamento")
        .unwrap();
    let attesi = consegnati(
        &app,
        archivio::FiltroMessaggi {
            ente: Some(ANDRIA.into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(attesi.len(), 7, "{attesi:#?}");
    assert!(
        attesi
            .iter()
            .all(|m| m.stato == "inviato" && m.trasporto.as_deref() == Some("smtp")),
        "{attesi:#?}"
    );
    let arrivati = smtp.attendi(7).await;
    for m in &attesi {
        let r = arrivati
            .iter()
            .find(|r| r.message_id == m.id_messaggio)
            .unwrap_or_else(|| panic!("messaggio {} non arrivato: {arrivati:#?}", m.id));
        assert_eq!(r.a, vec![m.destinatario.clone()]);
        assert_eq!(r.da, "push@regione.push-demo.invalid");
        assert_eq!(r.oggetto, m.oggetto);
        assert!(r.tls && r.autenticato, "STARTTLS e AUTH: {r:?}");
        assert_eq!(
            r.testo
                .as_deref()
                .map(|t| t.replace("\r\n", "\n").trim_end().to_string()),
            Some(m.testo.trim_end().to_string())
        );
        assert!(
            r.html.as_deref().is_some_and(|h| h.contains("lang=\"it\"")),
            "{r:?}"
        );
    }
    let per_tipo = |t: &str| attesi.iter().filter(|m| m.tipo == t).count();
    assert_eq!(
        [
            per_tipo("flusso.validato"),
            per_tipo("flusso.inviato"),
            per_tipo("flusso.respinto"),
            per_tipo("flusso.accettato"),
            per_tipo("referente.accreditato")
        ],
        [2, 2, 1, 1, 1]
    );
    let f = app.p.db().flusso(id).await.unwrap().unwrap();
    let ricevuta = arrivati
        .iter()
        .find(|r| r.oggetto.contains("ricevuta") && r.oggetto.contains(&format!("n. {id},")))
        .unwrap();
    assert!(
        ricevuta
            .testo
            .as_deref()
            .unwrap()
            .contains(&f.protocollo.unwrap())
    );
    let respinto = arrivati
        .iter()
        .find(|r| r.oggetto.contains("respinto"))
        .unwrap();
    assert!(
        respinto
            .testo
            .as_deref()
            .unwrap()
            .contains("Manca il fabbricato F-12")
    );
    let accettato = arrivati
        .iter()
        .find(|r| r.oggetto.contains("accettato"))
        .unwrap();
    assert!(
        accettato.oggetto.contains(&format!("n. {id2} ")),
        "{accettato:?}"
    );
    // No development mailbox with an SMTP server.
    let admin = app.come(&app.admin()).await;
    assert_eq!(admin.get("/sviluppo/posta").await.status(), 404);
}

#[tokio::test]
#[ignore = "richiede Python con aiosmtpd (PUSH_TEST_PYTHON_SMTP): lo esegue .ci/run"]
async fn posta_smtp_la_pec_viaggia_su_tls_implicito() {
    let pec = ServerSmtp::avvia(
        porta_libera(),
        Modo::Implicito,
        Some(("casella-pec", "segreto-pec")),
    );
    let smtp = ServerSmtp::avvia(porta_libera(), Modo::Nessuno, None);
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            smtp_host: Some("127.0.0.1".into()),
            smtp_port: Some(smtp.porta),
            smtp_tls: Some(servizi::TlsSmtp::Nessuno),
            smtp_ca: Some(pec.ca.clone()),
            pec_host: Some("127.0.0.1".into()),
            pec_port: Some(pec.porta),
            pec_utente: Some("casella-pec".into()),
            pec_password: Some(servizi::Segreto::new("segreto-pec")),
            pec_mittente: Some("push@pec.regione.push-demo.invalid".into()),
            ..Default::default()
        },
        demo: None,
        ..Default::default()
    })
    .await;
    accoda(&app, &[busta(1, Canale::Pec), busta(2, Canale::Email)]).await;
    let r = pec.attendi(1).await;
    assert_eq!(r.len(), 1);
    assert!(r[0].tls && r[0].autenticato, "{:?}", r[0]);
    assert_eq!(r[0].da, "push@pec.regione.push-demo.invalid");
    assert_eq!(r[0].oggetto, "Messaggio di prova n. 1 – è arrivato");
    assert!(r[0].testo.as_deref().unwrap().contains("città, perché, €"));
    let e = smtp.attendi(1).await;
    assert_eq!(e[0].oggetto, "Messaggio di prova n. 2 – è arrivato");
    assert!(!e[0].tls);
    let v = consegnati(
        &app,
        archivio::FiltroMessaggi {
            ente: Some(ANDRIA.into()),
            ..Default::default()
        },
    )
    .await;
    let trasporti: HashSet<_> = v
        .iter()
        .map(|m| (m.canale.clone(), m.trasporto.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        trasporti,
        HashSet::from([
            ("pec".into(), "pec".into()),
            ("email".into(), "smtp".into())
        ])
    );
}

fn ambiente_posta(porta: u16) -> Vec<(&'static str, String)> {
    vec![
        ("PUSH_SMTP_HOST", "127.0.0.1".into()),
        ("PUSH_SMTP_PORT", porta.to_string()),
        ("PUSH_SMTP_TLS", "nessuno".into()),
        ("PUSH_POSTA_RITARDO_S", "1".into()),
        ("PUSH_LAVORI_PARALLELI", "0".into()),
    ]
}

async fn server(app: &TestApp, porta: u16) -> Server {
    let env = ambiente_posta(porta);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::avvia(app, &env).await
}

/// An app that only holds the database: its own server sends no mail.
async fn app_senza_posta() -> TestApp {
    TestApp::con(Opzioni {
        impostazioni: Strato {
            posta_attiva: Some(false),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
}

#[tokio::test]
#[ignore = "richiede Python con aiosmtpd (PUSH_TEST_PYTHON_SMTP): lo esegue .ci/run"]
async fn posta_smtp_riprova_dopo_il_guasto_anche_dopo_un_riavvio() {
    let app = app_senza_posta().await;
    let porta = porta_libera();
    let ids = accoda(&app, &[busta(1, Canale::Email)]).await;
    // The SMTP server is down: the message stays queued, with the attempt and the error.
    let mut primo = server(&app, porta).await;
    let mut m = app.p.db().messaggio(ids[0]).await.unwrap().unwrap();
    for _ in 0..200 {
        if m.tentativi >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        m = app.p.db().messaggio(ids[0]).await.unwrap().unwrap();
    }
    assert!(m.tentativi >= 2, "{m:?}");
    assert!(matches!(m.stato.as_str(), "in_coda" | "in_invio"), "{m:?}");
    assert!(
        m.ultimo_errore
            .as_deref()
            .is_some_and(|e| e.contains("non raggiungibile")),
        "{m:?}"
    );
    // The Region sees it on the outbox page.
    let admin = app.come(&app.admin()).await;
    let pagina = admin
        .get("/area/posta?stato=in_coda")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        pagina.contains("Messaggio di prova n. 1") && pagina.contains("non raggiungibile"),
        "{pagina}"
    );
    // A restart (SIGKILL) with the server still down, then the SMTP server comes up.
    primo.uccidi();
    let smtp = ServerSmtp::avvia(porta, Modo::Nessuno, None);
    let _secondo = server(&app, porta).await;
    let r = smtp.attendi(1).await;
    assert_eq!(r[0].message_id, m.id_messaggio);
    let v = consegnati(
        &app,
        archivio::FiltroMessaggi {
            ente: Some(ANDRIA.into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].stato, "inviato");
    assert!(v[0].tentativi >= 3, "{:?}", v[0]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.ricevuti().len(), 1, "una sola consegna");
}

#[tokio::test]
#[ignore = "richiede Python con aiosmtpd (PUSH_TEST_PYTHON_SMTP): lo esegue .ci/run"]
async fn posta_smtp_due_server_consegnano_ogni_messaggio_una_volta() {
    let app = app_senza_posta().await;
    let smtp = ServerSmtp::avvia(porta_libera(), Modo::Nessuno, None);
    // Both servers are up before the messages arrive, so that they race for them.
    let _a = server(&app, smtp.porta).await;
    let _b = server(&app, smtp.porta).await;
    let buste: Vec<Busta> = (0..40).map(|i| busta(i, Canale::Email)).collect();
    let ids = accoda(&app, &buste).await;
    let v = consegnati(
        &app,
        archivio::FiltroMessaggi {
            ente: Some(ANDRIA.into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(v.len(), 40);
    assert!(
        v.iter().all(|m| m.stato == "inviato" && m.tentativi == 1),
        "{v:#?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = smtp.ricevuti();
    let distinti: HashSet<&str> = r.iter().map(|x| x.message_id.as_str()).collect();
    assert_eq!(
        (r.len(), distinti.len()),
        (40, 40),
        "ogni messaggio una volta"
    );
    let attesi: HashSet<String> = v.iter().map(|m| m.id_messaggio.clone()).collect();
    assert_eq!(distinti, attesi.iter().map(String::as_str).collect());
    assert_eq!(ids.len(), 40);
}
