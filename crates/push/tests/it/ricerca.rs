//! The register's free-text search (`q`, issue 12): served by the generated search indexes
//! (SQLite FTS5 trigram, PostgreSQL pg_trgm), it finds exactly what a case-insensitive
//! substring of the key, the searched fields and the parent's searched field finds; special
//! characters are literal; a too short search is refused in Italian; and searches have their
//! own budget (places and a time limit) so that they never take the pool from other routes.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::aiuto::{Opzioni, TestApp, api, senza_escape, token_ente};

const ENTE: &str = "110001";

async fn elenco(app: &TestApp, t: &str, percorso: &str) -> Vec<Value> {
    let r = api(app, percorso, Some(t)).await;
    assert_eq!(r.status(), 200, "{percorso}");
    r.json::<Vec<Value>>().await.expect("json")
}

fn testo(v: &Value, campo: &str) -> String {
    v[campo].as_str().unwrap_or_default().to_string()
}

/// What the search must find among `unita`, computed here from the definition's meaning: the
/// key (`codice_unita`), `codice_fabbricato`, `foglio/particella/subalterno`, or the building's
/// `indirizzo` contains `q`, ignoring case.
fn attese(unita: &[Value], fabbricati: &[Value], q: &str) -> BTreeSet<String> {
    let q = q.to_lowercase();
    let contiene = |s: &str| s.to_lowercase().contains(&q);
    unita
        .iter()
        .filter(|u| {
            let catasto = ["foglio", "particella", "subalterno"]
                .iter()
                .map(|c| u[*c].as_str())
                .collect::<Option<Vec<_>>>()
                .map(|v| v.join("/"));
            let indirizzo = fabbricati
                .iter()
                .find(|f| f["codice_fabbricato"] == u["codice_fabbricato"])
                .map(|f| testo(f, "indirizzo"))
                .unwrap_or_default();
            contiene(&testo(u, "codice_unita"))
                || contiene(&testo(u, "codice_fabbricato"))
                || catasto.is_some_and(|c| contiene(&c))
                || contiene(&indirizzo)
        })
        .map(|u| testo(u, "codice_unita"))
        .collect()
}

