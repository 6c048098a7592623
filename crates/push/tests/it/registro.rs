//! The register pages "as of a date" (`alla_data`): the date survives opening a building or a
//! unit from the lists, and the detail pages show the version valid on that day, saying so.
//!
//! The demo's Andria register has two versions: the first accepted on 12/02/2018, the second
//! on 09/03/2018 (some units changed, some removed, a few added).

use crate::aiuto::{Opzioni, TestApp, api, senza_escape, token_ente};

/// A page as text for `contains`.
async fn pagina(b: &crate::aiuto::Browser, percorso: &str) -> (u16, String) {
    let (s, html) = b.testo(percorso).await;
    (s, senza_escape(&html))
}

/// Every `href` of a page that starts with `prefisso`.
fn collegamenti(html: &str, prefisso: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with(prefisso))
        .map(str::to_string)
        .collect()
}

/// A unit of Andria that was in the register on 01/03/2018 and changed on 09/03/2018.
async fn unita_cambiata(app: &TestApp) -> String {
    let t = token_ente(app, "110001", &[dominio::Area::Patrimonio]).await;
    let elenco = |q: &'static str| {
        let (app, t) = (app, t.clone());
        async move {
            let r = api(
                app,
                &format!("/api/v1/patrimonio/unita?limit=1000{q}"),
                Some(&t),
            )
            .await;
            assert_eq!(r.status(), 200);
            r.json::<Vec<serde_json::Value>>().await.unwrap()
        }
    };
    let allora = elenco("&alla_data=2018-03-01").await;
    let oggi = elenco("").await;
    oggi.iter()
        .filter(|u| u["valido_dal"] == "2018-03-09")
        .filter_map(|u| u["codice_unita"].as_str())
        .find(|c| allora.iter().any(|a| a["codice_unita"] == *c))
        .expect("un'unità cambiata dal secondo flusso della demo")
        .to_string()
}

