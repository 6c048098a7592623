//! What the public sees of the platform's data: the privacy notice tells the truth about map
//! tiles (none by default; the configured server named when there is one).

use servizi::config::Strato;

use crate::aiuto::{Opzioni, TestApp, senza_escape};

#[tokio::test]
async fn privacy_e_tessere_della_mappa() {
    // Default: no tile server, so no third party, and the CSP allows images from here only.
    let app = TestApp::con(Opzioni::default()).await;
    let r = app.browser().get("/privacy").await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    let html = senza_escape(&r.text().await.unwrap());
    assert!(
        html.contains("il browser non contatta servizi di terzi"),
        "{html}"
    );
    assert!(!html.contains("openstreetmap"));

    // A configured tile server: named on the privacy page, allowed by the CSP.
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            tile_url: Some(servizi::config::TILE_OSM.into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let r = app.browser().get("/privacy").await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("https://tile.openstreetmap.org"), "{csp}");
    let html = senza_escape(&r.text().await.unwrap());
    assert!(html.contains("tile.openstreetmap.org"), "{html}");
    assert!(html.contains("indirizzo IP"), "{html}");
}

// ---------------------------------------------------------------------------------------------
// Open data and the public dashboard
// ---------------------------------------------------------------------------------------------

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;

use crate::flussi::{carica_e_accetta, flusso_demo, token};

const ANDRIA: &str = "110001";
const ARCA: &str = "ARCA-PC";

/// Andria's register accepted on 12/02/2018, ARCA Puglia Centrale's on 20/02/2018; returns
/// the app and a Region token.
async fn con_registro() -> (TestApp, String) {
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
    (app, regione)
}

async fn api_json(app: &TestApp, percorso: &str, t: &str) -> Vec<Value> {
    let r = crate::aiuto::api(app, percorso, Some(t)).await;
    assert_eq!(r.status(), 200, "{percorso}");
    r.json::<Vec<Value>>().await.unwrap()
}

/// Units per Comune, counted by hand from the register API.
async fn unita_per_comune(app: &TestApp, regione: &str) -> BTreeMap<String, i64> {
    let fabbricati = api_json(app, "/api/v1/patrimonio/fabbricati?limit=10000", regione).await;
    let comune: BTreeMap<(String, String), String> = fabbricati
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
    let mut n: BTreeMap<String, i64> = BTreeMap::new();
    for u in api_json(app, "/api/v1/patrimonio/unita?limit=10000", regione).await {
        let k = (
            u["ente"].as_str().unwrap().to_string(),
            u["codice_fabbricato"].as_str().unwrap().to_string(),
        );
        *n.entry(comune[&k].clone()).or_default() += 1;
    }
    n
}

/// The rows of a CSV (the platform writes no quoted commas in these datasets' codes).
fn righe_csv(testo: &str) -> Vec<Vec<String>> {
    testo
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(',')
                .map(|c| c.trim_matches('"').to_string())
                .collect()
        })
        .collect()
}

