//! `push demo`: the March 2018 scenario exactly, and refusal of a non-empty database.

use crate::aiuto::{Opzioni, TestApp};

#[tokio::test]
async fn scenario_marzo_2018() {
    let app = TestApp::nuova().await;
    let enti = app.p.db().enti().await.unwrap();
    let registrati: Vec<_> = enti.iter().filter(|e| e.registrato_il.is_some()).collect();
    assert_eq!(registrati.len(), 13);
    let pilota: Vec<_> = enti.iter().filter(|e| e.pilota).collect();
    assert_eq!(pilota.len(), 14);
    assert_eq!(
        pilota.iter().filter(|e| e.registrato_il.is_some()).count(),
        11
    );
    assert_eq!(registrati.iter().filter(|e| !e.pilota).count(), 2);
    let mut non_registrati: Vec<_> = pilota
        .iter()
        .filter(|e| e.registrato_il.is_none())
        .map(|e| e.codice.as_str())
        .collect();
    non_registrati.sort();
    assert_eq!(non_registrati, ["071024", "073027", "075035"]);
    // Nothing later than the announcement.
    let annuncio = chrono::NaiveDate::from_ymd_opt(2018, 3, 12).unwrap();
    for e in &registrati {
        assert!(e.registrato_il.unwrap().date_naive() < annuncio);
        let inc = app.p.db().incarichi_ente(&e.codice).await.unwrap();
        assert_eq!(
            inc.iter()
                .filter(|i| i.ruolo == "LEGALE_RAPPRESENTANTE")
                .count(),
            1,
            "{}",
            e.codice
        );
        for area in ["PATRIMONIO", "PROGRAMMI"] {
            assert!(
                inc.iter()
                    .any(|i| i.ruolo == "REFERENTE" && i.aree.contains(area)),
                "{} {area}",
                e.codice
            );
        }
    }
    assert!(
        app.p
            .db()
            .registrazioni(Some("IN_ATTESA"))
            .await
            .unwrap()
            .is_empty()
    );
    // Every person is fictitious and valid.
    for p in app.p.db().persone().await.unwrap() {
        assert!(p.cf.starts_with("DMO"), "{}", p.cf);
        dominio::CodiceFiscale::parse(&p.cf).unwrap();
        assert!(p.email.unwrap().ends_with(".invalid"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_rifiuta_un_database_con_dati() {
    let app = TestApp::nuova().await;
    let o = app.push(&["demo"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--sostituisci"), "{err}");
    let o = app.push(&["demo", "--sostituisci"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The full demo adds a pending request to decide.
    assert_eq!(
        app.p
            .db()
            .registrazioni(Some("IN_ATTESA"))
            .await
            .unwrap()
            .len(),
        1
    );
    let o = app.push(&["audit", "verify"]);
    assert!(o.status.success(), "la catena ricomincia integra");
    // Bari's register, then the demo again over it: Bari's units leave the dashboards with
    // its register (its aggregates go with the replaced data, or they would stay current) and
    // the demo's are counted once.
    let unita = |p: servizi::cruscotto::CruscottoPubblico| p.unita.valore().copied();
    let demo = unita(app.p.cruscotto_pubblico(None).await.unwrap()).expect("unità della demo");
    let bari = crate::flussi::token(&app, "072006", &[dominio::Area::Patrimonio]).await;
    crate::flussi::carica_e_accetta(
        &app,
        &bari,
        crate::flussi::flusso_demo("072006", 40, 0),
        (2018, 3, 6),
    )
    .await;
    assert_eq!(
        unita(app.p.cruscotto_pubblico(None).await.unwrap()),
        Some(demo + 40)
    );
    let o = app.push(&["demo", "--sostituisci"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        unita(app.p.cruscotto_pubblico(None).await.unwrap()),
        Some(demo)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_su_database_vuoto_dalla_riga_di_comando() {
    let app = TestApp::con(Opzioni {
        demo: None,
        ..Default::default()
    })
    .await;
    let o = app.push(&["demo", "--scenario", "marzo-2018"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        app.p
            .db()
            .enti()
            .await
            .unwrap()
            .iter()
            .filter(|e| e.registrato_il.is_some())
            .count(),
        13
    );
    let o = app.push(&["demo", "--scenario", "aprile-2019", "--sostituisci"]);
    assert!(!o.status.success());
}
