//! The public's figures, without login: the public dashboard (`/dati`), the open-data page
//! (`/opendata`), the DCAT-AP_IT catalogue (`/opendata/catalogo.jsonld`), one CSV and one
//! Frictionless descriptor per dataset (`/opendata/<id>.csv`, `/opendata/<id>/datapackage.json`)
//! and the Atom feed of releases (`/opendata/rilasci.atom`). The datasets and their figures are
//! `servizi::dati_aperti` (the public dashboard's suppressed cells); this module only writes
//! them in each format. Everything here is behind [`crate::freno::limita_pubblico`].

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use dominio::Importo;
use flussi::scrivi_csv::ScrittoreCsv;
use minijinja::context;
use serde_json::{Value, json};
use servizi::ErroreServizio;
use servizi::cruscotto::{Cella, CruscottoPubblico};
use servizi::dati_aperti::{DATASET, Dataset, LICENZA_ID, LICENZA_NOME, LICENZA_URL, dataset};

use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::{ErroreApi, ErrorePagina};
use crate::estrattori::{Path, Query};
use crate::grafici::barre::{Barra, GraficoBarre};
use crate::modelli::pagina;
use crate::pagine::cruscotto::{Giorno, leggi_giorno};
use crate::rotte::{Rotte, get};

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/dati", get(cruscotto_pubblico))
        .route("/opendata", get(indice))
        .route("/opendata/catalogo.jsonld", get(catalogo))
        .route("/opendata/rilasci.atom", get(rilasci))
        .route("/opendata/{file}", get(csv))
        .route("/opendata/{id}/datapackage.json", get(descrittore))
}

fn url(st: &Stato, percorso: &str) -> Result<String, ErroreServizio> {
    st.p.config
        .base_url
        .join(percorso)
        .map(|u| u.to_string())
        .map_err(|e| ErroreServizio::Interno(e.to_string()))
}

fn url_csv(st: &Stato, d: &Dataset) -> Result<String, ErroreServizio> {
    url(st, &format!("/opendata/{}.csv", d.id))
}

fn url_descrittore(st: &Stato, d: &Dataset) -> Result<String, ErroreServizio> {
    url(st, &format!("/opendata/{}/datapackage.json", d.id))
}

fn giorno(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| dominio::orologio::oggi_a(t).format("%Y-%m-%d").to_string())
}

fn intero(n: i64) -> String {
    crate::formati::intero(n)
}

fn euro(c: i64) -> String {
    Importo::da_centesimi(c).italiano()
}

fn valore(c: &Cella<i64>) -> i64 {
    c.valore().copied().unwrap_or(0)
}

fn cent(c: &Cella<Importo>) -> i64 {
    c.valore().map(|i| i.centesimi()).unwrap_or(0)
}

/// The dashboard's charts (each with its data table), suppressed cells marked.
fn grafici(c: &CruscottoPubblico) -> Vec<String> {
    let n = &intero as &dyn Fn(i64) -> String;
    let e = &euro as &dyn Fn(i64) -> String;
    vec![
        GraficoBarre {
            id: "pubblico-province",
            titolo: "Patrimonio per provincia",
            categoria: "Provincia",
            serie: vec!["Fabbricati".into(), "Unità immobiliari".into()],
            barre: c
                .per_provincia
                .iter()
                .map(|p| Barra {
                    etichetta: p.nome.clone(),
                    valori: vec![valore(&p.fabbricati), valore(&p.unita)],
                    link: Some(format!("#comuni-{}", p.codice)),
                    soppressa: p.unita.soppressa(),
                })
                .collect(),
            formato: n,
        }
        .html(),
        GraficoBarre {
            id: "pubblico-occupazione",
            titolo: "Unità immobiliari per stato di occupazione",
            categoria: "Stato di occupazione",
            serie: vec!["Unità immobiliari".into()],
            barre: c
                .occupazione
                .iter()
                .map(|q| Barra {
                    etichetta: match q.quota.valore() {
                        Some(p) => format!("{} ({})", q.etichetta, p.italiano()),
                        None => q.etichetta.clone(),
                    },
                    valori: vec![valore(&q.unita)],
                    link: None,
                    soppressa: q.unita.soppressa(),
                })
                .collect(),
            formato: n,
        }
        .html(),
        GraficoBarre {
            id: "pubblico-programmi",
            titolo: "Finanziamenti per programma",
            categoria: "Programma",
            serie: vec!["Finanziato".into(), "Erogato".into(), "Pagato".into()],
            barre: c
                .per_programma
                .iter()
                .map(|f| Barra {
                    etichetta: f.etichetta.clone(),
                    valori: vec![cent(&f.finanziato), cent(&f.erogato), cent(&f.pagato)],
                    link: None,
                    soppressa: f.finanziato.soppressa(),
                })
                .collect(),
            formato: e,
        }
        .html(),
    ]
}