/// The catalogue is JSON-LD whose compact IRIs all expand through its context; every dataset
/// has a licence CC BY 4.0, a "last updated" date, and distributions that download without
/// login: the CSVs with the descriptor's columns, the descriptors as JSON. The Atom feed lists
/// the releases. The comuni CSV never shows a figure about fewer than 5 units.
#[tokio::test]
async fn dati_aperti_catalogo_distribuzioni_e_rilasci() {
    let (app, regione) = con_registro().await;
    let anonimo = reqwest::Client::new();
    let r = anonimo
        .get(format!("{}/opendata/catalogo.jsonld", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/ld+json");
    let c: Value = r.json().await.unwrap();
    let contesto = c["@context"].as_object().expect("@context");
    // Every compact IRI (prefix:name) in keys and in @type uses a prefix of the context.
    fn prefissi(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if let Some((p, _)) = k.split_once(':')
                        && !k.starts_with('@')
                    {
                        out.insert(p.to_string());
                    }
                    if k == "@type" {
                        for t in x.as_array().cloned().unwrap_or_else(|| vec![x.clone()]) {
                            if let Some((p, _)) = t.as_str().and_then(|t| t.split_once(':')) {
                                out.insert(p.to_string());
                            }
                        }
                    }
                    prefissi(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| prefissi(x, out)),
            _ => {}
        }
    }
    let mut usati = BTreeSet::new();
    prefissi(&c["@graph"], &mut usati);
    for p in &usati {
        if !p.starts_with("http") {
            assert!(contesto.contains_key(p), "prefisso {p} senza @context");
        }
    }
    let grafo = c["@graph"].as_array().unwrap();
    let tipo = |n: &Value, t: &str| {
        n["@type"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == t))
    };
    let catalogo = grafo
        .iter()
        .find(|n| tipo(n, "dcat:Catalog"))
        .expect("dcat:Catalog");
    let dataset: Vec<&Value> = grafo.iter().filter(|n| tipo(n, "dcat:Dataset")).collect();
    assert_eq!(dataset.len(), servizi::dati_aperti::DATASET.len());
    assert_eq!(
        catalogo["dcat:dataset"].as_array().unwrap().len(),
        dataset.len()
    );
    let mut csv_scaricati = BTreeMap::new();
    for d in &dataset {
        assert!(d["dct:modified"]["@value"].as_str().is_some(), "{d}");
        assert!(tipo(d, "dcatapit:Dataset"));
        let distribuzioni = d["dcat:distribution"].as_array().unwrap();
        assert!(!distribuzioni.is_empty());
        for x in distribuzioni {
            assert_eq!(
                x["dct:license"]["@id"],
                "https://creativecommons.org/licenses/by/4.0/"
            );
            let u = x["dcat:downloadURL"]["@id"].as_str().unwrap();
            assert!(u.starts_with(&app.url), "{u}");
            let r = anonimo.get(u).send().await.unwrap();
            assert_eq!(r.status(), 200, "{u}");
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            let testo = r.text().await.unwrap();
            match x["dcat:mediaType"].as_str() {
                Some("text/csv") => {
                    assert!(ct.starts_with("text/csv"), "{ct}");
                    csv_scaricati.insert(u.to_string(), testo);
                }
                _ => {
                    let desc: Value = serde_json::from_str(&testo).expect("descrittore JSON");
                    assert_eq!(desc["profile"], "tabular-data-package");
                    assert_eq!(desc["licenses"][0]["name"], "CC-BY-4.0");
                    let risorsa = &desc["resources"][0];
                    let campi: Vec<&str> = risorsa["schema"]["fields"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f["name"].as_str().unwrap())
                        .collect();
                    // The CSV the descriptor points to has exactly these columns.
                    let csv = anonimo
                        .get(risorsa["path"].as_str().unwrap())
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap();
                    assert_eq!(righe_csv(&csv)[0], campi, "{u}");
                    for f in risorsa["schema"]["fields"].as_array().unwrap() {
                        if f["type"] == "number" {
                            assert_eq!(f["decimalChar"], ".", "{f}");
                        }
                    }
                }
            }
        }
    }
    assert_eq!(csv_scaricati.len(), servizi::dati_aperti::DATASET.len());

    // The comuni: against the hand counts, suppressed under 5 units.
    let attesi = unita_per_comune(&app, &regione).await;
    let comuni = &csv_scaricati[&format!("{}/opendata/patrimonio-comuni.csv", app.url)];
    let righe = righe_csv(comuni);
    let testa = &righe[0];
    let col = |n: &str| testa.iter().position(|c| c == n).unwrap();
    let (mut soppressi, mut pubblicati) = (0, 0);
    for r in &righe[1..] {
        let n = attesi.get(&r[col("comune_istat")]).copied().unwrap_or(0);
        if r[col("soppresso")] == "true" {
            soppressi += 1;
            assert_eq!(r[col("unita")], "", "{r:?}");
        } else {
            pubblicati += 1;
            assert!(n >= 5, "{r:?}");
            assert_eq!(r[col("unita")], n.to_string(), "{r:?}");
        }
        if n < 5 {
            assert_eq!(r[col("soppresso")], "true", "{r:?}");
        }
    }
    let nel_csv: BTreeSet<&str> = righe[1..]
        .iter()
        .map(|r| r[col("comune_istat")].as_str())
        .collect();
    assert!(
        attesi.keys().all(|c| nel_csv.contains(c.as_str())),
        "{nel_csv:?}"
    );
    assert!(soppressi > 0 && pubblicati > 0, "{soppressi} {pubblicati}");

    // Releases: one entry per day and domain of acceptance.
    let r = anonimo
        .get(format!("{}/opendata/rilasci.atom", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let atom = r.text().await.unwrap();
    assert!(
        atom.starts_with("<?xml") && atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\"")
    );
    assert!(
        atom.contains("<entry>") && atom.contains("aggiornamento del patrimonio"),
        "{atom}"
    );
    assert!(atom.contains("per 3 enti"), "{atom}");

    // The human page: every dataset with its "last updated" date and its links.
    let (s, html) = app.browser().testo("/opendata").await;
    assert_eq!(s, 200);
    let html = senza_escape(&html);
    let oggi = app.p.orologio.oggi().format("%d/%m/%Y").to_string();
    for d in servizi::dati_aperti::DATASET {
        assert!(
            html.contains(&format!("/opendata/{}.csv", d.id)),
            "{}",
            d.id
        );
    }
    assert!(
        html.contains(&format!("Ultimo aggiornamento: <strong>{oggi}")),
        "{html}"
    );
}

/// The public dashboard: no login, figures and charts, suppressed cells marked.
#[tokio::test]
async fn cruscotto_pubblico_senza_accesso_con_celle_soppresse() {
    let (app, _) = con_registro().await;
    let (s, html) = app.browser().testo("/dati").await;
    assert_eq!(s, 200);
    let html = senza_escape(&html);
    assert!(html.contains("Patrimonio per provincia"));
    assert!(html.contains("<svg"), "i grafici");
    assert!(html.contains("Stato di occupazione"));
    assert!(html.contains("Finanziamenti per programma"));
    assert!(html.contains("Provincia di Bari"), "{html}");
    assert!(
        html.contains("class=\"soppresso\">soppresso"),
        "celle soppresse segnate"
    );
    // The same "as of a day" as the Region's dashboard: a GET form with a date input.
    assert!(html.contains("id=\"dati-alla-data\""), "{html}");
    assert!(html.contains("<label for=\"alla_data\" class=\"active\">Dati al giorno</label>"));
    assert!(!html.contains("Torna a oggi"));
    let oggi = app.p.orologio.oggi();
    assert!(html.contains(&format!("max=\"{}\"", oggi.format("%Y-%m-%d"))));
    // 15/02/2018: only Andria's register (12/02), fewer units than today.
    let giorno = chrono::NaiveDate::from_ymd_opt(2018, 2, 15).unwrap();
    let allora = app.p.cruscotto_pubblico(Some(giorno)).await.unwrap();
    let adesso = app.p.cruscotto_pubblico(None).await.unwrap();
    let unita = |c: &servizi::cruscotto::CruscottoPubblico| *c.unita.valore().unwrap();
    assert!(unita(&allora) < unita(&adesso));
    for percorso in ["/dati?alla_data=2018-02-15", "/dati?al=15/02/2018"] {
        let (s, h) = app.browser().testo(percorso).await;
        assert_eq!(s, 200, "{h}");
        let h = senza_escape(&h);
        assert!(h.contains("<strong>al 15/02/2018</strong>"), "{h}");
        assert!(h.contains("value=\"2018-02-15\""), "{h}");
        assert!(h.contains("<a class=\"btn btn-link\" href=\"/dati\">Torna a oggi</a>"));
        assert!(
            h.contains(&format!(
                "<strong>{}</strong>",
                dominio::numeri::intero_it(unita(&allora))
            )),
            "{h}"
        );
    }
    // Today asked by date is today's page.
    let (s, h) = app
        .browser()
        .testo(&format!("/dati?alla_data={}", oggi.format("%Y-%m-%d")))
        .await;
    assert_eq!(s, 200);
    assert!(!h.contains("Torna a oggi"));
    // A date that does not exist, or is after today: a clear refusal, not an error.
    let (s, h) = app.browser().testo("/dati?alla_data=2018-02-31").await;
    assert_eq!(s, 400, "{h}");
    assert!(h.contains("non è valida"), "{h}");
    let domani = oggi.succ_opt().unwrap();
    let (s, h) = app
        .browser()
        .testo(&format!("/dati?alla_data={}", domani.format("%Y-%m-%d")))
        .await;
    assert_eq!(s, 400, "{h}");
    let h = senza_escape(&h);
    assert!(
        h.contains(&format!("La data {} è futura", domani.format("%d/%m/%Y"))),
        "{h}"
    );
}

/// A codice fiscale as the regex of the issue sees it (16 characters, omocodia letters too).
fn ha_codice_fiscale(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let lettera = |c: u8| c.is_ascii_uppercase();
    let cifra = |c: u8| c.is_ascii_digit() || b"LMNPQRSTUV".contains(&c);
    (0..b.len().saturating_sub(15)).find_map(|i| {
        let w = &b[i..i + 16];
        let bordo = |j: usize| j >= b.len() || !b[j].is_ascii_alphanumeric();
        let ok = w[..6].iter().all(|c| lettera(*c))
            && cifra(w[6])
            && cifra(w[7])
            && lettera(w[8])
            && cifra(w[9])
            && cifra(w[10])
            && lettera(w[11])
            && w[12..15].iter().all(|c| cifra(*c))
            && lettera(w[15])
            && (i == 0 || bordo(i - 1))
            && bordo(i + 16);
        ok.then(|| String::from_utf8_lossy(w).into_owned())
    })
}

/// Whether `codice` appears in `s` as a whole token.
fn contiene_codice(s: &str, codice: &str) -> bool {
    s.match_indices(codice).any(|(i, _)| {
        let prima = s[..i].chars().next_back();
        let dopo = s[i + codice.len()..].chars().next();
        let separa =
            |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '-' && c != '/');
        separa(prima) && separa(dopo)
    })
}

