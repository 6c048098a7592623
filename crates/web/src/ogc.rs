//! The GIS service of `api.md` ("Geographic data"): OGC API – Features, Part 1 (Core, GeoJSON),
//! at `/ogc`, so that the Region's SIT reads the register with QGIS or GDAL.
//!
//! - `GET /ogc` (landing page), `/ogc/conformance`, `/ogc/api` (the service's OpenAPI),
//!   `/ogc/collections`, `/ogc/collections/{id}`, `/ogc/collections/{id}/items` (`limit`,
//!   `bbox`, `datetime` as a day: the register as it was that day, the next page as a `next`
//!   link), `/ogc/collections/{id}/items/{featureId}`.
//! - One collection per register table located by its own coordinates in its definition
//!   (`flussi::spec::registro`, `Posizione::Coordinate`: today `fabbricati`): the accepted
//!   records in WGS84 with the table's fields, typed from the spec (integers and decimals as
//!   numbers, money and codes as strings), plus `ente`, `valido_dal`, `valido_al`. Same
//!   authentication and visibility as the register API (`Authorization: Bearer`; an entity's
//!   token sees its own, the Region's all); the table's filters of the API work here too.
//!   A feature's id is `<ente>.<chiave>` (entity codes hold no dot).
//! - `comuni`: public, one point per Comune with counts only, small cells suppressed
//!   (`servizi::territorio`).
//!
//! Pages are keyset-paged like the API (an opaque `cursor` in the `next` link), so a page costs
//! the same at any depth; `bbox` is a range condition on the coordinates in the query.
//! Everything here is behind [`crate::freno::limita_pubblico`].

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use flussi::spec::Tipo;
use flussi::spec::registro::Posizione;
use serde_json::{Map, Value, json};
use servizi::ErroreServizio;
use servizi::registro::{TavolaRegistro, Versione, tavola_di, tavole_registro};
use servizi::territorio::ComunePubblico;

use crate::Stato;
use crate::api::{LIMITE_MASSIMO, LIMITE_PREDEFINITO, soggetto_api};
use crate::errore::ErroreApi;
use crate::estrattori::Path;
use crate::registro::{Filtri, codifica_cursore, coordinate, cursore_dopo, filtro_da, segmento};
use crate::rotte::{Rotte, get};

/// The public collection of counts per Comune.
pub const COMUNI: &str = "comuni";

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const GEOJSON: &str = "application/geo+json";
const JSON: &str = "application/json";
const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The spatial extent declared for every collection: Puglia, the territory of the register
/// (declared, not computed: a collection's metadata answers without reading the register).
const PUGLIA: [f64; 4] = [14.9, 39.7, 18.6, 42.3];

const CONFORMITA: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/ogc", get(atterraggio))
        .route("/ogc/conformance", get(conformita))
        .route("/ogc/api", get(definizione))
        .route("/ogc/collections", get(collezioni))
        .route("/ogc/collections/{id}", get(collezione))
        .route("/ogc/collections/{id}/items", get(elementi))
        .route("/ogc/collections/{id}/items/{elemento}", get(elemento))
}

/// The register tables served as collections: those located by their own coordinates.
fn tavole_ogc() -> impl Iterator<Item = &'static TavolaRegistro> {
    tavole_registro()
        .iter()
        .filter(|t| matches!(t.def.posizione, Some(Posizione::Coordinate { .. })))
}

fn tavola_ogc(id: &str) -> Option<&'static TavolaRegistro> {
    tavola_di(id).filter(|t| matches!(t.def.posizione, Some(Posizione::Coordinate { .. })))
}

fn risposta(tipo: &'static str, v: &Value) -> Response {
    ([(header::CONTENT_TYPE, tipo)], v.to_string()).into_response()
}

/// An absolute URL of this server (GIS clients follow links as given).
fn url(st: &Stato, percorso: &str) -> Result<String, ErroreApi> {
    Ok(st
        .p
        .config
        .base_url
        .join(percorso)
        .map_err(|e| ErroreServizio::Interno(e.to_string()))?
        .to_string())
}