/// `GET /dati`: the public dashboard, today or as of a past day (`?alla_data=AAAA-MM-GG` from
/// the date input, or `?al=GG/MM/AAAA`, as the Region's dashboard; a day to come is refused,
/// [`leggi_giorno`]).
pub async fn cruscotto_pubblico(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<Giorno>,
) -> Result<Html<String>, ErrorePagina> {
    let oggi = st.p.orologio.oggi();
    let alla = leggi_giorno(&q, oggi)?;
    let c = st.p.cruscotto_pubblico(alla).await?;
    let g = grafici(&c);
    let comuni: Vec<Value> = c
        .per_comune
        .iter()
        .map(|s| {
            json!({
                "codice": s.codice, "nome": s.nome, "provincia": s.provincia,
                "soppresso": s.unita.soppressa(),
                "complessi": s.complessi.valore(), "fabbricati": s.fabbricati.valore(),
                "unita": s.unita.valore(),
            })
        })
        .collect();
    let province: Vec<Value> = c
        .per_provincia
        .iter()
        .map(|p| {
            let mut v: Vec<&Value> = comuni
                .iter()
                .filter(|x| x["provincia"] == p.codice.as_str())
                .collect();
            v.sort_by(|a, b| a["nome"].as_str().cmp(&b["nome"].as_str()));
            json!({ "codice": p.codice, "nome": p.nome, "comuni": v })
        })
        .collect();
    let aggiornamenti = st.p.aggiornamenti_dati_aperti().await?;
    let aggiornato = aggiornamenti.iter().filter_map(|(_, t)| *t).max();
    pagina(
        &st,
        &cx,
        "dati.html",
        context! {
            grafici => g,
            province => province,
            unita => c.unita.valore(),
            alla_data => crate::formati::giorno(c.alla_data),
            giorno => alla.map(|d| d.format("%Y-%m-%d").to_string()),
            oggi => oggi.format("%Y-%m-%d").to_string(),
            aggiornato => aggiornato.map(|t| crate::formati::giorno(dominio::orologio::oggi_a(t))),
            soglia => servizi::cruscotto::SOGLIA_SOPPRESSIONE,
        },
    )
}

/// `GET /opendata`: the datasets, for people.
pub async fn indice(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let aggiornamenti = st.p.aggiornamenti_dati_aperti().await?;
    let dataset: Vec<Value> = aggiornamenti
        .iter()
        .map(|(d, t)| {
            json!({
                "id": d.id, "titolo": d.titolo, "descrizione": d.descrizione,
                "aggiornato": t.map(|t| crate::formati::giorno(dominio::orologio::oggi_a(t))),
                "colonne": d.colonne.iter().map(|c| json!({"nome": c.nome, "titolo": c.titolo, "descrizione": c.descrizione})).collect::<Vec<_>>(),
            })
        })
        .collect();
    pagina(
        &st,
        &cx,
        "opendata.html",
        context! { dataset => dataset, licenza_url => LICENZA_URL, licenza_nome => LICENZA_NOME },
    )
}

/// `GET /opendata/<id>.csv`: a dataset as CSV (the platform's one CSV writer, CRLF).
pub async fn csv(State(st): State<Stato>, Path(file): Path<String>) -> Result<Response, ErroreApi> {
    let id = file
        .strip_suffix(".csv")
        .ok_or(ErroreServizio::NonTrovato)?;
    let (d, righe) = st.p.dati_aperti(id).await?;
    let mut w = ScrittoreCsv::in_memoria();
    let errore = |e: std::io::Error| ErroreServizio::Interno(e.to_string());
    w.riga(d.colonne.iter().map(|c| c.nome)).map_err(errore)?;
    for r in &righe {
        w.riga(r).map_err(errore)?;
    }
    let testo = w.testo().map_err(errore)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.csv\"", d.id),
            ),
        ],
        testo,
    )
        .into_response())
}

fn licenza_frictionless() -> Value {
    json!([{ "name": LICENZA_ID, "path": LICENZA_URL, "title": LICENZA_NOME }])
}

