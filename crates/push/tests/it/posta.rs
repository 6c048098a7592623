//! The outbox and the notifications: every step of a flow and of a registration writes its
//! messages in the same transaction, the sender delivers them (here to the development
//! mailbox; `posta_smtp` delivers to a real SMTP server), and people read them in the
//! reserved area.

use std::time::Duration;

use dominio::{Area, CodiceEnte, CodiceFiscale, DominioFlusso, Ruolo, Soggetto};

use crate::aiuto::TestApp;
use crate::flussi::{carica_e_accetta, flusso_demo, token};

const ANDRIA: &str = "110001";

pub(crate) fn referente(cf: &str, ente: &str, aree: &[Area]) -> Soggetto {
    Soggetto::Persona {
        cf: CodiceFiscale::parse(cf).unwrap(),
        ruoli: vec![Ruolo::Referente {
            ente: CodiceEnte::parse(ente).unwrap(),
            aree: aree.to_vec(),
        }],
    }
}

pub(crate) fn amministratore(app: &TestApp) -> Soggetto {
    Soggetto::Persona {
        cf: CodiceFiscale::parse(&app.admin()).unwrap(),
        ruoli: vec![Ruolo::AmministratoreRegione],
    }
}

/// Uploads a flow as a person through the services, waits until valid, submits it.
pub(crate) async fn carica_e_invia_come(
    app: &TestApp,
    s: &Soggetto,
    ente: &str,
    unita: u64,
) -> i64 {
    let mut r = app.p.deposito.ricevi(u64::MAX).unwrap();
    r.scrivi(&flusso_demo(ente, unita, 0)).unwrap();
    let c = app
        .p
        .carica_flusso(
            s,
            &CodiceEnte::parse(ente).unwrap(),
            DominioFlusso::Patrimonio,
            "f.zip",
            r.chiudi().unwrap(),
        )
        .await
        .unwrap();
    let id = c.flusso.id;
    for _ in 0..600 {
        let f = app.p.db().flusso(id).await.unwrap().unwrap();
        if f.stato == "valido" {
            break;
        }
        assert!(
            matches!(f.stato.as_str(), "caricato" | "in_validazione"),
            "{}",
            f.stato
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.p.invia_flusso(s, id, true, None).await.unwrap();
    id
}

/// The messages of a flow, oldest first, once none is waiting any more.
pub(crate) async fn consegnati(
    app: &TestApp,
    filtro: archivio::FiltroMessaggi,
) -> Vec<archivio::Messaggio> {
    for _ in 0..600 {
        let v = app
            .p
            .db()
            .elenco_messaggi(&archivio::FiltroMessaggi {
                limite: 1000,
                ..filtro.clone()
            })
            .await
            .unwrap();
        if !v.is_empty()
            && v.iter()
                .all(|m| m.stato == "inviato" || m.stato == "in_errore")
        {
            let mut v = v;
            v.reverse();
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("messaggi non consegnati: {filtro:?}");
}

#[tokio::test]
async fn ogni_passo_del_flusso_notifica_chi_lo_ha_fatto() {
    let app = TestApp::nuova().await;
    let (_, rp, rg) = app.persone(ANDRIA);
    let s = referente(&rp, ANDRIA, &[Area::Patrimonio]);
    let id = carica_e_invia_come(&app, &s, ANDRIA, 30).await;
    app.p
        .respingi_flusso(
            &amministratore(&app),
            id,
            "Mancano i <b>fabbricati</b> di via Roma",
        )
        .await
        .unwrap();
    let f = app.p.db().flusso(id).await.unwrap().unwrap();
    let protocollo = f.protocollo.clone().unwrap();
    let v = consegnati(
        &app,
        archivio::FiltroMessaggi {
            flusso: Some(id),
            ..Default::default()
        },
    )
    .await;
    let tipi: Vec<&str> = v.iter().map(|m| m.tipo.as_str()).collect();
    assert_eq!(
        tipi,
        ["flusso.validato", "flusso.inviato", "flusso.respinto"],
        "{v:#?}"
    );
    let email = app
        .p
        .db()
        .persona(&rp)
        .await
        .unwrap()
        .unwrap()
        .email
        .unwrap();
    for m in &v {
        assert_eq!(m.destinatario, email);
        assert_eq!(m.persona.as_deref(), Some(rp.as_str()));
        assert_eq!(m.ente.as_deref(), Some(ANDRIA));
        assert_eq!(
            (m.stato.as_str(), m.trasporto.as_deref()),
            ("inviato", Some("casella"))
        );
        assert!(m.html.contains("lang=\"it\""), "{}", m.html);
    }
    assert!(
        v[0].testo.contains("Errori: 0") && v[0].testo.contains("Righe lette:"),
        "{}",
        v[0].testo
    );
    assert!(
        v[1].oggetto.contains(&protocollo) && v[1].testo.contains(&protocollo),
        "{}",
        v[1].testo
    );
    assert!(v[2].testo.contains("RESPINTO") && v[2].testo.contains("Mancano i <b>fabbricati</b>"));
    assert!(
        v[2].html
            .contains("Mancano i &lt;b&gt;fabbricati&lt;/b&gt;"),
        "{}",
        v[2].html
    );

    // The referent reads them in the reserved area; another person does not. (Pages escape
    // the slash.)
    let prot_html = protocollo.replace('/', "&#x2f;");
    let b = app.come(&rp).await;
    let pagina = b.get("/area/messaggi").await.text().await.unwrap();
    assert!(
        pagina.contains(&format!("protocollo {prot_html}")),
        "{pagina}"
    );
    let r = b.get(&format!("/area/messaggi/{}", v[2].id)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Mancano i &lt;b&gt;fabbricati")
    );
    let altro = app.come(&rg).await;
    assert_eq!(
        altro
            .get(&format!("/area/messaggi/{}", v[2].id))
            .await
            .status(),
        404
    );
    assert!(
        !altro
            .get("/area/messaggi")
            .await
            .text()
            .await
            .unwrap()
            .contains(&prot_html)
    );
    // The entity's page logs them; the development mailbox shows them.
    let admin = app.come(&app.admin()).await;
    let pagina = admin
        .get(&format!("/area/enti/{ANDRIA}/messaggi"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        pagina.contains(&email) && pagina.contains(&prot_html),
        "{pagina}"
    );
    // The entity's page too, to the Region; the public sees no message and no address.
    let (_, pagina) = admin.testo(&format!("/enti/{ANDRIA}")).await;
    assert!(
        pagina.contains("Messaggi inviati") && pagina.contains(&email),
        "{pagina}"
    );
    let (_, pagina) = app.browser().testo(&format!("/enti/{ANDRIA}")).await;
    assert!(!pagina.contains("Messaggi inviati") && !pagina.contains(&email));
    let pagina = admin.get("/sviluppo/posta").await.text().await.unwrap();
    assert!(pagina.contains(&prot_html), "{pagina}");
    let r = admin
        .get(&format!("/sviluppo/posta/{}/html", v[1].id))
        .await;
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
}

#[tokio::test]
async fn con_un_token_notifica_i_referenti_dell_area() {
    let app = TestApp::nuova().await;
    let (_, rp, rg) = app.persone(ANDRIA);
    let t = token(&app, ANDRIA, &[Area::Patrimonio]).await;
    let id = carica_e_accetta(&app, &t, flusso_demo(ANDRIA, 20, 0), (2026, 1, 10)).await;
    let v = consegnati(
        &app,
        archivio::FiltroMessaggi {
            flusso: Some(id),
            ..Default::default()
        },
    )
    .await;
    let tipi: Vec<&str> = v.iter().map(|m| m.tipo.as_str()).collect();
    assert_eq!(
        tipi,
        ["flusso.validato", "flusso.inviato", "flusso.accettato"],
        "{v:#?}"
    );
    assert!(
        v.iter().all(|m| m.persona.as_deref() == Some(rp.as_str())),
        "solo il referente del patrimonio, non {rg}: {v:#?}"
    );
    assert!(v[1].testo.contains("token n."), "{}", v[1].testo);
}

#[tokio::test]
async fn la_decisione_sulla_registrazione_e_l_accreditamento_sono_notificati() {
    let app = TestApp::nuova().await;
    let ora = servizi::ora();
    let mut tx = app.p.db().inizia().await.unwrap();
    let richiedente = app.senza_ruolo();
    let id = tx
        .crea_registrazione(
            "075035",
            &richiedente,
            "Giulia Nuova",
            "p@pec.lecce.push-demo.invalid",
            "080 1",
            "giulia@lecce.push-demo.invalid",
            ora,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.p
        .decidi_registrazione(&amministratore(&app), id, true, "")
        .await
        .map_err(|_| "decisione")
        .unwrap();
    let v = consegnati(
        &app,
        archivio::FiltroMessaggi {
            ente: Some("075035".into()),
            ..Default::default()
        },
    )
    .await;
    let ultimo = v.last().unwrap();
    assert_eq!(ultimo.tipo, "registrazione.approvata");
    assert_eq!(ultimo.destinatario, "giulia@lecce.push-demo.invalid");
    assert_eq!(ultimo.persona.as_deref(), Some(richiedente.as_str()));
    assert!(ultimo.testo.contains("approvata"), "{}", ultimo.testo);
}

#[tokio::test]
async fn una_busta_respinta_con_la_transazione_non_esiste() {
    let app = TestApp::nuova().await;
    let mut tx = app.p.db().inizia().await.unwrap();
    let b = servizi::posta::Busta {
        tipo: "prova".into(),
        canale: servizi::posta::Canale::Pec,
        destinatari: vec![servizi::posta::Destinatario {
            indirizzo: "a@b.push-demo.invalid".into(),
            persona: None,
        }],
        ente: Some(ANDRIA.into()),
        flusso: None,
        sollecito: Some(7),
        oggetto: "Oggetto\r\nBcc: x@y".into(),
        testo: "Ciao <script>".into(),
        html: None,
    };
    let ids = servizi::posta::accoda(&mut tx, &b, servizi::ora())
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    drop(tx);
    assert!(
        app.p.db().messaggio(ids[0]).await.unwrap().is_none(),
        "rollback: nessun messaggio"
    );
    let mut tx = app.p.db().inizia().await.unwrap();
    let ids = servizi::posta::accoda(&mut tx, &b, servizi::ora())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.p.posta_accodata();
    let v = consegnati(
        &app,
        archivio::FiltroMessaggi {
            sollecito: Some(7),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].id, ids[0]);
    assert_eq!(v[0].canale, "pec");
    assert_eq!(v[0].oggetto, "Oggetto  Bcc: x@y");
    assert!(v[0].html.contains("Ciao &lt;script&gt;"));
}