fn collegamento(href: String, rel: &str, tipo: &str, titolo: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": tipo, "title": titolo })
}

/// `GET /ogc`: the landing page.
pub async fn atterraggio(State(st): State<Stato>) -> Result<Response, ErroreApi> {
    let v = json!({
        "title": "PUSH – Dati geografici dell'edilizia residenziale pubblica della Regione Puglia",
        "description": "Servizio OGC API – Features (Parte 1: Core, GeoJSON). Collezioni: i fabbricati del registro del patrimonio (con token, come l'API) e i Comuni con i conteggi pubblici.",
        "links": [
            collegamento(url(&st, "/ogc")?, "self", JSON, "Questa pagina"),
            collegamento(url(&st, "/ogc/api")?, "service-desc", OPENAPI, "Definizione del servizio (OpenAPI 3.0)"),
            collegamento(url(&st, "/ogc/conformance")?, "conformance", JSON, "Classi di conformità"),
            collegamento(url(&st, "/ogc/collections")?, "data", JSON, "Collezioni"),
        ]
    });
    Ok(risposta(JSON, &v))
}

/// `GET /ogc/conformance`
pub async fn conformita() -> Response {
    risposta(JSON, &json!({ "conformsTo": CONFORMITA }))
}

fn estensione() -> Value {
    json!({ "spatial": { "bbox": [PUGLIA], "crs": CRS84 } })
}

fn descrizione_collezione(st: &Stato, id: &str) -> Result<Value, ErroreApi> {
    let (titolo, descrizione) = if id == COMUNI {
        (
            "Comuni".to_string(),
            format!(
                "Un punto per Comune con il numero di {} del registro accettato, gli stessi del cruscotto pubblico. I conteggi che riguardano meno di {} unità (o che permetterebbero di ricavarne uno dal totale della provincia) sono soppressi (null, «soppresso»: true) e il Comune è senza punto. Il punto è la media delle coordinate dei fabbricati del Comune, arrotondata a tre decimali. Pubblico.",
                servizi::territorio::CONTEGGI_PUBBLICI.join(", "),
                servizi::territorio::MINIMO_PUBBLICABILE
            ),
        )
    } else {
        let t = tavola_ogc(id).ok_or(ErroreServizio::NonTrovato)?;
        (
            t.def.etichetta.to_string(),
            format!(
                "{} del registro accettato, in WGS84, con i campi della tabella «{}» della specifica più ente, valido_dal e valido_al. Richiede un token (Authorization: Bearer): un ente vede i propri, la Regione tutti. Parametri: limit, bbox, datetime (un giorno AAAA-MM-GG: il registro com'era quel giorno), ente e i filtri dell'API.",
                t.def.etichetta, t.tabella.nome
            ),
        )
    };
    let base = format!("/ogc/collections/{id}");
    Ok(json!({
        "id": id,
        "title": titolo,
        "description": descrizione,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": estensione(),
        "links": [
            collegamento(url(st, &base)?, "self", JSON, &titolo),
            collegamento(url(st, &format!("{base}/items"))?, "items", GEOJSON, &format!("{titolo} (GeoJSON)")),
        ]
    }))
}

fn id_collezioni() -> Vec<&'static str> {
    tavole_ogc()
        .map(|t| t.tabella.nome)
        .chain([COMUNI])
        .collect()
}

/// `GET /ogc/collections`
pub async fn collezioni(State(st): State<Stato>) -> Result<Response, ErroreApi> {
    let mut c = Vec::new();
    for id in id_collezioni() {
        c.push(descrizione_collezione(&st, id)?);
    }
    let v = json!({
        "links": [collegamento(url(&st, "/ogc/collections")?, "self", JSON, "Collezioni")],
        "collections": c,
    });
    Ok(risposta(JSON, &v))
}

