//! Registration of an entity, the Region's decision, accreditation and revocation of referents.

use crate::aiuto::TestApp;

#[tokio::test]
async fn registrazione_approvata_poi_referente_accreditato_e_revocato() {
    let app = TestApp::nuova().await;
    let lecce = "075035";
    let richiedente = app.come(&app.senza_ruolo()).await;

    // Bad input: every field error at once, in Italian, nothing saved.
    let r = richiedente
        .post_form(
            "/area/registrazione",
            "/area/registrazione",
            &[
                ("ente", lecce),
                ("nome", "Al"),
                ("pec", "non-una-pec"),
                ("telefono", "abc"),
                ("email", "x@y"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Il modulo contiene 4 errori"), "{html}");
    assert!(html.contains("non è un indirizzo di posta valido"));
    assert!(html.contains("numero di telefono"));
    assert!(
        app.p
            .db()
            .registrazioni(None)
            .await
            .unwrap()
            .iter()
            .all(|r| r.ente != lecce),
        "niente salvato"
    );

    // A good request.
    let campi = [
        ("ente", lecce),
        ("nome", "Giulia Nuova"),
        ("pec", "protocollo@pec.lecce.push-demo.invalid"),
        ("telefono", "+39 0832 123456"),
        ("email", "ufficio@lecce.push-demo.invalid"),
    ];
    let r = richiedente
        .post_form("/area/registrazione", "/area/registrazione", &campi)
        .await;
    assert_eq!(r.status(), 303);
    let (_, area) = richiedente.testo("/area").await;
    assert!(area.contains("In attesa di decisione"), "{area}");

    // A second request for the same entity is refused with a clear message.
    let r = richiedente
        .post_form("/area/registrazione", "/area/registrazione", &campi)
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("esiste già una richiesta"));

    // Only the Region administrator decides.
    let id = app
        .p
        .db()
        .registrazioni(Some("IN_ATTESA"))
        .await
        .unwrap()
        .iter()
        .find(|r| r.ente == lecce)
        .unwrap()
        .id;
    let istruttore = app.come(&app.istruttore()).await;
    let t = istruttore.csrf("/area").await;
    let r = istruttore
        .post_grezzo(
            &format!("/area/registrazioni/{id}/decisione"),
            &t,
            &[("decisione", "approva")],
        )
        .await;
    assert_eq!(r.status(), 403);
    let (lr_bari, ..) = app.persone("072006");
    let altro = app.come(&lr_bari).await;
    let t = altro.csrf("/area").await;
    let r = altro
        .post_grezzo(
            &format!("/area/registrazioni/{id}/decisione"),
            &t,
            &[("decisione", "approva")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.p.db().registrazione(id).await.unwrap().unwrap().stato,
        "IN_ATTESA"
    );

    // Rejecting needs a reason.
    let admin = app.come(&app.admin()).await;
    let pagina = format!("/area/registrazioni/{id}");
    let (s, html) = admin.testo(&pagina).await;
    assert_eq!(s, 200);
    assert!(html.contains("Giulia Nuova"));
    let r = admin
        .post_form(
            &pagina,
            &format!("{pagina}/decisione"),
            &[("decisione", "respingi"), ("motivazione", "  ")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("serve la motivazione"));

    // Approve.
    let r = admin
        .post_form(
            &pagina,
            &format!("{pagina}/decisione"),
            &[("decisione", "approva")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let e = app.p.db().ente(lecce).await.unwrap().unwrap();
    assert!(e.registrato_il.is_some());
    // Deciding twice is a conflict.
    let r = admin
        .post_form(
            "/area",
            &format!("{pagina}/decisione"),
            &[("decisione", "respingi"), ("motivazione", "tardi")],
        )
        .await;
    assert_eq!(r.status(), 409);

    // The requester is now legal representative: accredit a referent.
    let pagina_ref = format!("/enti/{lecce}/referenti").replace("/enti/", "/area/enti/");
    let (s, _) = richiedente.testo(&pagina_ref).await;
    assert_eq!(s, 200);
    let r = richiedente
        .post_form(
            &pagina_ref,
            &pagina_ref,
            &[
                ("codice_fiscale", "RSSMRA80A01H501X"),
                ("nome", "Mario Referente"),
                ("email", "mario@lecce.push-demo.invalid"),
                ("aree", "PATRIMONIO"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("carattere di controllo"));
    let r = richiedente
        .post_form(
            &pagina_ref,
            &pagina_ref,
            &[
                ("codice_fiscale", "rssmra80a01h501u"),
                ("nome", "Mario Referente"),
                ("email", "mario@lecce.push-demo.invalid"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422, "senza aree");
    let r = richiedente
        .post_form(
            &pagina_ref,
            &pagina_ref,
            &[
                ("codice_fiscale", "rssmra80a01h501u"),
                ("nome", "Mario Referente"),
                ("email", "mario@lecce.push-demo.invalid"),
                ("aree", "PATRIMONIO"),
                ("aree", "PROGRAMMI"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let inc = app
        .p
        .db()
        .incarichi_attivi("RSSMRA80A01H501U")
        .await
        .unwrap();
    assert_eq!(inc.len(), 1);
    assert_eq!(inc[0].aree, "PATRIMONIO,PROGRAMMI");
    // Accrediting the same person again is a clear conflict.
    let r = richiedente
        .post_form(
            &pagina_ref,
            &pagina_ref,
            &[
                ("codice_fiscale", "RSSMRA80A01H501U"),
                ("nome", "Mario Referente"),
                ("email", "mario@lecce.push-demo.invalid"),
                ("aree", "PATRIMONIO"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);

    // The referent logs in and sees the entity; after revocation, the next request has no role.
    let referente = app.come("RSSMRA80A01H501U").await;
    let (_, html) = referente.testo("/area").await;
    assert!(html.contains("referente per l'area Patrimonio"), "{html}");
    let r = richiedente
        .post_form(
            &pagina_ref,
            &format!("{pagina_ref}/{}/revoca", inc[0].id),
            &[("motivo", "trasferito")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, html) = referente.testo("/area").await;
    assert!(!html.contains("referente per l'area Patrimonio"));
    let (s, _) = referente.testo(&format!("/enti/{lecce}")).await;
    assert_eq!(s, 200, "la scheda pubblica resta visibile");

    // Every step is in the audit log.
    let voci = app
        .p
        .db()
        .voci_audit(&archivio::FiltroAudit {
            ente: Some(lecce.into()),
            limite: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let azioni: Vec<&str> = voci.iter().map(|v| v.azione.as_str()).collect();
    for a in [
        "registrazione.richiesta",
        "registrazione.approvata",
        "referente.accreditato",
        "referente.revocato",
    ] {
        assert!(azioni.contains(&a), "{a} manca in {azioni:?}");
    }
    assert!(
        voci.iter()
            .any(|v| v.azione == "registrazione.approvata" && v.attore == app.admin())
    );
}

#[tokio::test]
async fn registrazione_respinta_mostra_la_motivazione() {
    let app = TestApp::nuova().await;
    let foggia = "071024";
    let b = app.come(&app.senza_ruolo()).await;
    let r = b
        .post_form(
            "/area/registrazione",
            "/area/registrazione",
            &[
                ("ente", foggia),
                ("nome", "Giulia Nuova"),
                ("pec", "pec@pec.foggia.push-demo.invalid"),
                ("telefono", "0881 123456"),
                ("email", "u@foggia.push-demo.invalid"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let id = app.p.db().registrazioni(Some("IN_ATTESA")).await.unwrap()[0].id;
    let admin = app.come(&app.admin()).await;
    let r = admin
        .post_form(
            "/area",
            &format!("/area/registrazioni/{id}/decisione"),
            &[
                ("decisione", "respingi"),
                ("motivazione", "Manca la delibera di nomina"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, html) = b.testo("/area").await;
    assert!(html.contains("Manca la delibera di nomina"));
    assert!(
        app.p
            .db()
            .ente(foggia)
            .await
            .unwrap()
            .unwrap()
            .registrato_il
            .is_none()
    );
}

#[tokio::test]
async fn ente_gia_registrato_non_si_registra_di_nuovo() {
    let app = TestApp::nuova().await;
    let b = app.come(&app.senza_ruolo()).await;
    let r = b
        .post_form(
            "/area/registrazione",
            "/area/registrazione",
            &[
                ("ente", "072006"),
                ("nome", "Giulia Nuova"),
                ("pec", "p@pec.bari.push-demo.invalid"),
                ("telefono", "080 123456"),
                ("email", "u@bari.push-demo.invalid"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("è già registrato"));
}

#[tokio::test]
async fn accreditamento_solo_dal_legale_rappresentante() {
    let app = TestApp::nuova().await;
    let (_, rp, _) = app.persone("072006");
    let (lr_andria, ..) = app.persone("110001");
    let campi = [
        ("codice_fiscale", "RSSMRA80A01H501U"),
        ("nome", "Mario Referente"),
        ("email", "m@bari.push-demo.invalid"),
        ("aree", "PATRIMONIO"),
    ];
    // The entity's referent: 403. Another entity's representative: 404.
    let referente = app.come(&rp).await;
    let t = referente.csrf("/area").await;
    assert_eq!(
        referente
            .post_grezzo("/area/enti/072006/referenti", &t, &campi)
            .await
            .status(),
        403
    );
    let altro = app.come(&lr_andria).await;
    let t = altro.csrf("/area").await;
    assert_eq!(
        altro
            .post_grezzo("/area/enti/072006/referenti", &t, &campi)
            .await
            .status(),
        404
    );
    assert!(
        app.p
            .db()
            .incarichi_attivi("RSSMRA80A01H501U")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn modulo_senza_csrf_rifiutato() {
    let app = TestApp::nuova().await;
    let (lr, ..) = app.persone("072006");
    let b = app.come(&lr).await;
    let campi = [
        ("codice_fiscale", "RSSMRA80A01H501U"),
        ("nome", "Mario Referente"),
        ("email", "m@bari.push-demo.invalid"),
        ("aree", "PATRIMONIO"),
    ];
    let r = b
        .post_grezzo("/area/enti/072006/referenti", "", &campi)
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Modulo scaduto"));
    let r = b
        .post_grezzo("/area/enti/072006/referenti", "deadbeef", &campi)
        .await;
    assert_eq!(r.status(), 403);
    // A token from another browser (another CSRF cookie) does not work either.
    let altro = app.browser();
    let t = altro.csrf("/accesso").await;
    assert_eq!(
        b.post_grezzo("/area/enti/072006/referenti", &t, &campi)
            .await
            .status(),
        403
    );
    assert!(
        app.p
            .db()
            .incarichi_attivi("RSSMRA80A01H501U")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn la_regione_segna_gli_enti_pilota() {
    let app = TestApp::nuova().await;
    let admin = app.come(&app.admin()).await;
    let r = admin
        .post_form(
            "/enti/072011",
            "/area/enti/072011/pilota",
            &[("pilota", "si")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(app.p.db().ente("072011").await.unwrap().unwrap().pilota);
    let istruttore = app.come(&app.istruttore()).await;
    let r = istruttore
        .post_form(
            "/enti/072011",
            "/area/enti/072011/pilota",
            &[("pilota", "no")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(app.p.db().ente("072011").await.unwrap().unwrap().pilota);
}
