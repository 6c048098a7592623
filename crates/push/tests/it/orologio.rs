//! One clock, Europe/Rome: with the platform's clock stopped around midnight on New Year's
//! Eve, the protocol year, the date an accepted flow enters the register and the times on
//! the receipt and the audit log's day filters follow Rome, not UTC nor the server's zone.

use chrono::{DateTime, TimeZone, Utc};

use crate::aiuto::{Opzioni, TestApp, api};
use crate::flussi::{attendi_validazione, carica, flusso_demo, json, post, token};

fn utc(a: i32, m: u32, g: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(a, m, g, h, min, 0).unwrap()
}

/// Uploads a small flow for `ente`, waits for it to be valid and submits it: its protocol.
async fn invia(app: &TestApp, t: &str, ente: &str) -> (i64, String) {
    let id = json(carica(app, t, flusso_demo(ente, 20, 0)).await).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(attendi_validazione(app, id, t).await["stato"], "valido");
    let r = post(app, &format!("/api/v1/flussi/{id}/invio"), t, None).await;
    assert_eq!(r.status(), 200);
    let prot = json(r).await["protocollo"].as_str().unwrap().to_string();
    (id, prot)
}

#[tokio::test]
async fn capodanno_a_roma_anno_del_protocollo_e_data_del_registro() {
    // 22:30 UTC on 31/12 is 23:30 in Rome: still 2026.
    let app = TestApp::con(Opzioni {
        orologio: Some(utc(2026, 12, 31, 22, 30)),
        ..Default::default()
    })
    .await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let bari = token(&app, "072006", &[dominio::Area::Patrimonio]).await;
    let regione = token(&app, "REGIONE", &[]).await;

    let (id1, p1) = invia(&app, &andria, "110001").await;
    assert_eq!(p1, "2026/000001");

    // 23:30 UTC on 31/12 is 00:30 on 1 January in Rome: the new year's numbering starts.
    assert!(app.p.orologio.imposta(utc(2026, 12, 31, 23, 30)));
    let (id2, p2) = invia(&app, &bari, "072006").await;
    assert_eq!(p2, "2027/000001");

    // Accepted now, the register's versions are valid from 1 January 2027 (Rome's today).
    let r = post(
        &app,
        &format!("/api/v1/flussi/{id2}/accettazione"),
        &regione,
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let unita = json(
        api(
            &app,
            "/api/v1/patrimonio/unita?ente=072006&limit=5",
            Some(&regione),
        )
        .await,
    )
    .await;
    let unita = unita.as_array().unwrap();
    assert!(!unita.is_empty());
    for u in unita {
        assert_eq!(u["valido_dal"], "2027-01-01", "{u}");
    }

    // The receipts show Rome's time of each submission.
    for (ente, id, quando) in [
        ("110001", id1, "31/12/2026 23:30"),
        ("072006", id2, "01/01/2027 00:30"),
    ] {
        let (_, rp, _) = app.persone(ente);
        let (s, html) = app
            .come(&rp)
            .await
            .testo(&format!("/area/flussi/{id}/ricevuta"))
            .await;
        assert_eq!(s, 200);
        // Templates escape "/" as "&#x2f;".
        let html = html.replace("&#x2f;", "/");
        assert!(html.contains(quando), "{html}");
    }

    // The audit log's day filters are Rome days: the second submission (23:30 UTC on 31/12)
    // belongs to 1 January.
    let b = app.come(&app.istruttore()).await;
    for (giorno, dentro, fuori) in [("2026-12-31", id1, id2), ("2027-01-01", id2, id1)] {
        let (s, html) = b
            .testo(&format!(
                "/area/audit?azione=flusso.inviato&dal={giorno}&al={giorno}"
            ))
            .await;
        assert_eq!(s, 200);
        assert!(
            html.contains(&format!("flusso:{dentro}<")),
            "{giorno}: {html}"
        );
        assert!(
            !html.contains(&format!("flusso:{fuori}<")),
            "{giorno}: {html}"
        );
    }
}