/// `GET /ogc/collections/{id}`
pub async fn collezione(
    State(st): State<Stato>,
    Path(id): Path<String>,
) -> Result<Response, ErroreApi> {
    Ok(risposta(JSON, &descrizione_collezione(&st, &id)?))
}

/// The query of an items request: the standard parameters read and checked, the others kept
/// in order (for the table's filters and the `next` link).
struct Richiesta {
    coppie: Vec<(String, String)>,
    limite: usize,
    bbox: Option<[f64; 4]>,
    giorno: Option<NaiveDate>,
    cursore: Option<String>,
}

fn non_valida(m: impl Into<String>) -> ErroreApi {
    ErroreApi::RichiestaNonValida(m.into())
}

/// `bbox=minLon,minLat,maxLon,maxLat` (or the 6-number form with heights, which are ignored).
fn leggi_bbox(s: &str) -> Result<[f64; 4], ErroreApi> {
    let errore = || {
        non_valida(format!(
            "Il parametro bbox «{}» non è valido: quattro numeri separati da virgole, longitudine e latitudine minime poi massime in WGS84 (ad esempio 16.8,41.0,17.0,41.2).",
            s.chars().take(100).collect::<String>()
        ))
    };
    let n: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>().map_err(|_| errore()))
        .collect::<Result<_, _>>()?;
    let b = match n.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => return Err(errore()),
    };
    let ok = b.iter().all(|x| x.is_finite())
        && (-180.0..=180.0).contains(&b[0])
        && (-180.0..=180.0).contains(&b[2])
        && (-90.0..=90.0).contains(&b[1])
        && (-90.0..=90.0).contains(&b[3])
        && b[0] <= b[2]
        && b[1] <= b[3];
    if ok { Ok(b) } else { Err(errore()) }
}

/// `datetime`: one day (`2018-03-01`) or an instant (its day in Rome). Intervals are not
/// offered: the register answers "as it was on a day".
fn leggi_giorno(s: &str) -> Result<NaiveDate, ErroreApi> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(dominio::orologio::oggi_a(t.with_timezone(&chrono::Utc)));
    }
    Err(non_valida(format!(
        "Il parametro datetime «{}» non è valido: indichi un giorno (AAAA-MM-GG, ad esempio 2018-03-01) o un istante RFC 3339; gli intervalli non sono disponibili.",
        s.chars().take(100).collect::<String>()
    )))
}

impl Richiesta {
    /// Reads the query; `ammessi` are the other parameters this collection takes.
    fn leggi(q: Option<&str>, ammessi: &[&str]) -> Result<Self, ErroreApi> {
        let q = q.unwrap_or_default();
        if q.len() > 4096 {
            return Err(non_valida("La richiesta è troppo lunga."));
        }
        let mut r = Richiesta {
            coppie: Vec::new(),
            limite: LIMITE_PREDEFINITO,
            bbox: None,
            giorno: None,
            cursore: None,
        };
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            let v = v.trim().to_string();
            match k.as_ref() {
                "limit" => {
                    r.limite = match v.parse::<usize>() {
                        Ok(n) if (1..=LIMITE_MASSIMO).contains(&n) => n,
                        _ => {
                            return Err(non_valida(format!(
                                "Il parametro limit deve essere un numero intero tra 1 e {LIMITE_MASSIMO}."
                            )));
                        }
                    };
                    continue;
                }
                "bbox" => r.bbox = Some(leggi_bbox(&v)?),
                "datetime" => r.giorno = Some(leggi_giorno(&v)?),
                "cursor" => {
                    r.cursore = Some(v);
                    continue;
                }
                "f" => {
                    if !matches!(v.as_str(), "json" | "geojson") {
                        return Err(non_valida(
                            "Il parametro f ammette solo json (GeoJSON): il servizio non ha altri formati.",
                        ));
                    }
                }
                "bbox-crs" => {
                    if v != CRS84 {
                        return Err(non_valida(format!(
                            "Il parametro bbox-crs ammette solo {CRS84} (longitudine, latitudine in WGS84)."
                        )));
                    }
                }
                altro if ammessi.contains(&altro) => {}
                altro => {
                    return Err(non_valida(format!(
                        "Il parametro «{}» non è previsto da questa collezione. Sono ammessi: limit, bbox, datetime, cursor, f{}.",
                        altro.chars().take(60).collect::<String>(),
                        ammessi.iter().map(|a| format!(", {a}")).collect::<String>()
                    )));
                }
            }
            r.coppie.push((k.into_owned(), v));
        }
        Ok(r)
    }

    /// The `next` link: the same query with this limit and the cursor after this page.
    fn successiva(&self, st: &Stato, percorso: &str, cursore: &str) -> Result<String, ErroreApi> {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.coppie {
            s.append_pair(k, v);
        }
        s.append_pair("limit", &self.limite.to_string());
        s.append_pair("cursor", cursore);
        url(st, &format!("{percorso}?{}", s.finish()))
    }

    fn questa(&self, st: &Stato, percorso: &str) -> Result<String, ErroreApi> {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.coppie {
            s.append_pair(k, v);
        }
        s.append_pair("limit", &self.limite.to_string());
        if let Some(c) = &self.cursore {
            s.append_pair("cursor", c);
        }
        url(st, &format!("{percorso}?{}", s.finish()))
    }
}