#[tokio::test]
async fn il_registro_alla_data_resta_aprendo_fabbricati_e_unita() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        ..Default::default()
    })
    .await;
    let b = app.come(&app.istruttore()).await;

    // The lists: every building and unit link carries the date.
    for tabella in ["unita", "fabbricati"] {
        let (s, html) = pagina(
            &b,
            &format!("/area/registro/{tabella}?ente=110001&alla_data=2018-03-01"),
        )
        .await;
        assert_eq!(s, 200);
        assert!(html.contains("Registro al 01/03/2018"), "{html}");
        let dettagli = collegamenti(&html, "/area/registro/fabbricati/110001/")
            .into_iter()
            .chain(collegamenti(&html, "/area/registro/unita/110001/"))
            .collect::<Vec<_>>();
        assert!(dettagli.len() >= 10, "{tabella}: {dettagli:?}");
        for d in &dettagli {
            assert!(d.ends_with("?alla_data=2018-03-01"), "{tabella}: {d}");
        }
    }

    // A unit changed on 09/03/2018: as of 01/03/2018 its first version, with the note.
    let codice = unita_cambiata(&app).await;
    let (s, allora) = pagina(
        &b,
        &format!("/area/registro/unita/110001/{codice}?alla_data=2018-03-01"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(allora.contains("Registro al 01/03/2018"), "{allora}");
    assert!(
        allora.contains("Dati al 01/03/2018 (valida dal 12/02/2018 al 09/03/2018"),
        "{allora}"
    );
    // Its building and the list it came from keep the date too.
    let fabbricati = collegamenti(&allora, "/area/registro/fabbricati/110001/");
    assert!(!fabbricati.is_empty());
    for f in &fabbricati {
        assert!(f.ends_with("?alla_data=2018-03-01"), "{f}");
    }
    assert!(
        allora.contains("/area/registro/unita?ente=110001&alla_data=2018-03-01"),
        "{allora}"
    );
    // The building's page on that day lists its units with the date.
    let (s, fabbricato) = pagina(&b, &fabbricati[0]).await;
    assert_eq!(s, 200);
    assert!(fabbricato.contains("Registro al 01/03/2018"));
    let sue_unita = collegamenti(&fabbricato, "/area/registro/unita/110001/");
    assert!(
        sue_unita
            .iter()
            .any(|u| u == &format!("/area/registro/unita/110001/{codice}?alla_data=2018-03-01")),
        "{sue_unita:?}"
    );

    // Today: the current version, no note, links without a date.
    let (s, oggi) = pagina(&b, &format!("/area/registro/unita/110001/{codice}")).await;
    assert_eq!(s, 200);
    assert!(!oggi.contains("Registro al "));
    assert!(
        oggi.contains("Dati attuali (valida dal 09/03/2018"),
        "{oggi}"
    );
    assert!(
        collegamenti(&oggi, "/area/registro/fabbricati/110001/")
            .iter()
            .all(|f| !f.contains("alla_data"))
    );

    // Before the first flow the unit did not exist: said plainly, last version shown.
    let (s, prima) = pagina(
        &b,
        &format!("/area/registro/unita/110001/{codice}?alla_data=2018-01-01"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        prima.contains("Quel giorno l'unità non era nel registro"),
        "{prima}"
    );
    // A malformed date is refused, not ignored.
    assert_eq!(
        b.get(&format!(
            "/area/registro/unita/110001/{codice}?alla_data=ieri"
        ))
        .await
        .status(),
        400
    );
}

/// The register's storage comes from the domains' definitions: every field of every register
/// table of every domain (`contabilita` and `programmi` too) has its column, and each table has
/// the indexes the engine uses and no others (an index more slows every merge).
#[tokio::test]
async fn ogni_campo_delle_definizioni_ha_la_sua_colonna() {
    let app = TestApp::nuova().await;
    let mut domini = std::collections::BTreeSet::new();
    for t in servizi::registro::tavole_registro() {
        let nome = t.tabella.nome;
        let (colonne, indici) = app.p.archivio_registro(nome).await.unwrap();
        for c in &t.tabella.campi {
            assert!(
                colonne.iter().any(|x| x == c.nome),
                "{nome}.{} senza colonna: {colonne:?}",
                c.nome
            );
        }
        let a = t.tavola.nome_archivio();
        let mut attesi = vec![format!("{a}_corrente"), format!("{a}_storia")];
        attesi.extend(t.def.genitore.map(|g| format!("{a}_{}", g.campo)));
        attesi.extend(t.def.indicizzati.iter().map(|c| format!("{a}_{c}")));
        attesi.extend(t.def.incrocio.map(|c| format!("{a}_{c}")));
        // The search index (issue 12): one, named after its definition (on PostgreSQL a GIN
        // index of the table, on SQLite an FTS5 table beside it).
        let ricerca = t.tavola.nome_ricerca();
        assert!(ricerca.starts_with(&format!("{a}_cerca_")), "{ricerca}");
        assert_eq!(
            app.p.db().ricerca_registro(&t.tavola).await.unwrap(),
            std::slice::from_ref(&ricerca),
            "{nome}"
        );
        let mut trovati: Vec<String> = indici
            .into_iter()
            .filter(|i| !i.ends_with("_pkey") && *i != ricerca)
            .collect();
        trovati.sort();
        attesi.sort();
        assert_eq!(trovati, attesi, "{nome}");
        domini.insert(t.dominio.nome);
    }
    assert_eq!(
        domini.into_iter().collect::<Vec<_>>(),
        ["contabilita", "patrimonio", "programmi"]
    );
    // The indexes migration 0002 wrote by hand now have the generated names (no second copy).
    let (_, indici) = app.p.archivio_registro("unita").await.unwrap();
    assert!(!indici.iter().any(|i| i == "reg_unita_fabbricato"));
}

/// The generic API serves every register table from its definition: a building as one record
/// and its history, the buildings' complexes, another domain's table (empty until its flows are
/// open), and a table asked under the wrong area is not found.
#[tokio::test]
async fn l_api_del_registro_serve_ogni_tabella() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        ..Default::default()
    })
    .await;
    let t = token_ente(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let json = |percorso: String, token: String| {
        let app = &app;
        async move {
            let r = api(app, &percorso, Some(&token)).await;
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.ok(),
            )
        }
    };
    let (s, v) = json("/api/v1/patrimonio/fabbricati?limit=1".into(), t.clone()).await;
    assert_eq!(s, 200);
    let codice = v.unwrap()[0]["codice_fabbricato"]
        .as_str()
        .unwrap()
        .replace('/', "%2F");
    let (s, uno) = json(
        format!("/api/v1/patrimonio/fabbricati/110001/{codice}"),
        t.clone(),
    )
    .await;
    assert_eq!(s, 200);
    let uno = uno.unwrap();
    assert_eq!(uno["ente"], "110001");
    assert!(uno["flusso"].is_i64(), "{uno}");
    assert!(uno["valido_al"].is_null(), "{uno}");
    let (s, storia) = json(
        format!("/api/v1/patrimonio/fabbricati/110001/{codice}/storia"),
        t.clone(),
    )
    .await;
    assert_eq!(s, 200);
    assert!(!storia.unwrap().as_array().unwrap().is_empty());
    // Before the first flow the building did not exist.
    let (s, _) = json(
        format!("/api/v1/patrimonio/fabbricati/110001/{codice}?alla_data=2018-01-01"),
        t.clone(),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = json("/api/v1/patrimonio/complessi?limit=5".into(), t.clone()).await;
    assert_eq!(s, 200);
    // A table of another area, under this one: not found.
    let (s, _) = json("/api/v1/patrimonio/interventi".into(), t.clone()).await;
    assert_eq!(s, 404);
    let (s, _) = json("/api/v1/programmi/fabbricati".into(), t.clone()).await;
    assert_eq!(s, 404);
    // The accounting register exists and answers, with the PROGRAMMI area.
    let p = token_ente(&app, "110001", &[dominio::Area::Programmi]).await;
    let (s, v) = json("/api/v1/programmi/interventi".into(), p.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(v.unwrap(), serde_json::json!([]));
    let (s, _) = json("/api/v1/patrimonio/fabbricati".into(), p).await;
    assert_eq!(s, 403);
}