/// Same-origin links of a page or JSON document.
fn collegamenti(base: &str, testo: &str) -> Vec<String> {
    let mut v = Vec::new();
    for pezzo in testo.split("href=\"").skip(1) {
        if let Some(h) = pezzo.split('"').next() {
            v.push(h.replace("&amp;", "&").replace("&#x2f;", "/"));
        }
    }
    if let Ok(j) = serde_json::from_str::<Value>(testo) {
        fn raccogli(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        if (k == "href" || k == "@id" || k == "path")
                            && let Some(s) = x.as_str()
                        {
                            out.push(s.to_string());
                        }
                        raccogli(x, out);
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| raccogli(x, out)),
                _ => {}
            }
        }
        raccogli(&j, &mut v);
    }
    v.into_iter()
        .filter_map(|h| {
            let h = h.strip_prefix(base).map(str::to_string).unwrap_or(h);
            (h.starts_with('/') && !h.starts_with("//"))
                .then(|| h.split('#').next().unwrap_or_default().to_string())
        })
        .filter(|h| !h.is_empty())
        .collect()
}

/// Everything the public can reach without login (from the home page, the open-data catalogue
/// and the GIS service's public collection), fetched and searched: no codice fiscale and no
/// unit code of the fixture appears anywhere.
#[tokio::test]
async fn nessun_codice_fiscale_ne_codice_unita_nelle_risposte_pubbliche() {
    let (app, regione) = con_registro().await;
    let codici: BTreeSet<String> = api_json(&app, "/api/v1/patrimonio/unita?limit=10000", &regione)
        .await
        .iter()
        .map(|u| u["codice_unita"].as_str().unwrap().to_string())
        .collect();
    assert!(codici.len() >= 50, "{}", codici.len());
    let anonimo = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut coda: VecDeque<String> = [
        "/",
        "/dati",
        "/opendata",
        "/opendata/catalogo.jsonld",
        "/opendata/rilasci.atom",
        "/ogc",
        "/ogc/collections/comuni/items?limit=10000",
        "/api/v1/enti",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut visti: BTreeSet<String> = coda.iter().cloned().collect();
    let mut letti = 0;
    while let Some(p) = coda.pop_front() {
        let r = anonimo.get(format!("{}{p}", app.url)).send().await.unwrap();
        let s = r.status().as_u16();
        if s != 200 {
            // Reserved pages send the anonymous visitor to the login; nothing else is read.
            assert!(matches!(s, 303 | 401 | 404 | 400), "{p}: {s}");
            continue;
        }
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let byte = r.bytes().await.unwrap();
        letti += 1;
        // Binary downloads (templates, images): only text is searched.
        let Ok(testo) = std::str::from_utf8(&byte) else {
            continue;
        };
        if let Some(cf) = ha_codice_fiscale(testo) {
            panic!("{p} ({ct}) contiene un codice fiscale: {cf}");
        }
        for c in &codici {
            assert!(
                !contiene_codice(testo, c),
                "{p} ({ct}) contiene il codice di unità {c}"
            );
        }
        if ct.starts_with("text/html") || ct.contains("json") || ct.contains("xml") {
            for l in collegamenti(&app.url, testo) {
                let escluso = l.starts_with("/static/")
                    || l.starts_with("/area")
                    || l.starts_with("/accesso")
                    || l.starts_with("/esci")
                    || l.starts_with("/sviluppo");
                if !escluso && visti.len() < 400 && visti.insert(l.clone()) {
                    coda.push_back(l);
                }
            }
        }
    }
    assert!(letti > 30, "pagine lette: {letti}");
    for atteso in [
        "/opendata/patrimonio-comuni.csv",
        "/opendata/occupazione-unita/datapackage.json",
        "/ogc/collections/comuni",
        "/documentazione",
    ] {
        assert!(
            visti.iter().any(|v| v.starts_with(atteso)),
            "{atteso} non raggiunto"
        );
    }
}

#[test]
fn il_riconoscitore_di_codici_fiscali_funziona() {
    assert_eq!(
        ha_codice_fiscale("x RSSMRA80A01H501U y").as_deref(),
        Some("RSSMRA80A01H501U")
    );
    assert!(ha_codice_fiscale("RSSMRA80A01H501").is_none());
    assert!(ha_codice_fiscale("ARSSMRA80A01H501U").is_none());
    assert!(ha_codice_fiscale("MRTXXX10A01A66LK").is_some(), "omocodia");
    assert!(contiene_codice("a U0001;", "U0001"));
    assert!(!contiene_codice("U00012", "U0001"));
}