/// A GeoJSON `FeatureCollection` page with its links.
fn pagina(
    st: &Stato,
    r: &Richiesta,
    id: &str,
    elementi: Vec<Value>,
    cursore_successivo: Option<String>,
) -> Result<Response, ErroreApi> {
    let percorso = format!("/ogc/collections/{id}/items");
    let mut link = vec![
        collegamento(r.questa(st, &percorso)?, "self", GEOJSON, "Questa pagina"),
        collegamento(
            url(st, &format!("/ogc/collections/{id}"))?,
            "collection",
            JSON,
            "La collezione",
        ),
    ];
    if let Some(c) = cursore_successivo {
        link.push(collegamento(
            r.successiva(st, &percorso, &c)?,
            "next",
            GEOJSON,
            "Pagina successiva",
        ));
    }
    let v = json!({
        "type": "FeatureCollection",
        "timeStamp": st.p.orologio.ora().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "numberReturned": elementi.len(),
        "features": elementi,
        "links": link,
    });
    Ok(risposta(GEOJSON, &v))
}

/// A field's value in a feature's properties, typed from the spec: integers and decimals as
/// JSON numbers (a GIS client then types the column), everything else (codes, dates, money,
/// which `api.md` keeps as strings) as a string.
fn valore_tipizzato(tipo: &Tipo, v: &str) -> Value {
    match tipo {
        Tipo::Intero => v.parse::<i64>().map(Value::from).ok(),
        Tipo::Numero { .. } => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        _ => None,
    }
    .unwrap_or_else(|| Value::String(v.to_string()))
}

fn feature_registro(t: &TavolaRegistro, v: &Versione) -> Value {
    let mut p = Map::new();
    p.insert("ente".into(), Value::String(v.ente.clone()));
    for (c, x) in t.tabella.campi.iter().zip(&v.campi) {
        p.insert(
            c.nome.to_string(),
            x.as_deref()
                .map_or(Value::Null, |s| valore_tipizzato(&c.tipo, s)),
        );
    }
    p.insert("valido_dal".into(), json!(v.valido_dal.to_string()));
    p.insert(
        "valido_al".into(),
        v.valido_al.map_or(Value::Null, |d| json!(d.to_string())),
    );
    let geometria = match coordinate(t, v) {
        Some((lon, lat)) => json!({ "type": "Point", "coordinates": [lon, lat] }),
        None => Value::Null,
    };
    json!({
        "type": "Feature",
        "id": format!("{}.{}", v.ente, v.chiave),
        "geometry": geometria,
        "properties": p,
    })
}

