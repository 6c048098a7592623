//! The GIS service (`/ogc`, OGC API – Features): the same buildings and visibility as the
//! register API, paged by `next` links, with `bbox` and `datetime`; the public `comuni`
//! collection with its small cells suppressed; and a real OGC client, GDAL's `ogrinfo` and
//! `ogr2ogr` (Debian's `gdal-bin`), reading it. The GDAL tests are ignored on a plain
//! `cargo test` (they need the GDAL programs); `.ci/run` installs `gdal-bin` and runs them.
//!
//! Fixture: Andria's register accepted on 12/02/2018, ARCA Puglia Centrale's on 20/02/2018.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::aiuto::{Opzioni, TestApp, api};
use crate::flussi::{carica_e_accetta, flusso_demo, token};

const ANDRIA: &str = "110001";
const ARCA: &str = "ARCA-PC";

struct Dati {
    app: TestApp,
    andria: String,
    regione: String,
}

async fn dati() -> Dati {
    let app = TestApp::con(Opzioni::default()).await;
    let andria = token(&app, ANDRIA, &[dominio::Area::Patrimonio]).await;
    let arca = token(&app, ARCA, &[dominio::Area::Patrimonio]).await;
    carica_e_accetta(&app, &andria, flusso_demo(ANDRIA, 30, 0), (2018, 2, 12)).await;
    carica_e_accetta(&app, &arca, flusso_demo(ARCA, 60, 0), (2018, 2, 20)).await;
    // A register in a third province: the small province's complementary cell is this one,
    // not the province of most comuni, so some comuni stay published.
    let jonica = token(&app, "ARCA-JON", &[dominio::Area::Patrimonio]).await;
    carica_e_accetta(&app, &jonica, flusso_demo("ARCA-JON", 40, 0), (2018, 2, 26)).await;
    let regione = token(&app, "REGIONE", &[]).await;
    Dati {
        app,
        andria,
        regione,
    }
}