/// `GET /opendata/<id>/datapackage.json`: the dataset's Frictionless (Tabular) Data Package.
pub async fn descrittore(
    State(st): State<Stato>,
    Path(id): Path<String>,
) -> Result<Response, ErroreApi> {
    let d = dataset(&id).ok_or(ErroreServizio::NonTrovato)?;
    let aggiornato =
        st.p.aggiornamenti_dati_aperti()
            .await?
            .into_iter()
            .find(|(x, _)| x.id == d.id)
            .and_then(|(_, t)| t);
    let campi: Vec<Value> = d
        .colonne
        .iter()
        .map(|c| {
            let mut f = json!({
                "name": c.nome, "title": c.titolo, "description": c.descrizione,
                "type": c.tipo.frictionless(),
            });
            if c.tipo == servizi::dati_aperti::TipoColonna::Decimale {
                f["decimalChar"] = json!(".");
                f["groupChar"] = json!("");
            }
            if c.tipo == servizi::dati_aperti::TipoColonna::Booleano {
                f["trueValues"] = json!(["true"]);
                f["falseValues"] = json!(["false"]);
            }
            f
        })
        .collect();
    let v = json!({
        "profile": "tabular-data-package",
        "name": d.id,
        "title": d.titolo,
        "description": format!("{} Formato: CSV UTF-8, separatore virgola, punto decimale, nessun separatore delle migliaia; le celle soppresse per riservatezza (riferite a meno di 5 unità, o a meno di 5 interventi per i finanziamenti, o ricavabili per differenza) sono vuote e la riga ha soppresso = true.", d.descrizione),
        "keywords": d.parole_chiave,
        "licenses": licenza_frictionless(),
        "homepage": url(&st, "/opendata")?,
        "lastModified": giorno(aggiornato),
        "resources": [{
            "profile": "tabular-data-resource",
            "name": d.id,
            "path": url_csv(&st, d)?,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": { "delimiter": ",", "header": true, "doubleQuote": true, "lineTerminator": "\r\n" },
            "schema": { "fields": campi, "missingValues": [""] },
            "licenses": licenza_frictionless(),
        }],
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response())
}

/// `GET /opendata/catalogo.jsonld`: the DCAT-AP_IT catalogue of the datasets (JSON-LD).
pub async fn catalogo(State(st): State<Stato>) -> Result<Response, ErroreApi> {
    let aggiornamenti = st.p.aggiornamenti_dati_aperti().await?;
    let ultimo = aggiornamenti.iter().filter_map(|(_, t)| *t).max();
    let oggi = st.p.orologio.oggi().format("%Y-%m-%d").to_string();
    let data = |t: Option<DateTime<Utc>>| json!({ "@value": giorno(t).unwrap_or_else(|| oggi.clone()), "@type": "xsd:date" });
    let editore = json!({
        "@id": url(&st, "/opendata#regione-puglia")?,
        "@type": ["foaf:Agent", "dcatapit:Agent"],
        "foaf:name": "Regione Puglia",
        "dct:identifier": "r_puglia",
    });
    let contatto = json!({
        "@id": url(&st, "/opendata#contatto")?,
        "@type": ["vcard:Organization", "dcatapit:Organization"],
        "vcard:fn": "Regione Puglia – Sezione Politiche Abitative",
        "vcard:hasURL": { "@id": url(&st, "/opendata")? },
    });
    let licenza = json!({
        "@id": LICENZA_URL,
        "@type": ["dct:LicenseDocument", "dcatapit:LicenseDocument"],
        "dct:type": { "@id": "http://purl.org/adms/licencetype/Attribution" },
        "foaf:name": LICENZA_NOME,
    });
    let lingua = json!({ "@id": "http://publications.europa.eu/resource/authority/language/ITA" });
    let mut dataset = Vec::new();
    for (d, t) in &aggiornamenti {
        let csv = url_csv(&st, d)?;
        let desc = url_descrittore(&st, d)?;
        dataset.push(json!({
            "@id": url(&st, &format!("/opendata#{}", d.id))?,
            "@type": ["dcat:Dataset", "dcatapit:Dataset"],
            "dct:identifier": format!("r_puglia:push:{}", d.id),
            "dct:title": { "@value": d.titolo, "@language": "it" },
            "dct:description": { "@value": d.descrizione, "@language": "it" },
            "dct:modified": data(*t),
            "dcat:keyword": d.parole_chiave.iter().map(|k| json!({ "@value": k, "@language": "it" })).collect::<Vec<_>>(),
            "dcat:theme": { "@id": format!("http://publications.europa.eu/resource/authority/data-theme/{}", d.tema) },
            "dct:accrualPeriodicity": { "@id": "http://publications.europa.eu/resource/authority/frequency/IRREG" },
            "dct:language": lingua,
            "dct:publisher": { "@id": editore["@id"] },
            "dct:rightsHolder": { "@id": editore["@id"] },
            "dcat:contactPoint": { "@id": contatto["@id"] },
            "dcat:landingPage": { "@id": url(&st, "/opendata")? },
            "dct:conformsTo": { "@id": desc },
            "dcat:distribution": [
                {
                    "@id": format!("{csv}#distribuzione"),
                    "@type": ["dcat:Distribution", "dcatapit:Distribution"],
                    "dct:title": { "@value": format!("{} (CSV)", d.titolo), "@language": "it" },
                    "dct:description": { "@value": "CSV UTF-8, separatore virgola, punto decimale; celle soppresse vuote.", "@language": "it" },
                    "dcat:accessURL": { "@id": csv },
                    "dcat:downloadURL": { "@id": csv },
                    "dcat:mediaType": "text/csv",
                    "dct:format": { "@id": "http://publications.europa.eu/resource/authority/file-type/CSV" },
                    "dct:license": { "@id": LICENZA_URL },
                    "dct:modified": data(*t),
                },
                {
                    "@id": format!("{desc}#distribuzione"),
                    "@type": ["dcat:Distribution", "dcatapit:Distribution"],
                    "dct:title": { "@value": format!("{} (descrittore Frictionless)", d.titolo), "@language": "it" },
                    "dcat:accessURL": { "@id": desc },
                    "dcat:downloadURL": { "@id": desc },
                    "dcat:mediaType": "application/json",
                    "dct:format": { "@id": "http://publications.europa.eu/resource/authority/file-type/JSON" },
                    "dct:license": { "@id": LICENZA_URL },
                    "dct:modified": data(*t),
                },
            ],
        }));
    }
    let catalogo = json!({
        "@id": url(&st, "/opendata/catalogo.jsonld")?,
        "@type": ["dcat:Catalog", "dcatapit:Catalog"],
        "dct:title": { "@value": "PUSH – Dati aperti dell'edilizia residenziale pubblica della Regione Puglia", "@language": "it" },
        "dct:description": { "@value": "Dati aggregati del registro del patrimonio ERP e dei finanziamenti dei cantieri, senza dati su meno di 5 unità. Licenza CC BY 4.0.", "@language": "it" },
        "dct:publisher": { "@id": editore["@id"] },
        "dct:modified": data(ultimo),
        "dct:language": lingua,
        "foaf:homepage": { "@id": url(&st, "/opendata")? },
        "dcat:themeTaxonomy": { "@id": "http://publications.europa.eu/resource/authority/data-theme" },
        "dct:license": { "@id": LICENZA_URL },
        "dcat:dataset": dataset.iter().map(|d| json!({ "@id": d["@id"] })).collect::<Vec<_>>(),
    });
    let grafo: Vec<Value> = [catalogo, editore, contatto, licenza]
        .into_iter()
        .chain(dataset)
        .collect();
    let v = json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "dcatapit": "http://dati.gov.it/onto/dcatapit#",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "vcard": "http://www.w3.org/2006/vcard/ns#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@graph": grafo,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        v.to_string(),
    )
        .into_response())
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn nome_dominio(d: &str) -> &'static str {
    dominio::DominioFlusso::parse(d).map_or("dei dati", dominio::DominioFlusso::genitivo)
}