async fn trovate(app: &TestApp, t: &str, q: &str, extra: &str) -> BTreeSet<String> {
    let q = urlencoding(q);
    elenco(
        app,
        t,
        &format!("/api/v1/patrimonio/unita?limit=1000&q={q}{extra}"),
    )
    .await
    .iter()
    .map(|u| testo(u, "codice_unita"))
    .collect()
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Search by unit code, building code, address (through the parent, any case) and cadastral
/// identifiers finds exactly the units the definition's meaning gives, today and as of a past
/// day; `%`, `_` and quotes are literal.
#[tokio::test]
async fn la_ricerca_trova_per_codice_indirizzo_e_catasto() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        ..Default::default()
    })
    .await;
    let t = token_ente(&app, ENTE, &[dominio::Area::Patrimonio]).await;
    let unita = elenco(&app, &t, "/api/v1/patrimonio/unita?limit=1000").await;
    let fabbricati = elenco(&app, &t, "/api/v1/patrimonio/fabbricati?limit=1000").await;
    assert!(unita.len() > 50 && unita.len() < 1000, "{}", unita.len());

    let u = &unita[unita.len() / 2];
    let codice = testo(u, "codice_unita");
    let catasto = format!(
        "{}/{}/{}",
        testo(u, "foglio"),
        testo(u, "particella"),
        testo(u, "subalterno")
    );
    let f = fabbricati
        .iter()
        .find(|f| f["codice_fabbricato"] == u["codice_fabbricato"])
        .expect("il fabbricato dell'unità");
    let indirizzo = testo(f, "indirizzo");
    // A part of the street name, upper case: found through the parent, case ignored.
    let via: String = indirizzo
        .split_whitespace()
        .max_by_key(|p| p.len())
        .expect("una parola nell'indirizzo")
        .to_uppercase();
    assert!(via.chars().count() >= 3, "{indirizzo}");
    let prova = [
        codice.clone(),
        codice[codice.len().saturating_sub(4)..].to_string(),
        testo(u, "codice_fabbricato"),
        catasto.clone(),
        via.clone(),
        indirizzo.to_lowercase(),
    ];
    for q in &prova {
        let atteso = attese(&unita, &fabbricati, q);
        assert!(!atteso.is_empty(), "{q}");
        assert_eq!(trovate(&app, &t, q, "").await, atteso, "q={q}");
    }
    assert!(trovate(&app, &t, &codice, "").await.contains(&codice));
    // The indexes find exactly what reading every row finds, over every entity, for units and
    // buildings (the store's own reference path).
    for nome in ["unita", "fabbricati"] {
        let tav = &servizi::registro::tavola_di(nome).unwrap().tavola;
        for q in prova
            .iter()
            .map(String::as_str)
            .chain(["%%%", "ANDRIA", "110001"])
        {
            let db = app.p.db();
            assert_eq!(
                ids(db, tav, q, false).await,
                ids(db, tav, q, true).await,
                "{nome} q={q}"
            );
        }
    }
    assert!(trovate(&app, &t, &catasto, "").await.contains(&codice));

    // The buildings' own search: by address.
    let per_indirizzo: Vec<String> = elenco(
        &app,
        &t,
        &format!(
            "/api/v1/patrimonio/fabbricati?limit=1000&q={}",
            urlencoding(&via)
        ),
    )
    .await
    .iter()
    .map(|f| testo(f, "codice_fabbricato"))
    .collect();
    assert!(
        per_indirizzo.contains(&testo(f, "codice_fabbricato")),
        "{per_indirizzo:?}"
    );

    // As of a past day the search reads that day's versions (the index holds every version).
    let allora = elenco(
        &app,
        &t,
        "/api/v1/patrimonio/unita?limit=1000&alla_data=2018-03-01",
    )
    .await;
    let fabbricati_allora = elenco(
        &app,
        &t,
        "/api/v1/patrimonio/fabbricati?limit=1000&alla_data=2018-03-01",
    )
    .await;
    let rimossa = allora
        .iter()
        .find(|a| !unita.iter().any(|u| u["codice_unita"] == a["codice_unita"]))
        .map(|a| testo(a, "codice_unita"))
        .expect("un'unità rimossa dal secondo flusso della demo");
    assert!(
        trovate(&app, &t, &rimossa, "&alla_data=2018-03-01")
            .await
            .contains(&rimossa)
    );
    assert!(!trovate(&app, &t, &rimossa, "").await.contains(&rimossa));
    assert_eq!(
        trovate(&app, &t, &via, "&alla_data=2018-03-01").await,
        attese(&allora, &fabbricati_allora, &via)
    );

    // Special characters are literal, not patterns: none of these is in the data.
    for q in ["%%%", "___", "'%'", "\"_\"", "a%b", "***", "\\\\\\"] {
        assert_eq!(attese(&unita, &fabbricati, q), BTreeSet::new(), "{q}");
        assert!(trovate(&app, &t, q, "").await.is_empty(), "q={q}");
    }
    // A quote inside a real value is found like any character.
    if let Some(con_apice) = fabbricati
        .iter()
        .map(|f| testo(f, "indirizzo"))
        .find(|i| i.contains('\''))
    {
        let pezzo: String = con_apice
            .split_whitespace()
            .find(|p| p.contains('\''))
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            trovate(&app, &t, &pezzo, "").await,
            attese(&unita, &fabbricati, &pezzo),
            "{pezzo}"
        );
    }
}

/// On SQLite the index is filled after the merge: rows above its high-water mark are found
/// by reading them, so a search finds exactly what a scan finds whether the index holds
/// nothing, or (after `riordina_ricerca`) everything. On PostgreSQL the index is written with
/// the rows and both halves read it.
#[tokio::test]
async fn la_ricerca_trova_anche_le_righe_non_ancora_indicizzate() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        ..Default::default()
    })
    .await;
    let t = token_ente(&app, ENTE, &[dominio::Area::Patrimonio]).await;
    let unita = elenco(&app, &t, "/api/v1/patrimonio/unita?limit=1000").await;
    let u = &unita[unita.len() / 3];
    let prova = [
        testo(u, "codice_unita"),
        testo(u, "codice_fabbricato"),
        format!(
            "{}/{}/{}",
            testo(u, "foglio"),
            testo(u, "particella"),
            testo(u, "subalterno")
        ),
        "ANDRIA".to_string(),
        "via".to_string(),
        "%%%".to_string(),
    ];
    let db = app.p.db().clone();
    let tavole: Vec<_> = ["complessi", "fabbricati", "unita"]
        .iter()
        .map(|n| &servizi::registro::tavola_di(n).unwrap().tavola)
        .collect();
    let confronta = |fase: &'static str| {
        let (db, tavole, prova) = (db.clone(), tavole.clone(), prova.clone());
        async move {
            for tav in tavole {
                for q in &prova {
                    assert_eq!(
                        ids(&db, tav, q, false).await,
                        ids(&db, tav, q, true).await,
                        "{fase}: {} q={q}",
                        tav.nome()
                    );
                }
            }
        }
    };
    for tav in &tavole {
        db.azzera_ricerca(tav).await.unwrap();
    }
    let righe = db.da_indicizzare(tavole[2]).await.unwrap();
    if db.is_postgres() {
        assert_eq!(righe, 0);
    } else {
        assert!(righe > 50, "{righe}");
    }
    confronta("indice vuoto").await;
    // Through the API too: the unit's code is found with nothing indexed.
    assert!(trovate(&app, &t, &prova[0], "").await.contains(&prova[0]));
    app.p.riordina_ricerca(None).await;
    for tav in &tavole {
        assert_eq!(db.da_indicizzare(tav).await.unwrap(), 0, "{}", tav.nome());
    }
    confronta("indice completo").await;
}