async fn get_json(app: &TestApp, percorso: &str, t: Option<&str>) -> (u16, Value) {
    let r = api(app, percorso, t).await;
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Every building of the register API for this token (one page of 10 000).
async fn fabbricati_api(app: &TestApp, t: &str, q: &str) -> Vec<Value> {
    let (s, v) = get_json(
        app,
        &format!("/api/v1/patrimonio/fabbricati?limit=10000{q}"),
        Some(t),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Every feature of an OGC items URL, following `next` links; returns them and the pages.
async fn tutte_le_pagine(app: &TestApp, primo: &str, t: Option<&str>) -> (Vec<Value>, usize) {
    let mut url = format!("{}{primo}", app.url);
    let mut tutte = Vec::new();
    let mut pagine = 0;
    loop {
        let mut r = reqwest::Client::new().get(&url);
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["type"], "FeatureCollection");
        let f = v["features"].as_array().unwrap();
        assert_eq!(v["numberReturned"].as_u64().unwrap() as usize, f.len());
        tutte.extend(f.iter().cloned());
        pagine += 1;
        assert!(pagine < 1000, "troppe pagine");
        let next = v["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .and_then(|l| l["href"].as_str())
            .map(str::to_string);
        match next {
            Some(n) => url = n,
            None => return (tutte, pagine),
        }
    }
}

fn id_api(b: &Value) -> String {
    format!(
        "{}.{}",
        b["ente"].as_str().unwrap(),
        b["codice_fabbricato"].as_str().unwrap()
    )
}

#[tokio::test]
async fn ogc_pagina_iniziale_conformita_e_collezioni() {
    let app = TestApp::con(Opzioni::default()).await;
    let (s, v) = get_json(&app, "/ogc", None).await;
    assert_eq!(s, 200);
    let rel: BTreeSet<&str> = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["rel"].as_str())
        .collect();
    for r in ["self", "service-desc", "conformance", "data"] {
        assert!(rel.contains(r), "{v}");
    }
    let (s, v) = get_json(&app, "/ogc/conformance", None).await;
    assert_eq!(s, 200);
    let c = v["conformsTo"].to_string();
    assert!(c.contains("ogcapi-features-1/1.0/conf/core"), "{c}");
    assert!(c.contains("ogcapi-features-1/1.0/conf/geojson"), "{c}");
    let (s, v) = get_json(&app, "/ogc/collections", None).await;
    assert_eq!(s, 200);
    let id: Vec<&str> = v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(id, ["fabbricati", "comuni"]);
    let (s, v) = get_json(&app, "/ogc/collections/fabbricati", None).await;
    assert_eq!(s, 200);
    assert!(
        v["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "items"),
        "{v}"
    );
    let (s, v) = get_json(&app, "/ogc/api", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["openapi"], "3.0.3");
    assert_eq!(get_json(&app, "/ogc/collections/unita", None).await.0, 404);
    assert_eq!(
        get_json(&app, "/ogc/collections/nessuna/items", None)
            .await
            .0,
        404
    );
}

/// `fabbricati` is the register API's buildings in GeoJSON: the same records for each token,
/// reserved without one, paged, filtered by `bbox`, "as of" with `datetime`.
#[tokio::test]
async fn ogc_fabbricati_come_l_api_con_pagine_bbox_e_data() {
    let Dati {
        app,
        andria,
        regione,
    } = dati().await;
    let items = "/ogc/collections/fabbricati/items";

    // Reserved: 401 without a token or with a bad one, before anything is read.
    for t in [None, Some("non-un-token")] {
        let r = api(&app, items, t).await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    assert_eq!(
        api(&app, &format!("{items}/{ANDRIA}.X"), None)
            .await
            .status(),
        401
    );

    // The Region: every building, over several pages, exactly the API's.
    let tutti_api = fabbricati_api(&app, &regione, "").await;
    assert!(tutti_api.len() > 10, "{}", tutti_api.len());
    let (tutti, pagine) = tutte_le_pagine(&app, &format!("{items}?limit=3"), Some(&regione)).await;
    assert!(pagine > 3, "{pagine}");
    let id_ogc: Vec<String> = tutti
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let unici: BTreeSet<&String> = id_ogc.iter().collect();
    assert_eq!(unici.len(), id_ogc.len(), "nessun fabbricato due volte");
    let attesi: BTreeSet<String> = tutti_api.iter().map(id_api).collect();
    assert_eq!(unici.into_iter().cloned().collect::<BTreeSet<_>>(), attesi);

    // Every field of the register, typed: coordinates as numbers and as the geometry.
    let per_id: BTreeMap<String, &Value> = tutti_api.iter().map(|b| (id_api(b), b)).collect();
    for f in &tutti {
        let b = per_id[f["id"].as_str().unwrap()];
        let p = &f["properties"];
        for (k, v) in b.as_object().unwrap() {
            match (v, &p[k]) {
                (Value::String(a), Value::Number(n)) => {
                    assert_eq!(a.parse::<f64>().unwrap(), n.as_f64().unwrap(), "{k}")
                }
                (a, b) => assert_eq!(a, b, "{k}"),
            }
        }
        if let (Some(lat), Some(lon)) = (b["latitudine"].as_str(), b["longitudine"].as_str()) {
            assert_eq!(
                f["geometry"]["coordinates"],
                serde_json::json!([lon.parse::<f64>().unwrap(), lat.parse::<f64>().unwrap()])
            );
            assert!(p["latitudine"].is_f64(), "{p}");
        }
    }

    // An entity's token: its own buildings only, like the API.
    let (propri, _) = tutte_le_pagine(&app, &format!("{items}?limit=1000"), Some(&andria)).await;
    assert_eq!(propri.len(), fabbricati_api(&app, &andria, "").await.len());
    assert!(propri.iter().all(|f| f["properties"]["ente"] == ANDRIA));
    let arca: Vec<&Value> = tutti
        .iter()
        .filter(|f| f["properties"]["ente"] == ARCA)
        .collect();
    assert!(!arca.is_empty());
    let altrui = format!(
        "{items}/{}",
        arca[0]["id"].as_str().unwrap().replace('/', "%2F")
    );
    assert_eq!(api(&app, &altrui, Some(&andria)).await.status(), 404);
    let (s, uno) = get_json(&app, &altrui, Some(&regione)).await;
    assert_eq!(s, 200);
    assert_eq!(uno["properties"], arca[0]["properties"]);
    let (s, _) = get_json(&app, &format!("{items}?ente={ARCA}"), Some(&andria)).await;
    assert_ne!(s, 200, "un ente non legge i fabbricati di un altro");

    // bbox: around one building it is found, and everything returned is inside.
    let punto = arca[0]["geometry"]["coordinates"].as_array().unwrap();
    let (lon, lat) = (punto[0].as_f64().unwrap(), punto[1].as_f64().unwrap());
    let bbox = format!(
        "{},{},{},{}",
        lon - 0.01,
        lat - 0.01,
        lon + 0.01,
        lat + 0.01
    );
    let (dentro, _) = tutte_le_pagine(
        &app,
        &format!("{items}?bbox={bbox}&limit=5"),
        Some(&regione),
    )
    .await;
    assert!(dentro.iter().any(|f| f["id"] == arca[0]["id"]));
    let attesi_dentro = tutti
        .iter()
        .filter(|f| {
            let c = f["geometry"]["coordinates"].as_array();
            c.is_some_and(|c| {
                let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                (lon - 0.01..=lon + 0.01).contains(&x) && (lat - 0.01..=lat + 0.01).contains(&y)
            })
        })
        .count();
    assert_eq!(dentro.len(), attesi_dentro);
    let (lontano, _) =
        tutte_le_pagine(&app, &format!("{items}?bbox=0,0,1,1"), Some(&regione)).await;
    assert!(lontano.is_empty());

    // datetime: on 15/02/2018 only Andria's register had been accepted.
    let (allora, _) = tutte_le_pagine(
        &app,
        &format!("{items}?datetime=2018-02-15&limit=1000"),
        Some(&regione),
    )
    .await;
    assert_eq!(
        allora.len(),
        fabbricati_api(&app, &regione, "&alla_data=2018-02-15")
            .await
            .len()
    );
    assert!(!allora.is_empty());
    assert!(allora.iter().all(|f| f["properties"]["ente"] == ANDRIA));
    let (s, _) = get_json(
        &app,
        &format!("{altrui}?datetime=2018-02-15"),
        Some(&regione),
    )
    .await;
    assert_eq!(s, 404, "il fabbricato dell'ARCA non esisteva ancora");

    // Hostile or unknown parameters: 400 with an Italian problem.
    for q in [
        "limit=0",
        "limit=10001",
        "bbox=1,2,3",
        "bbox=17,41,16,40",
        "datetime=2018-01-01/2018-03-01",
        "cursor=xyz",
        "colore=rosso",
    ] {
        let (s, v) = get_json(&app, &format!("{items}?{q}"), Some(&regione)).await;
        assert_eq!(s, 400, "{q}: {v}");
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
    }
}

/// `comuni`: public counts per Comune that match the register, never a figure about fewer
/// than 5 units, and no point for a suppressed Comune.
#[tokio::test]
async fn ogc_comuni_pubblici_con_celle_soppresse() {
    let Dati { app, regione, .. } = dati().await;
    // By hand, from the register API: buildings and units per Comune.
    let fabbricati = fabbricati_api(&app, &regione, "").await;
    let comune_di: BTreeMap<(String, String), String> = fabbricati
        .iter()
        .map(|b| {
            (
                (
                    b["ente"].as_str().unwrap().to_string(),
                    b["codice_fabbricato"].as_str().unwrap().to_string(),
                ),
                b["comune_istat"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut attesi: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for c in comune_di.values() {
        attesi.entry(c.clone()).or_default().0 += 1;
    }
    let (s, unita) = get_json(&app, "/api/v1/patrimonio/unita?limit=10000", Some(&regione)).await;
    assert_eq!(s, 200);
    for u in unita.as_array().unwrap() {
        let k = (
            u["ente"].as_str().unwrap().to_string(),
            u["codice_fabbricato"].as_str().unwrap().to_string(),
        );
        attesi.get_mut(&comune_di[&k]).unwrap().1 += 1;
    }
    let (comuni, _) = tutte_le_pagine(&app, "/ogc/collections/comuni/items?limit=3", None).await;
    let pubblicati: BTreeMap<String, &Value> = comuni
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_string(), f))
        .collect();
    assert_eq!(
        pubblicati.keys().collect::<Vec<_>>(),
        attesi.keys().collect::<Vec<_>>()
    );
    let (mut soppressi, mut pubblici, mut senza_punto) = (0, 0, 0);
    for (c, (nf, nu)) in &attesi {
        let p = &pubblicati[c]["properties"];
        if *nu < 5 {
            soppressi += 1;
            assert_eq!(p["soppresso"], true, "{c}: {p}");
            assert!(
                p["unita"].is_null() && p["fabbricati"].is_null(),
                "{c}: {p}"
            );
            assert!(pubblicati[c]["geometry"].is_null(), "{c}");
        } else if p["soppresso"] == false {
            pubblici += 1;
            assert_eq!(p["unita"], *nu, "{c}");
            assert_eq!(p["fabbricati"], *nf, "{c}");
            // A point only over 5 buildings or more: over fewer, their mean comes close to
            // one building's position.
            if *nf >= 5 {
                assert_eq!(pubblicati[c]["geometry"]["type"], "Point", "{c}");
            } else {
                senza_punto += 1;
                assert!(pubblicati[c]["geometry"].is_null(), "{c}: {nf} fabbricati");
            }
        }
        assert!(p["nome"].as_str().is_some_and(|n| !n.is_empty()), "{p}");
    }
    assert!(soppressi > 0 && pubblici > 0, "{soppressi} {pubblici}");
    assert!(
        senza_punto > 0 && pubblici > senza_punto,
        "{pubblici} {senza_punto}"
    );
    // As of a date before ARCA's register: Andria only.
    let (allora, _) = tutte_le_pagine(
        &app,
        "/ogc/collections/comuni/items?datetime=2018-02-15",
        None,
    )
    .await;
    assert!(!allora.is_empty());
    assert!(allora.iter().all(|f| f["id"] == ANDRIA), "{allora:?}");
    let (s, uno) = get_json(
        &app,
        &format!("/ogc/collections/comuni/items/{ANDRIA}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(uno["properties"]["comune_istat"], ANDRIA);
}

// ---------------------------------------------------------------------------------------------
// A real OGC client: GDAL
// ---------------------------------------------------------------------------------------------

/// Runs a GDAL program (off the async runtime) with the token, if any, as GDAL sends it.
async fn gdal(programma: &str, args: Vec<String>, t: Option<String>) -> std::process::Output {
    let programma = programma.to_string();
    tokio::task::spawn_blocking(move || {
        let mut c = std::process::Command::new(&programma);
        c.args(&args)
            .env("GDAL_HTTP_TIMEOUT", "60")
            .env_remove("GDAL_HTTP_HEADERS");
        if let Some(t) = t {
            c.env("GDAL_HTTP_HEADERS", format!("Authorization: Bearer {t}"));
        }
        c.output()
            .unwrap_or_else(|e| panic!("{programma} non eseguibile (pacchetto gdal-bin): {e}"))
    })
    .await
    .unwrap()
}

#[tokio::test]
#[ignore = "richiede GDAL (ogrinfo, pacchetto gdal-bin): lo esegue .ci/run"]
async fn ogc_gdal_ogrinfo_elenca_le_collezioni() {
    let Dati { app, .. } = dati().await;
    let o = gdal(
        "ogrinfo",
        vec!["-ro".into(), "-q".into(), format!("OAPIF:{}/ogc", app.url)],
        None,
    )
    .await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("fabbricati"), "{out}");
    assert!(out.contains("comuni"), "{out}");
}

#[tokio::test]
#[ignore = "richiede GDAL (ogr2ogr, pacchetto gdal-bin): lo esegue .ci/run"]
async fn ogc_gdal_legge_ogni_fabbricato_con_token() {
    let Dati {
        app,
        andria,
        regione,
    } = dati().await;
    for t in [&regione, &andria] {
        let o = gdal(
            "ogr2ogr",
            vec![
                "-f".into(),
                "GeoJSON".into(),
                "/vsistdout/".into(),
                format!("OAPIF:{}/ogc", app.url),
                "fabbricati".into(),
            ],
            Some(t.clone()),
        )
        .await;
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let letto: Value = serde_json::from_slice(&o.stdout).expect("GeoJSON di ogr2ogr");
        let letti = letto["features"].as_array().unwrap();
        let attesi = fabbricati_api(&app, t, "").await;
        assert_eq!(letti.len(), attesi.len());
        let per_id: BTreeMap<String, &Value> = attesi.iter().map(|b| (id_api(b), b)).collect();
        for f in letti {
            let p = &f["properties"];
            let id = format!(
                "{}.{}",
                p["ente"].as_str().unwrap(),
                p["codice_fabbricato"].as_str().unwrap()
            );
            let b = per_id.get(&id).unwrap_or_else(|| panic!("{id} non atteso"));
            // Every attribute of the register reaches the GIS, with its value.
            for (k, v) in b.as_object().unwrap() {
                match (v, &p[k]) {
                    (Value::Null, x) => assert!(x.is_null(), "{id} {k}: {x}"),
                    (Value::String(a), Value::Number(n)) => {
                        assert_eq!(a.parse::<f64>().unwrap(), n.as_f64().unwrap(), "{id} {k}")
                    }
                    (a, x) => assert_eq!(a, x, "{id} {k}"),
                }
            }
            assert_eq!(f["geometry"]["type"], "Point", "{id}");
        }
    }
}

#[tokio::test]
#[ignore = "richiede GDAL (ogr2ogr, pacchetto gdal-bin): lo esegue .ci/run"]
async fn ogc_gdal_senza_token_fabbricati_non_leggibile() {
    let Dati { app, .. } = dati().await;
    let o = gdal(
        "ogr2ogr",
        vec![
            "-f".into(),
            "GeoJSON".into(),
            "/vsistdout/".into(),
            format!("OAPIF:{}/ogc", app.url),
            "fabbricati".into(),
        ],
        None,
    )
    .await;
    let out = String::from_utf8_lossy(&o.stdout);
    let letti = serde_json::from_slice::<Value>(&o.stdout)
        .ok()
        .and_then(|v| v["features"].as_array().map(Vec::len))
        .unwrap_or(0);
    assert!(
        !o.status.success() && letti == 0,
        "senza token GDAL non deve leggere fabbricati: {out}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The public collection is read by the same client without a token.
    let o = gdal(
        "ogr2ogr",
        vec![
            "-f".into(),
            "GeoJSON".into(),
            "/vsistdout/".into(),
            format!("OAPIF:{}/ogc", app.url),
            "comuni".into(),
        ],
        None,
    )
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!v["features"].as_array().unwrap().is_empty());
}
