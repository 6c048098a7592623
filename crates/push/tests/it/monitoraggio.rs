//! Monitoring (spec README §6): the March 2018 figures and status paragraph on the demo
//! scenario, collection campaigns (late entity, "nothing to report", reporting rate, exports),
//! reminder templates, the selection of only the entities that still owe, and escalation.

use chrono::{Duration, TimeZone, Utc};
use servizi::demo::Scenario;
use servizi::solleciti::Motivo;

use crate::aiuto::{Opzioni, TestApp, api};
use crate::flussi::{carica_e_accetta, flusso_demo, json, token};

const ANDRIA: &str = "110001";
const BARI: &str = "072006";
const BRINDISI: &str = "074001";

fn admin_soggetto(app: &TestApp) -> dominio::Soggetto {
    dominio::Soggetto::Persona {
        cf: app.demo.amministratore.as_ref().unwrap().cf.clone(),
        ruoli: vec![dominio::Ruolo::AmministratoreRegione],
    }
}

#[tokio::test]
async fn marzo_2018_cifre_e_comunicato_esatti() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        ..Default::default()
    })
    .await;
    let regione = token(&app, "REGIONE", &[]).await;
    let r = api(&app, "/api/v1/monitoraggio/adesione", Some(&regione)).await;
    assert_eq!(r.status(), 200);
    let a = json(r).await;
    // The keys and figures of api.md, exactly.
    for (k, v) in [
        ("enti_registrati", serde_json::json!(13)),
        ("pilota_totali", serde_json::json!(14)),
        ("pilota_registrati", serde_json::json!(11)),
        ("non_pilota_registrati", serde_json::json!(2)),
        (
            "pilota_non_registrati",
            serde_json::json!(["071024", "073027", "075035"]),
        ),
        (
            "con_flussi",
            serde_json::json!({"patrimonio": ["110001", "ARCA-JON", "ARCA-NS", "ARCA-PC"], "contabilita": []}),
        ),
    ] {
        assert_eq!(a[k], v, "{k}: {a}");
    }

    let r = api(&app, "/api/v1/monitoraggio/comunicato", Some(&regione)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let testo = r.text().await.unwrap();
    let oggi = app.p.orologio.oggi().format("%d/%m/%Y");
    let atteso = format!(
        "Alla data del {oggi} risultano registrati sulla piattaforma PUSH 13 enti: 11 dei 14 enti pilota \
         (ARCA Capitanata, ARCA Jonica, ARCA Nord Salento, ARCA Puglia Centrale, ARCA Sud Salento e i Comuni di \
         Alliste, Andria, Bari, Brindisi, Carovigno e Sannicandro di Bari) e 2 enti non pilota (i Comuni di \
         Canosa di Puglia e Gravina in Puglia). Non risultano ancora registrati, tra gli enti pilota, i Comuni di \
         Foggia, Lecce e Taranto. Hanno avviato l'invio dei flussi del patrimonio 4 enti: ARCA Jonica, ARCA Nord \
         Salento, ARCA Puglia Centrale e il Comune di Andria. Nessun ente ha ancora inviato flussi della \
         contabilità storica dei cantieri finanziati. Si sollecitano gli enti pilota non ancora registrati a \
         completare la registrazione e tutti gli enti registrati a inviare i propri flussi."
    );
    assert_eq!(testo, atteso);

    // An entity's token may not read either.
    let andria = token(&app, ANDRIA, &[dominio::Area::Patrimonio]).await;
    for p in [
        "/api/v1/monitoraggio/adesione",
        "/api/v1/monitoraggio/comunicato",
    ] {
        assert_eq!(api(&app, p, Some(&andria)).await.status(), 403, "{p}");
        assert_eq!(api(&app, p, None).await.status(), 401, "{p}");
    }

    // The dashboard shows the same figures, and the paragraph is one click away.
    let b = app.come(&app.admin()).await;
    let (s, html) = b.testo("/area/monitoraggio").await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"id="cifra-registrati">13<"#), "{html}");
    assert!(html.contains(r#"id="cifra-pilota">11 su 14<"#));
    assert!(html.contains(r#"id="cifra-non-pilota">2<"#));
    assert!(html.contains(r#"id="cifra-flussi">4<"#));
    assert!(html.contains(r#"href="/area/monitoraggio/comunicato""#));
    let i = html.find(r#"id="pilota-non-registrati""#).unwrap();
    let riga = &html[i..i + html[i..].find("</dd>").unwrap()];
    for n in ["Foggia", "Lecce", "Taranto"] {
        assert!(riga.contains(n), "{riga}");
    }
    // Filters: the pilots not registered.
    let (_, html) = b.testo("/area/monitoraggio?pilota=si&registrato=no").await;
    assert!(html.contains("3 enti su 262"), "{html}");
    let (s, html) = b.testo("/area/monitoraggio/comunicato").await;
    assert_eq!(s, 200);
    assert!(
        crate::aiuto::senza_escape(&html).contains(&atteso),
        "{html}"
    );
}

#[tokio::test]
async fn raccolta_con_un_ente_in_ritardo_e_uno_senza_nulla_da_dichiarare() {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let app = TestApp::con(Opzioni {
        orologio: Some(t0),
        ..Default::default()
    })
    .await;
    let admin = app.come(&app.admin()).await;
    // Opened on 02/03 for three entities, deadline 16/03, closing 31/03.
    let r = admin
        .post_form(
            "/area/raccolte/nuova",
            "/area/raccolte",
            &[
                ("titolo", "Patrimonio 2026"),
                ("dominio", "patrimonio"),
                ("scadenza", "2026-03-16"),
                ("chiusura", "2026-03-31"),
                ("selezione", "elenco"),
                ("elenco", "110001, 072006\n074001"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let dove = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = dove
        .trim_start_matches("/area/raccolte/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // Andria sends its register, accepted on 10/03.
    app.p.orologio.imposta(t0 + Duration::days(8));
    let andria = token(&app, ANDRIA, &[dominio::Area::Patrimonio]).await;
    carica_e_accetta(&app, &andria, flusso_demo(ANDRIA, 30, 0), (2026, 3, 10)).await;

    // Bari has nothing to report: its PROGRAMMI referent may not say so for an asset
    // campaign, its legal representative may (with a reason).
    let (lr, _, rg) = app.persone(BARI);
    let ref_programmi = app.come(&rg).await;
    let azione = format!("/area/raccolte/{id}/enti/{BARI}/nulla");
    let r = ref_programmi
        .post_form("/area", &azione, &[("motivo", "Nessun alloggio.")])
        .await;
    assert_eq!(r.status(), 403);
    let lr = app.come(&lr).await;
    let r = lr.post_form("/area", &azione, &[("motivo", "")]).await;
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("nulla_motivo")
    );
    let r = lr
        .post_form(
            "/area",
            &azione,
            &[("motivo", "Il Comune non ha alloggi ERP di proprietà.")],
        )
        .await;
    assert_eq!(r.status(), 303);
    // Not twice.
    let r = lr
        .post_form("/area", &azione, &[("motivo", "Di nuovo.")])
        .await;
    assert_eq!(r.status(), 409);

    // Past the deadline: Brindisi, silent, is late; the other two are compliant.
    app.p.orologio.imposta(t0 + Duration::days(20));
    let s = admin_soggetto(&app);
    let q = app.p.raccolta(&s, id).await.unwrap();
    let riga = |e: &str| q.righe.iter().find(|r| r.ente == e).unwrap().clone();
    assert_eq!(q.obiettivi, 3);
    assert_eq!(q.conformi, 2);
    assert_eq!(q.in_ritardo, 1);
    assert_eq!(q.tasso, 66.7);
    assert_eq!(
        riga(ANDRIA).stato,
        servizi::raccolte::StatoObiettivo::Accettato
    );
    assert!(!riga(ANDRIA).in_ritardo);
    assert_eq!(
        riga(BARI).stato,
        servizi::raccolte::StatoObiettivo::NullaDaDichiarare
    );
    assert!(!riga(BARI).in_ritardo && riga(BARI).conforme);
    assert_eq!(
        riga(BRINDISI).stato,
        servizi::raccolte::StatoObiettivo::NonAvviato
    );
    assert!(riga(BRINDISI).in_ritardo && !riga(BRINDISI).conforme);
    // Over time: 0 until 09/03, 1 from Andria's acceptance (10/03), 2 from Bari's declaration.
    assert_eq!(q.serie.first().unwrap().1, 0);
    assert_eq!(q.serie.last().unwrap().1, 2);
    assert_eq!(
        q.serie.last().unwrap().0,
        chrono::NaiveDate::from_ymd_opt(2026, 3, 22).unwrap()
    );

    // The page: rate, chart with title, data table; the exports.
    let (stato, html) = admin.testo(&format!("/area/raccolte/{id}")).await;
    assert_eq!(stato, 200);
    assert!(html.contains(r#"id="tasso">66,7 %<"#), "{html}");
    assert!(html.contains(r#"id="in-ritardo">1<"#));
    assert!(html.contains("<svg") && html.contains("<title id=\"grafico-tasso-t\">"));
    assert!(html.contains("Dati del grafico"));
    let r = admin.get(&format!("/area/raccolte/{id}/esporta.csv")).await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    let righe: Vec<&str> = csv.lines().collect();
    assert_eq!(righe.len(), 4, "{csv}");
    assert!(
        righe[0].starts_with("ente;denominazione;") || righe[0].starts_with("ente,denominazione,"),
        "{csv}"
    );
    assert!(csv.contains("074001") && csv.contains("Non avviato"));
    let r = admin
        .get(&format!("/area/raccolte/{id}/esporta.xlsx"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    // The list shows the rate per campaign and per entity.
    let (_, html) = admin.testo("/area/raccolte").await;
    assert!(html.contains("66,7 %"), "{html}");

    // Reminders to the late: only Brindisi still owes.
    let c = app
        .p
        .candidati_sollecito(&s, Motivo::InRitardo, Some(id))
        .await
        .unwrap();
    assert_eq!(
        c.iter().map(|c| c.ente.as_str()).collect::<Vec<_>>(),
        [BRINDISI]
    );
    assert_eq!(c[0].canale, "email");
    // The entity's page shows its campaigns to its people.
    let (_, html) = lr.testo(&format!("/enti/{BARI}")).await;
    assert!(html.contains("Nulla da dichiarare"), "{html}");
}

#[tokio::test]
async fn un_modello_con_un_segnaposto_ignoto_e_rifiutato() {
    let app = TestApp::nuova().await;
    let admin = app.come(&app.admin()).await;
    let pagina = "/area/solleciti/modelli/pilota_non_registrato";
    let (s, _) = admin.testo(pagina).await;
    assert_eq!(s, 200);
    let r = admin
        .post_form(
            pagina,
            pagina,
            &[
                ("oggetto", "Registrazione di {ente}"),
                ("corpo", "Gentile {nome_sindaco}, manca {mancante}."),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("nome_sindaco"), "{html}");
    // Nothing was saved: the preview still uses the built-in text.
    let s = admin_soggetto(&app);
    let m = app.p.modelli_sollecito(&s).await.unwrap();
    assert!(!m[0].corpo.contains("nome_sindaco"));
    // A valid template is saved and used by the preview.
    let r = admin
        .post_form(
            pagina,
            pagina,
            &[
                ("oggetto", "Registrazione di {ente}"),
                (
                    "corpo",
                    "Gentile {ente}, manca {mancante} entro {scadenza}: {link}",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, html) = admin
        .testo("/area/solleciti/anteprima?motivo=pilota_non_registrato")
        .await;
    assert!(
        html.contains("Gentile Comune di Foggia, manca la registrazione"),
        "{html}"
    );
    // An officer reads templates but cannot save them.
    let istr = app.come(&app.istruttore()).await;
    let r = istr
        .post_form(
            pagina,
            pagina,
            &[
                ("oggetto", "x {ente}"),
                ("corpo", "abbastanza lungo {ente}"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn i_solleciti_vanno_solo_a_chi_deve_ancora_e_poi_alla_pec() {
    let t0 = Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
    let app = TestApp::con(Opzioni {
        orologio: Some(t0),
        ..Default::default()
    })
    .await;
    // The registry's PEC addresses of the demo.
    app.p
        .carica_monitoraggio_demo(&app.demo, Scenario::Marzo2018)
        .await
        .unwrap();
    let s = admin_soggetto(&app);
    let c = app
        .p
        .candidati_sollecito(&s, Motivo::PilotaNonRegistrato, None)
        .await
        .unwrap();
    let mut codici: Vec<&str> = c.iter().map(|c| c.ente.as_str()).collect();
    codici.sort();
    assert_eq!(codici, ["071024", "073027", "075035"]);
    assert!(
        c.iter()
            .all(|c| c.canale == "pec" && c.indirizzi.len() == 1)
    );

    // Registered without an accepted asset flow: 13, then 12 once Andria's is accepted.
    let n = |v: Vec<servizi::solleciti::Candidato>| v.len();
    assert_eq!(
        n(app
            .p
            .candidati_sollecito(&s, Motivo::SenzaFlussoAccettato, None)
            .await
            .unwrap()),
        13
    );
    let andria = token(&app, ANDRIA, &[dominio::Area::Patrimonio]).await;
    carica_e_accetta(&app, &andria, flusso_demo(ANDRIA, 30, 0), (2026, 5, 4)).await;
    let c = app
        .p
        .candidati_sollecito(&s, Motivo::SenzaFlussoAccettato, None)
        .await
        .unwrap();
    assert_eq!(c.len(), 12);
    assert!(!c.iter().any(|c| c.ente == ANDRIA));
    // E-mail to the legal representative and the asset referent.
    let brindisi = c.iter().find(|c| c.ente == BRINDISI).unwrap();
    assert_eq!(brindisi.canale, "email");
    assert_eq!(brindisi.indirizzi.len(), 2);

    // Sending to a list that includes one that does not owe: only those that owe get one.
    let admin = app.come(&app.admin()).await;
    let r = admin
        .post_form(
            "/area/solleciti?motivo=senza_flusso_accettato",
            "/area/solleciti",
            &[
                ("motivo", "senza_flusso_accettato"),
                ("enti", BRINDISI),
                ("enti", ANDRIA),
                ("enti", BARI),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("solleciti_inviati_2")
    );
    let registro = app.p.solleciti(&s, None).await.unwrap();
    let mut enti: Vec<&str> = registro.iter().map(|v| v.sollecito.ente.as_str()).collect();
    enti.sort();
    assert_eq!(enti, [BARI, BRINDISI]);
    // The entity's page shows the reminder to its people.
    let (lr, _, _) = app.persone(BRINDISI);
    let (_, html) = app
        .come(&lr)
        .await
        .testo(&format!("/enti/{BRINDISI}"))
        .await;
    assert!(html.contains("Solleciti ricevuti"), "{html}");
    assert!(html.contains("PUSH – invio dei flussi del patrimonio: Comune di Brindisi"));

    // Bari's flow is then accepted; Brindisi stays silent.
    let bari = token(&app, BARI, &[dominio::Area::Patrimonio]).await;
    carica_e_accetta(&app, &bari, flusso_demo(BARI, 30, 0), (2026, 5, 6)).await;
    // Before the days pass nothing is escalated; after, only Brindisi's goes to its PEC, once.
    assert_eq!(app.p.escala_solleciti().await.unwrap(), 0);
    app.p.orologio.imposta(t0 + Duration::days(15));
    assert_eq!(app.p.escala_solleciti().await.unwrap(), 1);
    assert_eq!(app.p.escala_solleciti().await.unwrap(), 0);
    let registro = app.p.solleciti(&s, None).await.unwrap();
    let pec: Vec<_> = registro
        .iter()
        .filter(|v| v.sollecito.escalation_di.is_some())
        .collect();
    assert_eq!(pec.len(), 1);
    assert_eq!(pec[0].sollecito.ente, BRINDISI);
    assert_eq!(pec[0].sollecito.canale, "pec");
    assert!(pec[0].sollecito.destinatari.starts_with("protocollo@pec."));
    let m = consegnati(&app, pec[0].sollecito.id).await;
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].canale.as_str(), m[0].tipo.as_str()),
        ("pec", "sollecito.escalation")
    );
    assert!(m[0].oggetto.contains("secondo sollecito"));
    // The first reminder went by e-mail to Brindisi's two people.
    let primo = registro
        .iter()
        .find(|v| v.sollecito.ente == BRINDISI && v.sollecito.escalation_di.is_none())
        .unwrap();
    let m = consegnati(&app, primo.sollecito.id).await;
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|m| m.canale == "email" && m.persona.is_some()));
    let bari_s = registro.iter().find(|v| v.sollecito.ente == BARI).unwrap();
    assert_eq!(
        bari_s.sollecito.esito_escalation.as_deref(),
        Some("non_necessaria")
    );
}

#[tokio::test]
async fn la_dimostrazione_completa_ha_raccolte_e_solleciti_ai_tre_pilota() {
    // No worker in the server: the demo loader runs the validations itself.
    let app = TestApp::con(Opzioni {
        demo: None,
        lavori_paralleli: Some(0),
        ..Default::default()
    })
    .await;
    let demo = app.p.carica_demo(Scenario::Completo, false).await.unwrap();
    let s = dominio::Soggetto::Persona {
        cf: demo.amministratore.as_ref().unwrap().cf.clone(),
        ruoli: vec![dominio::Ruolo::AmministratoreRegione],
    };
    let mut raccolte = app.p.raccolte(&s).await.unwrap();
    raccolte.sort_by_key(|q| q.raccolta.id);
    assert_eq!(raccolte.len(), 2);
    // Assets from the 14 pilots: four accepted registers and Alliste's declaration.
    assert_eq!((raccolte[0].conformi, raccolte[0].obiettivi), (5, 14));
    assert_eq!(raccolte[0].tasso, 35.7);
    assert_eq!(raccolte[0].in_ritardo, 0);
    // Historical accounting from the 11 registered pilots, past its deadline: Carovigno has
    // nothing to report, the four entities of the demo's accounting (issue 9) sent theirs
    // after the deadline, the other six have sent nothing: ten late.
    assert_eq!((raccolte[1].conformi, raccolte[1].obiettivi), (5, 11));
    assert_eq!(raccolte[1].in_ritardo, 10);
    assert_eq!(raccolte[1].tasso, 45.5);
    // The three pilots that had not registered were reminded at their PEC address.
    let registro = app.p.solleciti(&s, None).await.unwrap();
    let mut enti: Vec<&str> = registro.iter().map(|v| v.sollecito.ente.as_str()).collect();
    enti.sort();
    assert_eq!(enti, ["071024", "073027", "075035"]);
    for v in &registro {
        assert_eq!(v.sollecito.canale, "pec");
        assert!(v.sollecito.errore.is_none());
        assert!(v.sollecito.destinatari.starts_with("protocollo@pec."));
    }
    // Delivered to the development mailbox (no SMTP server configured), one PEC message each;
    // the reminder's outcome says so.
    for v in &registro {
        let m = consegnati(&app, v.sollecito.id).await;
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].stato, "inviato");
        assert_eq!(m[0].canale, "pec");
        assert_eq!(m[0].trasporto.as_deref(), Some("casella"));
        assert_eq!(m[0].destinatario, v.sollecito.destinatari);
        assert_eq!(m[0].tipo, "sollecito");
        assert!(
            m[0].testo
                .contains("la registrazione dell'ente sulla piattaforma")
        );
    }
    let registro = app.p.solleciti(&s, None).await.unwrap();
    assert!(
        registro.iter().all(|v| v.esito == "inviato (1 su 1)"),
        "{:?}",
        registro.iter().map(|v| &v.esito).collect::<Vec<_>>()
    );
}

/// The outbox messages of a reminder, once none is waiting any more.
async fn consegnati(app: &TestApp, sollecito: i64) -> Vec<archivio::Messaggio> {
    for _ in 0..300 {
        let v = app
            .p
            .db()
            .elenco_messaggi(&archivio::FiltroMessaggi {
                sollecito: Some(sollecito),
                limite: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        if !v.is_empty()
            && v.iter()
                .all(|m| !matches!(m.stato.as_str(), "in_coda" | "in_invio"))
        {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("messaggi del sollecito {sollecito} non consegnati");
}

#[tokio::test]
#[ignore = "richiede Python con aiosmtpd (PUSH_TEST_PYTHON_SMTP): lo esegue .ci/run"]
async fn smtp_i_solleciti_arrivano_e_l_escalation_arriva_alla_pec() {
    use crate::smtp::{Modo, ServerSmtp, porta_libera};
    // E-mail through a relay on this host; PEC over implicit TLS with authentication (one CA
    // setting serves both, so the e-mail relay is plain: TLS of e-mail is `posta_smtp`'s).
    let smtp = ServerSmtp::avvia(porta_libera(), Modo::Nessuno, None);
    let pec = ServerSmtp::avvia(
        porta_libera(),
        Modo::Implicito,
        Some(("pec", "segreto-pec")),
    );
    let t0 = Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
    let app = TestApp::con(Opzioni {
        orologio: Some(t0),
        impostazioni: servizi::config::Strato {
            smtp_host: Some("127.0.0.1".into()),
            smtp_port: Some(smtp.porta),
            smtp_tls: Some(servizi::TlsSmtp::Nessuno),
            smtp_ca: Some(pec.ca.clone()),
            smtp_mittente: Some("push@regione.push-demo.invalid".into()),
            pec_host: Some("127.0.0.1".into()),
            pec_port: Some(pec.porta),
            pec_tls: Some(servizi::TlsSmtp::Implicito),
            pec_utente: Some("pec".into()),
            pec_password: Some(servizi::Segreto::new("segreto-pec")),
            pec_mittente: Some("push@pec.regione.push-demo.invalid".into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    // The registry's PEC addresses of the demo.
    app.p
        .carica_monitoraggio_demo(&app.demo, Scenario::Marzo2018)
        .await
        .unwrap();
    let admin = app.come(&app.admin()).await;
    // The three unregistered pilots, at their PEC addresses.
    let r = admin
        .post_form(
            "/area/solleciti",
            "/area/solleciti",
            &[
                ("motivo", "pilota_non_registrato"),
                ("enti", "071024"),
                ("enti", "073027"),
                ("enti", "075035"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // Brindisi, registered without flows: by e-mail to its legal representative and referent.
    let r = admin
        .post_form(
            "/area/solleciti?motivo=senza_flusso_accettato",
            "/area/solleciti",
            &[("motivo", "senza_flusso_accettato"), ("enti", BRINDISI)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let e = smtp.attendi(2).await;
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e.iter().all(|r| r.da == "push@regione.push-demo.invalid"));
    assert!(
        e.iter()
            .all(|r| r.oggetto == "PUSH – invio dei flussi del patrimonio: Comune di Brindisi")
    );
    assert!(e.iter().all(|r| {
        r.testo
            .as_deref()
            .unwrap()
            .contains("Spettabile Comune di Brindisi")
    }));
    // Fifteen days later Brindisi still owes: the reminder goes to its PEC address.
    app.p.orologio.imposta(t0 + Duration::days(15));
    assert_eq!(app.p.escala_solleciti().await.unwrap(), 1);
    app.p.posta_accodata();
    let p = pec.attendi(4).await;
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(
        p.iter()
            .all(|r| r.tls && r.autenticato && r.da == "push@pec.regione.push-demo.invalid")
    );
    let mut a: Vec<String> = p.iter().flat_map(|r| r.a.clone()).collect();
    a.sort();
    assert_eq!(
        a,
        [
            "protocollo@pec.brindisi.push-demo.invalid",
            "protocollo@pec.foggia.push-demo.invalid",
            "protocollo@pec.lecce.push-demo.invalid",
            "protocollo@pec.taranto.push-demo.invalid",
        ]
    );
    let escalation = p.iter().find(|r| r.a[0].contains("brindisi")).unwrap();
    assert_eq!(
        escalation.oggetto,
        "PUSH – secondo sollecito: Comune di Brindisi"
    );
    // Every reminder's outcome is «inviato».
    let registro = app.p.solleciti(&admin_soggetto(&app), None).await.unwrap();
    assert_eq!(registro.len(), 5);
    for v in &registro {
        consegnati(&app, v.sollecito.id).await;
    }
    let registro = app.p.solleciti(&admin_soggetto(&app), None).await.unwrap();
    assert!(
        registro.iter().all(|v| v.esito.starts_with("inviato")),
        "{:?}",
        registro.iter().map(|v| &v.esito).collect::<Vec<_>>()
    );
}