fn feature_comune(c: &ComunePubblico) -> Value {
    let mut p = Map::new();
    p.insert("comune_istat".into(), json!(c.istat));
    p.insert("nome".into(), json!(c.nome));
    p.insert("provincia".into(), json!(c.provincia));
    for (n, v) in &c.conteggi {
        p.insert((*n).to_string(), v.map_or(Value::Null, Value::from));
    }
    p.insert("soppresso".into(), json!(c.soppresso));
    let geometria = match c.punto {
        Some((lon, lat)) => json!({ "type": "Point", "coordinates": [lon, lat] }),
        None => Value::Null,
    };
    json!({ "type": "Feature", "id": c.istat, "geometry": geometria, "properties": p })
}

/// The subject of a register collection's request: reserved, so without credentials the
/// answer is 401 before anything is read.
async fn soggetto_riservato(
    st: &Stato,
    headers: &HeaderMap,
) -> Result<dominio::Soggetto, ErroreApi> {
    let s = soggetto_api(st, headers).await?;
    if matches!(s, dominio::Soggetto::Anonimo) {
        return Err(ErroreServizio::Negato(dominio::Negato::NonAutenticato).into());
    }
    Ok(s)
}

/// `GET /ogc/collections/{id}/items`
pub async fn elementi(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ErroreApi> {
    if id == COMUNI {
        return elementi_comuni(&st, q.as_deref()).await;
    }
    let t = tavola_ogc(&id).ok_or(ErroreServizio::NonTrovato)?;
    let s = soggetto_riservato(&st, &headers).await?;
    let mut ammessi: Vec<&str> = vec!["ente"];
    ammessi.extend(t.def.filtri.iter().map(|f| f.campo()));
    let r = Richiesta::leggi(q.as_deref(), &ammessi)?;
    let mut f = Filtri::default();
    for (k, v) in &r.coppie {
        if ammessi.contains(&k.as_str()) {
            f = f.con(k, v.clone());
        }
    }
    if let Some(c) = &r.cursore {
        f = f.con("cursore", c.clone());
    }
    // One row more than asked tells whether there is a next page.
    let chiesti = (r.limite + 1).min(LIMITE_MASSIMO);
    let mut filtro = filtro_da(t, &f, chiesti)
        .map_err(|m| non_valida(m.replace("Il cursore della pagina", "Il parametro cursor")))?;
    filtro.alla_data = r.giorno;
    if let (
        Some(b),
        Some(Posizione::Coordinate {
            latitudine,
            longitudine,
        }),
    ) = (r.bbox, t.def.posizione)
    {
        filtro.intervalli = vec![
            (longitudine.to_string(), b[0], b[2]),
            (latitudine.to_string(), b[1], b[3]),
        ];
    }
    let (t, mut v) = st.p.elenco_registro(&s, t.tabella.nome, filtro).await?;
    let altre = if chiesti > r.limite {
        v.len() > r.limite
    } else {
        v.len() == r.limite
    };
    v.truncate(r.limite);
    let successivo = altre
        .then(|| {
            v.last()
                .map(|u| codifica_cursore(&cursore_dopo(t, None, u)))
        })
        .flatten();
    let elementi = v.iter().map(|x| feature_registro(t, x)).collect();
    pagina(&st, &r, &id, elementi, successivo)
}

async fn elementi_comuni(st: &Stato, q: Option<&str>) -> Result<Response, ErroreApi> {
    let r = Richiesta::leggi(q, &[])?;
    if let Some(c) = &r.cursore
        && !(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(non_valida(
            "Il parametro cursor non è valido: riparta dalla prima pagina.",
        ));
    }
    let tutti = st.p.comuni_pubblici(r.giorno).await?;
    let scelti: Vec<&ComunePubblico> = tutti
        .iter()
        .filter(|c| r.cursore.as_deref().is_none_or(|k| c.istat.as_str() > k))
        .filter(|c| match (r.bbox, c.punto) {
            (None, _) => true,
            (Some(b), Some((lon, lat))) => {
                (b[0]..=b[2]).contains(&lon) && (b[1]..=b[3]).contains(&lat)
            }
            (Some(_), None) => false,
        })
        .take(r.limite + 1)
        .collect();
    let successivo = (scelti.len() > r.limite).then(|| scelti[r.limite - 1].istat.clone());
    let elementi = scelti
        .iter()
        .take(r.limite)
        .map(|c| feature_comune(c))
        .collect();
    pagina(st, &r, COMUNI, elementi, successivo)
}

/// `GET /ogc/collections/{id}/items/{featureId}` (`?datetime=` for the version of that day).
pub async fn elemento(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path((id, elemento)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response, ErroreApi> {
    let r = Richiesta::leggi(q.as_deref(), &[])?;
    if r.bbox.is_some() || r.cursore.is_some() {
        return Err(non_valida(
            "Un singolo elemento ammette solo il parametro datetime.",
        ));
    }
    let mut v = if id == COMUNI {
        let tutti = st.p.comuni_pubblici(r.giorno).await?;
        let c = tutti
            .iter()
            .find(|c| c.istat == elemento)
            .ok_or(ErroreServizio::NonTrovato)?;
        feature_comune(c)
    } else {
        let t = tavola_ogc(&id).ok_or(ErroreServizio::NonTrovato)?;
        let s = soggetto_riservato(&st, &headers).await?;
        let (ente, chiave) = elemento.split_once('.').ok_or(ErroreServizio::NonTrovato)?;
        let (t, versioni) =
            st.p.storia_registro(&s, t.tabella.nome, ente, chiave)
                .await?;
        let x = versioni
            .iter()
            .rev()
            .find(|x| match r.giorno {
                Some(d) => x.valido_dal <= d && x.valido_al.is_none_or(|a| a > d),
                None => x.valido_al.is_none(),
            })
            .ok_or(ErroreServizio::NonTrovato)?;
        feature_registro(t, x)
    };
    let percorso = format!("/ogc/collections/{id}/items/{}", segmento(&elemento));
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "links".into(),
            json!([
                collegamento(url(&st, &percorso)?, "self", GEOJSON, "Questo elemento"),
                collegamento(
                    url(&st, &format!("/ogc/collections/{id}"))?,
                    "collection",
                    JSON,
                    "La collezione"
                ),
            ]),
        );
    }
    Ok(risposta(GEOJSON, &v))
}

/// `GET /ogc/api`: the service's OpenAPI 3.0 definition (what a client may ask, and the
/// largest page, which GDAL reads to size its requests).
pub async fn definizione(State(st): State<Stato>) -> Result<Response, ErroreApi> {
    let parametri_elenco = json!([
        {"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": id_collezioni()}},
        {"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
         "schema": {"type": "integer", "minimum": 1, "maximum": LIMITE_MASSIMO, "default": LIMITE_PREDEFINITO}},
        {"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
         "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
        {"name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
         "description": "Un giorno (AAAA-MM-GG): il registro com'era quel giorno.", "schema": {"type": "string"}},
        {"name": "cursor", "in": "query", "required": false, "description": "Dal collegamento «next».", "schema": {"type": "string"}},
    ]);
    let risposte = |descrizione: &str, tipo: &str| {
        json!({
            "200": {"description": descrizione, "content": {tipo: {"schema": {"type": "object"}}}},
            "400": {"description": "Parametro non valido", "content": {"application/problem+json": {}}},
            "401": {"description": "Token mancante o non valido (collezioni riservate)", "content": {"application/problem+json": {}}},
            "404": {"description": "Collezione o elemento inesistente", "content": {"application/problem+json": {}}},
        })
    };
    let v = json!({
        "openapi": "3.0.3",
        "info": {"title": "PUSH – OGC API – Features", "version": "1.0.0",
                 "description": "Dati geografici del registro del patrimonio ERP della Regione Puglia."},
        "servers": [{"url": url(&st, "/ogc")?}],
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/": {"get": {"summary": "Pagina iniziale", "operationId": "getLandingPage", "responses": risposte("Pagina iniziale", JSON)}},
            "/conformance": {"get": {"summary": "Classi di conformità", "operationId": "getConformanceDeclaration", "responses": risposte("Conformità", JSON)}},
            "/collections": {"get": {"summary": "Collezioni", "operationId": "getCollections", "responses": risposte("Collezioni", JSON)}},
            "/collections/{collectionId}": {"get": {"summary": "Una collezione", "operationId": "describeCollection",
                "parameters": [parametri_elenco[0].clone()], "responses": risposte("Collezione", JSON)}},
            "/collections/{collectionId}/items": {"get": {"summary": "Elementi di una collezione", "operationId": "getFeatures",
                "parameters": parametri_elenco, "security": [{}, {"token": []}], "responses": risposte("Elementi (GeoJSON)", GEOJSON)}},
            "/collections/{collectionId}/items/{featureId}": {"get": {"summary": "Un elemento", "operationId": "getFeature",
                "parameters": [parametri_elenco[0].clone(), {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}}],
                "security": [{}, {"token": []}], "responses": risposte("Elemento (GeoJSON)", GEOJSON)}},
        }
    });
    Ok(risposta(OPENAPI, &v))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn bbox_letto_e_controllato() {
        assert_eq!(
            leggi_bbox("16.8,41.0,17.0,41.2").ok(),
            Some([16.8, 41.0, 17.0, 41.2])
        );
        assert_eq!(
            leggi_bbox("16.8,41.0,0,17.0,41.2,100").ok(),
            Some([16.8, 41.0, 17.0, 41.2])
        );
        for sbagliato in [
            "",
            "1,2,3",
            "17,41,16,42",
            "a,b,c,d",
            "0,0,0,95",
            "NaN,0,1,1",
        ] {
            assert!(leggi_bbox(sbagliato).is_err(), "{sbagliato}");
        }
    }

    #[test]
    fn datetime_un_giorno() {
        let d = NaiveDate::from_ymd_opt(2018, 3, 1);
        assert_eq!(leggi_giorno("2018-03-01").ok(), d);
        // 23:30 UTC on 28 February is already 1 March in Rome.
        assert_eq!(leggi_giorno("2018-02-28T23:30:00Z").ok(), d);
        assert!(leggi_giorno("2018-01-01/2018-03-01").is_err());
        assert!(leggi_giorno("../2018-03-01").is_err());
    }

    #[test]
    fn parametri_sconosciuti_rifiutati() {
        assert!(Richiesta::leggi(Some("limit=10&bbox=16,40,17,41"), &[]).is_ok());
        assert!(Richiesta::leggi(Some("limit=0"), &[]).is_err());
        assert!(Richiesta::leggi(Some("limit=10001"), &[]).is_err());
        assert!(Richiesta::leggi(Some("colore=rosso"), &[]).is_err());
        assert!(Richiesta::leggi(Some("comune_istat=072006"), &["comune_istat"]).is_ok());
        assert!(Richiesta::leggi(Some("f=html"), &[]).is_err());
    }

    /// The collections come from the definitions: the located tables, then `comuni`, whose
    /// name no register table may take.
    #[test]
    fn collezioni_dalle_definizioni() {
        assert_eq!(id_collezioni(), vec!["fabbricati", COMUNI]);
        assert!(tavola_di(COMUNI).is_none());
    }

    #[test]
    fn proprieta_tipizzate() {
        assert_eq!(valore_tipizzato(&Tipo::Intero, "12"), json!(12));
        assert_eq!(
            valore_tipizzato(&Tipo::Numero { passo: None }, "41.1171"),
            json!(41.1171)
        );
        assert_eq!(valore_tipizzato(&Tipo::Denaro, "181.00"), json!("181.00"));
        assert_eq!(valore_tipizzato(&Tipo::Codice, "F/1"), json!("F/1"));
    }
}
