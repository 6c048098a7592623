//! The job queue inside one server: a job started too many times without ending is given up
//! with an explanation the entity and the Region can read. (Crashing, supervised and
//! concurrent workers run as real processes in `processi.rs`.)

use crate::aiuto::{Opzioni, TestApp, api};
use crate::flussi::{attendi_validazione, carica, flusso_demo, json, token};

/// `n` workers that take the flow's job and die holding it (their lease already expired), as a
/// server killed by the file would.
async fn prese_da_esecutori_morti(app: &TestApp, n: usize) {
    for k in 0..n {
        let prima = chrono::Utc::now() - chrono::Duration::seconds(120);
        let l = app
            .p
            .db()
            .prendi_lavoro(&format!("morto-{k}"), prima, prima)
            .await
            .unwrap()
            .expect("il lavoro scaduto è ripreso");
        assert_eq!(l.tentativi as usize, k + 1);
    }
}

#[tokio::test]
async fn lavoro_avviato_troppe_volte_chiude_il_flusso_con_la_spiegazione() {
    let app = TestApp::con(Opzioni {
        lavori_paralleli: Some(0),
        ..Default::default()
    })
    .await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let regione = token(&app, "REGIONE", &[]).await;

    // Two attempts died: the third (the last allowed, by default) still runs the validation.
    let r = carica(&app, &andria, flusso_demo("110001", 30, 0)).await;
    assert_eq!(r.status(), 202);
    let id = json(r).await["id"].as_i64().unwrap();
    prese_da_esecutori_morti(&app, 2).await;
    app.p.esegui_coda().await.unwrap();
    assert_eq!(
        attendi_validazione(&app, id, &andria).await["stato"],
        "valido"
    );

    // Three attempts died: the next worker does not start it a fourth time.
    let r = carica(&app, &andria, flusso_demo("110001", 31, 0)).await;
    let id = json(r).await["id"].as_i64().unwrap();
    prese_da_esecutori_morti(&app, 3).await;
    app.p.esegui_coda().await.unwrap();
    let f = attendi_validazione(&app, id, &andria).await;
    assert_eq!(f["stato"], "non_valido", "{f}");
    assert_eq!(
        (f["valido"].as_bool(), f["errori"].as_i64()),
        (Some(false), Some(1))
    );
    let lavori = app.p.db().lavori_di(id).await.unwrap();
    assert_eq!(lavori.len(), 1);
    assert_eq!(
        (lavori[0].stato.as_str(), lavori[0].tentativi),
        ("fallito", 4)
    );

    // The explanation, in the report of the API for the entity and the Region, and on the page.
    for t in [&andria, &regione] {
        let rep = json(api(&app, &format!("/api/v1/flussi/{id}/report"), Some(t)).await).await;
        assert_eq!(rep["valido"], false);
        let s = &rep["segnalazioni"][0];
        assert_eq!(s["codice"], "file_illeggibile", "{rep}");
        assert!(
            s["messaggio"]
                .as_str()
                .unwrap()
                .contains("avviata 3 volte e non si è mai conclusa"),
            "{rep}"
        );
    }
    let (_, rp, _) = app.persone("110001");
    for b in [app.come(&rp).await, app.come(&app.istruttore()).await] {
        let (s, html) = b.testo(&format!("/area/flussi/{id}")).await;
        assert_eq!(s, 200);
        assert!(html.contains("non si è mai conclusa"), "{html}");
        assert!(!html.contains("errore interno della piattaforma"), "{html}");
    }
    let voci = app.p.db().azioni_audit().await.unwrap();
    assert!(
        voci.iter().any(|v| v == "flusso.non_elaborabile"),
        "{voci:?}"
    );
}