/// `GET /opendata/rilasci.atom`: the releases (acceptances of flows, by day and domain) and
/// the datasets each one updated.
pub async fn rilasci(State(st): State<Stato>) -> Result<Response, ErroreApi> {
    let r = st.p.rilasci(50).await?;
    let io = url(&st, "/opendata/rilasci.atom")?;
    let pagina_dati = url(&st, "/opendata")?;
    let aggiornato = r
        .first()
        .map(|x| x.istante)
        .unwrap_or_else(|| st.p.orologio.ora());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"it\">\n");
    out.push_str(&format!(
        "<id>{}</id>\n<title>PUSH – Rilasci dei dati aperti</title>\n<updated>{}</updated>\n<author><name>Regione Puglia</name></author>\n<link rel=\"self\" href=\"{}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<rights>{}</rights>\n",
        xml(&io),
        aggiornato.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        xml(&io),
        xml(&pagina_dati),
        xml(LICENZA_NOME)
    ));
    for x in &r {
        let toccati: Vec<&Dataset> = DATASET
            .iter()
            .filter(|d| d.domini.contains(&x.dominio.as_str()))
            .collect();
        let elenco: Vec<String> = toccati
            .iter()
            .map(|d| format!("{} ({})", d.titolo, url_csv(&st, d).unwrap_or_default()))
            .collect();
        let titolo = format!(
            "{}: aggiornamento {}",
            crate::formati::giorno(x.giorno),
            nome_dominio(&x.dominio)
        );
        let testo = format!(
            "Dati accettati per {} {}. Dataset aggiornati: {}.",
            x.enti,
            if x.enti == 1 { "ente" } else { "enti" },
            if elenco.is_empty() {
                "nessuno".to_string()
            } else {
                elenco.join("; ")
            }
        );
        out.push_str(&format!(
            "<entry>\n<id>{}#{}-{}</id>\n<title>{}</title>\n<updated>{}</updated>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<summary>{}</summary>\n</entry>\n",
            xml(&io),
            x.giorno.format("%Y-%m-%d"),
            xml(&x.dominio),
            xml(&titolo),
            x.istante.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            xml(&pagina_dati),
            xml(&testo)
        ));
    }
    out.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response())
}