/// The ids a register search finds, through the indexes or (`scansione`) by reading every row,
/// the store's reference path.
async fn ids(
    db: &archivio::Archivio,
    tav: &archivio::Tavola,
    q: &str,
    scansione: bool,
) -> Vec<i64> {
    let filtro = servizi::registro::FiltroRegistro {
        cerca: Some(q.to_string()),
        limite: 10_000,
        scansione,
        ..Default::default()
    };
    db.elenco_registro(tav, &filtro)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect()
}

/// A search shorter than the indexes can narrow is refused in Italian (API 400 and the page),
/// not run as a scan of the whole table; spaces around it do not count.
#[tokio::test]
async fn la_ricerca_troppo_breve_e_spiegata() {
    let app = TestApp::nuova().await;
    let t = token_ente(&app, ENTE, &[dominio::Area::Patrimonio]).await;
    for q in ["a", "A1", "%_", "  ab  "] {
        let r = api(
            &app,
            &format!("/api/v1/patrimonio/unita?q={}", urlencoding(q)),
            Some(&t),
        )
        .await;
        assert_eq!(r.status(), 400, "{q}");
        let corpo = r.text().await.unwrap();
        assert!(corpo.contains("almeno 3 caratteri"), "{corpo}");
    }
    let b = app.come(&app.istruttore()).await;
    let (s, html) = b.testo("/area/registro/unita?q=ab").await;
    assert_eq!(s, 400);
    assert!(
        senza_escape(&html).contains("scriva almeno 3 caratteri"),
        "{html}"
    );
    // Three characters are enough.
    let r = api(&app, "/api/v1/patrimonio/unita?q=abc", Some(&t)).await;
    assert_eq!(r.status(), 200);
}

/// The search's budget: with every place taken, a search is refused with 503, `Retry-After`
/// and an Italian message, while `/healthz`, the API without a search and the home page keep
/// answering; a search past its time limit is stopped with its own Italian message (forced by
/// the fault injection, so that no timing decides the test).
#[tokio::test]
async fn la_ricerca_ha_un_budget_suo_e_non_affama_le_altre_rotte() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        impostazioni: servizi::config::Strato {
            ricerche_parallele: Some(2),
            ricerca_tempo_massimo_ms: Some(1500),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let t = token_ente(&app, ENTE, &[dominio::Area::Patrimonio]).await;
    let ricerca = "/api/v1/patrimonio/unita?q=via&limit=10";
    assert_eq!(api(&app, ricerca, Some(&t)).await.status(), 200);

    // Every place taken: refused at once with Retry-After, the rest answers.
    let posti = app.p.occupa_ricerche().await;
    let r = api(&app, ricerca, Some(&t)).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let corpo = r.text().await.unwrap();
    assert!(corpo.contains("troppe ricerche"), "{corpo}");
    let b = app.come(&app.istruttore()).await;
    let (s, html) = b.testo("/area/registro/unita?q=via").await;
    assert_eq!(s, 503);
    assert!(senza_escape(&html).contains("troppe ricerche"), "{html}");
    assert_eq!(api(&app, "/healthz", None).await.status(), 200);
    assert_eq!(
        api(&app, "/api/v1/patrimonio/unita?limit=10", Some(&t))
            .await
            .status(),
        200
    );
    assert_eq!(b.testo("/area/registro/unita").await.0, 200);
    drop(posti);
    assert_eq!(api(&app, ricerca, Some(&t)).await.status(), 200);

    // Past the time limit: the statement is stopped (PostgreSQL statement_timeout, SQLite's
    // progress handler), the pool's other connections keep serving meanwhile.
    app.p
        .prova_ricerca_lenta
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let lenta = {
        let (url, t) = (app.url.clone(), t.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .get(format!("{url}{ricerca}"))
                .bearer_auth(t)
                .send()
                .await
                .expect("ricerca lenta")
        })
    };
    for _ in 0..5 {
        assert_eq!(api(&app, "/healthz", None).await.status(), 200);
        assert_eq!(
            api(&app, "/api/v1/patrimonio/fabbricati?limit=5", Some(&t))
                .await
                .status(),
            200
        );
    }
    let r = lenta.await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let corpo = r.text().await.unwrap();
    assert!(corpo.contains("più tempo del consentito"), "{corpo}");
    // The stopped statement left its connection usable: searches work again.
    app.p
        .prova_ricerca_lenta
        .store(false, std::sync::atomic::Ordering::Relaxed);
    for _ in 0..4 {
        assert_eq!(api(&app, ricerca, Some(&t)).await.status(), 200);
    }
}
