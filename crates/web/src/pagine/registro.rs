//! The shared register of `patrimonio` in the reserved area: lists of buildings and units with
//! filters and time travel ("Registro alla data"), the building and unit pages with their
//! history and map, the map of buildings, and the exports (CSV, XLSX, GeoJSON).
//!
//! Lists are paged by keyset (the opaque cursor of [`codifica_cursore`]); exports walk the
//! register 10 000 rows at a time ([`Sfoglia`]) and stream the body, so memory stays flat.
//! The helpers here (filters, cursor, CSV and GeoJSON rendering) are shared with
//! [`crate::api_registro`].

use std::collections::HashMap;

use crate::estrattori::{Path, Query};
use crate::rotte::{Rotte, get};
use archivio::{FiltroRegistro, Tavola, Versione};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use chrono::NaiveDate;
use dominio::Soggetto;
use flussi::scrivi_csv::ScrittoreCsv;
use flussi::spec::{Campo, Tipo};
use minijinja::{Value as Mj, context};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use servizi::ErroreServizio;

use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::formati;
use crate::modelli::pagina;

/// Rows per page of the lists in the web interface.
const RIGHE_PAGINA: usize = 50;
/// Rows fetched per query by exports and the map.
pub(crate) const BLOCCO: usize = 10_000;
/// Most data rows of an XLSX export (Excel's sheets stop at 1 048 576 rows).
pub const MAX_RIGHE_XLSX: u32 = 1_000_000;
/// Most buildings shown on the map page.
const MAX_PUNTI_MAPPA: usize = 5_000;
/// Most rows read to find the map's buildings with coordinates.
const MAX_LETTI_MAPPA: usize = 200_000;
/// Most units listed on a building's page.
const MAX_UNITA_FABBRICATO: usize = 500;

/// Agenzia delle Entrate: the public cadastral consultation service.
const CONSULTAZIONE_CATASTO: &str = "https://www.agenziaentrate.gov.it/portale/web/guest/schede/fabbricatiterreni/consultazione-catastale";

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/area/registro/fabbricati", get(elenco_fabbricati))
        .route("/area/registro/unita", get(elenco_unita))
        .route("/area/registro/mappa", get(mappa))
        .route(
            "/area/registro/fabbricati/esporta.csv",
            get(|st, cx, q| esporta(st, cx, q, "fabbricati", Formato::Csv)),
        )
        .route(
            "/area/registro/fabbricati/esporta.xlsx",
            get(|st, cx, q| esporta(st, cx, q, "fabbricati", Formato::Xlsx)),
        )
        .route(
            "/area/registro/fabbricati/esporta.geojson",
            get(|st, cx, q| esporta(st, cx, q, "fabbricati", Formato::GeoJson)),
        )
        .route(
            "/area/registro/unita/esporta.csv",
            get(|st, cx, q| esporta(st, cx, q, "unita", Formato::Csv)),
        )
        .route(
            "/area/registro/unita/esporta.xlsx",
            get(|st, cx, q| esporta(st, cx, q, "unita", Formato::Xlsx)),
        )
        .route(
            "/area/registro/unita/esporta.geojson",
            get(|st, cx, q| esporta(st, cx, q, "unita", Formato::GeoJson)),
        )
        .route("/area/registro/fabbricati/{ente}/{codice}", get(fabbricato))
        .route("/area/registro/unita/{ente}/{codice}", get(unita))
}

// ---------------------------------------------------------------------------------------------
// Filters, cursor, spec helpers (shared with the API)
// ---------------------------------------------------------------------------------------------

/// The filters of a list as they arrive in the query string (empty = not set).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Filtri {
    pub ente: String,
    pub comune_istat: String,
    pub codice_fabbricato: String,
    pub tipologia: String,
    pub stato_occupazione: String,
    pub regime: String,
    pub titolo_possesso: String,
    pub stato_conservazione: String,
    pub q: String,
    pub ordina: String,
    pub alla_data: String,
    pub cursore: String,
}

impl Filtri {
    /// The query string of these filters (only the ones set), without the cursor.
    pub fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("ente", &self.ente),
            ("comune_istat", &self.comune_istat),
            ("codice_fabbricato", &self.codice_fabbricato),
            ("tipologia", &self.tipologia),
            ("stato_occupazione", &self.stato_occupazione),
            ("regime", &self.regime),
            ("titolo_possesso", &self.titolo_possesso),
            ("stato_conservazione", &self.stato_conservazione),
            ("q", &self.q),
            ("ordina", &self.ordina),
            ("alla_data", &self.alla_data),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        s.finish()
    }
}

/// The enumerated filters of each table (fields of type `Enum` in the spec).
fn filtri_elenco(tabella: &str) -> &'static [&'static str] {
    match tabella {
        "fabbricati" => &["titolo_possesso", "stato_conservazione"],
        "unita" => &["tipologia", "stato_occupazione", "regime"],
        _ => &[],
    }
}

/// The sort orders offered in the web interface: (field, label).
fn ordinamenti(tabella: &str) -> &'static [(&'static str, &'static str)] {
    match tabella {
        "fabbricati" => &[
            ("chiave", "Codice del fabbricato"),
            ("comune_istat", "Comune"),
            ("indirizzo", "Indirizzo"),
            ("codice_complesso", "Complesso"),
            ("stato_conservazione", "Stato di conservazione"),
        ],
        "unita" => &[
            ("chiave", "Codice dell'unità"),
            ("codice_fabbricato", "Fabbricato"),
            ("tipologia", "Tipologia"),
            ("categoria_catastale", "Categoria catastale"),
            ("regime", "Regime"),
            ("stato_occupazione", "Stato di occupazione"),
        ],
        _ => &[],
    }
}

/// The spec's definition of a field of `patrimonio`.
pub(crate) fn campo_spec(tabella: &str, campo: &str) -> Option<&'static Campo> {
    flussi::spec::dominio("patrimonio")?
        .tabella(tabella)?
        .campi
        .iter()
        .find(|c| c.nome == campo)
}

/// The allowed values of an enumerated field.
fn valori_ammessi(tabella: &str, campo: &str) -> &'static [&'static str] {
    match campo_spec(tabella, campo).map(|c| &c.tipo) {
        Some(Tipo::Enum(v)) => v,
        _ => &[],
    }
}

/// A date of the query string (`AAAA-MM-GG`); empty = none.
pub(crate) fn leggi_data(s: &str) -> Result<Option<NaiveDate>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            format!(
                "La data «{s}» non è valida: usi il formato AAAA-MM-GG (ad esempio 2024-12-31)."
            )
        })
}

/// A Comune's ISTAT code (5 digits get their leading zero back, as in the flows).
fn leggi_comune(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = s.bytes().all(|b| b.is_ascii_digit()) && (s.len() == 5 || s.len() == 6);
    if !ok {
        return Err(format!(
            "Il codice ISTAT del Comune «{s}» non è valido: sono 6 cifre, ad esempio 072006."
        ));
    }
    Ok(if s.len() == 5 {
        format!("0{s}")
    } else {
        s.to_string()
    })
}

/// A value of an enumerated filter (case-insensitive, stored upper case).
fn leggi_enum(tabella: &str, campo: &str, s: &str) -> Result<String, String> {
    let v = s.trim().to_uppercase();
    let ammessi = valori_ammessi(tabella, campo);
    if ammessi.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(format!(
            "Il valore «{}» non è ammesso per {campo}: valori possibili {}.",
            s.trim(),
            ammessi.join(", ")
        ))
    }
}

/// The register filter of a list (or an Italian message saying what is wrong). The subject's
/// scope (`ente`) is decided by the service.
pub fn filtro_da(tabella: &str, f: &Filtri, limite: usize) -> Result<FiltroRegistro, String> {
    let mut filtro = FiltroRegistro {
        ente: Some(f.ente.trim().to_string()).filter(|e| !e.is_empty()),
        alla_data: leggi_data(&f.alla_data)?,
        limite: limite as i64,
        ..Default::default()
    };
    if !f.comune_istat.trim().is_empty() {
        let c = leggi_comune(&f.comune_istat)?;
        if tabella == "unita" {
            filtro.genitore.push(("comune_istat".into(), c));
        } else {
            filtro.uguale.push(("comune_istat".into(), c));
        }
    }
    if tabella == "unita" && !f.codice_fabbricato.trim().is_empty() {
        filtro.uguale.push((
            "codice_fabbricato".into(),
            f.codice_fabbricato.trim().into(),
        ));
    }
    for campo in filtri_elenco(tabella) {
        let v = match *campo {
            "tipologia" => &f.tipologia,
            "stato_occupazione" => &f.stato_occupazione,
            "regime" => &f.regime,
            "titolo_possesso" => &f.titolo_possesso,
            "stato_conservazione" => &f.stato_conservazione,
            _ => continue,
        };
        if !v.trim().is_empty() {
            filtro
                .uguale
                .push(((*campo).into(), leggi_enum(tabella, campo, v)?));
        }
    }
    let q = f.q.trim();
    if !q.is_empty() {
        filtro.cerca = Some(q.chars().take(100).collect());
    }
    let ordina = f.ordina.trim();
    if !ordina.is_empty() && ordina != "chiave" {
        if !ordinamenti(tabella).iter().any(|(c, _)| *c == ordina) {
            return Err(format!("L'ordinamento «{ordina}» non è disponibile."));
        }
        filtro.ordina = Some(ordina.to_string());
    }
    if !f.cursore.trim().is_empty() {
        filtro.dopo = Some(decodifica_cursore(f.cursore.trim()).ok_or_else(|| {
            "Il cursore della pagina non è valido: riparta dalla prima pagina.".to_string()
        })?);
    }
    Ok(filtro)
}

/// The opaque, URL-safe cursor of a keyset position.
pub fn codifica_cursore(c: &(String, String, String)) -> String {
    let j = json!([c.0, c.1, c.2]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j)
}

/// The keyset position of a cursor, or `None` when it is not one of ours.
pub fn decodifica_cursore(s: &str) -> Option<(String, String, String)> {
    if s.len() > 2000 {
        return None;
    }
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    let (v, e, c): (String, String, String) = serde_json::from_slice(&b).ok()?;
    Some((v, e, c))
}

/// The keyset position after a row, for the sort order `ordina`.
pub fn cursore_dopo(t: &Tavola, ordina: Option<&str>, v: &Versione) -> (String, String, String) {
    let valore = match ordina {
        Some(c) if c != "chiave" => t
            .indice(c)
            .and_then(|i| v.campi.get(i).cloned().flatten())
            .unwrap_or_default(),
        _ => String::new(),
    };
    (valore, v.ente.clone(), v.chiave.clone())
}

/// One path segment, percent-encoded (codes may hold `/`).
pub(crate) fn segmento(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page of a building or unit; with a date, the page of the register as it was that day
/// (so opening a row of "Registro alla data" keeps the date).
fn url_dettaglio(tabella: &str, ente: &str, chiave: &str, alla_data: Option<NaiveDate>) -> String {
    let mut u = format!(
        "/area/registro/{tabella}/{}/{}",
        segmento(ente),
        segmento(chiave)
    );
    if let Some(d) = alla_data {
        u.push_str(&format!("?alla_data={}", d.format("%Y-%m-%d")));
    }
    u
}

/// The value of a field of a version.
fn valore<'a>(t: &Tavola, v: &'a Versione, campo: &str) -> Option<&'a str> {
    t.indice(campo)
        .and_then(|i| v.campi.get(i))
        .and_then(|x| x.as_deref())
}

/// The WGS84 point (lon, lat) of a building version, when it has valid coordinates.
pub fn coordinate(t: &Tavola, v: &Versione) -> Option<(f64, f64)> {
    let n = |c: &str| {
        valore(t, v, c)
            .and_then(|s| s.trim().replace(',', ".").parse::<f64>().ok())
            .filter(|x| x.is_finite())
    };
    let (lat, lon) = (n("latitudine")?, n("longitudine")?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lon, lat))
}

// ---------------------------------------------------------------------------------------------
// Rendering: CSV and GeoJSON (shared with the API), labels for the pages
// ---------------------------------------------------------------------------------------------

/// The CSV header: `ente`, the spec's field names, and (when asked) the validity.
pub fn csv_intestazione(t: &Tavola, validita: bool) -> String {
    let mut celle = vec!["ente"];
    celle.extend_from_slice(t.campi());
    if validita {
        celle.extend(["valido_dal", "valido_al"]);
    }
    let mut w = ScrittoreCsv::in_memoria();
    // Writing into memory cannot fail.
    let _ = w.riga(celle);
    w.testo().unwrap_or_default()
}

/// CSV rows of versions (fields in the table's order), through the platform's one CSV writer:
/// register values come from files sent by others, and a formula among them must reach the
/// spreadsheet as text.
pub fn csv_righe(out: &mut String, righe: &[Versione], validita: bool) {
    let mut w = ScrittoreCsv::in_memoria();
    for v in righe {
        let mut celle: Vec<String> = Vec::with_capacity(v.campi.len() + 3);
        celle.push(v.ente.clone());
        celle.extend(v.campi.iter().map(|c| c.clone().unwrap_or_default()));
        if validita {
            celle.push(v.valido_dal.to_string());
            celle.push(v.valido_al.map(|d| d.to_string()).unwrap_or_default());
        }
        // Writing into memory cannot fail.
        let _ = w.riga(&celle);
    }
    out.push_str(&w.testo().unwrap_or_default());
}

/// A GeoJSON feature of a version: properties `ente` and the fields (strings or null),
/// geometry the point (lon, lat) or null.
pub fn geojson_feature(t: &Tavola, v: &Versione, punto: Option<(f64, f64)>) -> Value {
    let mut p = Map::new();
    p.insert("ente".into(), Value::String(v.ente.clone()));
    for (c, x) in t.campi().iter().zip(&v.campi) {
        p.insert(
            (*c).to_string(),
            x.as_ref().map_or(Value::Null, |s| Value::String(s.clone())),
        );
    }
    let geometria = match punto {
        Some((lon, lat)) => json!({ "type": "Point", "coordinates": [lon, lat] }),
        None => Value::Null,
    };
    json!({ "type": "Feature", "geometry": geometria, "properties": p })
}

const GEOJSON_TESTA: &str = "{\"type\":\"FeatureCollection\",\"features\":[\n";
const GEOJSON_CODA: &str = "\n]}\n";

/// Italian label of a field.
pub fn etichetta_campo(campo: &str) -> String {
    let s = match campo {
        "codice_complesso" => "Codice del complesso",
        "codice_fabbricato" => "Codice del fabbricato",
        "codice_unita" => "Codice dell'unità",
        "comune_istat" => "Comune (codice ISTAT)",
        "numero_civico" => "Numero civico",
        "cap" => "CAP",
        "anno_costruzione" => "Anno di costruzione",
        "numero_piani" => "Numero di piani",
        "titolo_possesso" => "Titolo di possesso",
        "cf_proprietario" => "Codice fiscale del proprietario",
        "stato_conservazione" => "Stato di conservazione",
        "sezione_urbana" => "Sezione urbana",
        "categoria_catastale" => "Categoria catastale",
        "rendita_catastale" => "Rendita catastale (€)",
        "superficie_utile_mq" => "Superficie utile (m²)",
        "numero_vani" => "Numero di vani",
        "classe_energetica" => "Classe energetica",
        "accessibile_disabili" => "Accessibile a persone con disabilità",
        "stato_occupazione" => "Stato di occupazione",
        "data_assegnazione" => "Data di assegnazione",
        "canone_mensile" => "Canone mensile (€)",
        "numero_occupanti" => "Numero di occupanti",
        "anno_ultimo_intervento" => "Anno dell'ultimo intervento",
        "cup_ultimo_intervento" => "CUP dell'ultimo intervento",
        altro => {
            let t = altro.replace('_', " ");
            let mut c = t.chars();
            return match c.next() {
                Some(p) => p.to_uppercase().chain(c).collect(),
                None => String::new(),
            };
        }
    };
    s.to_string()
}

/// A stored code made readable: `SFITTO_DA_RISTRUTTURARE` → «Sfitto da ristrutturare».
pub fn leggibile(v: &str) -> String {
    match v {
        "SI" => return "Sì".into(),
        "NO" => return "No".into(),
        "PROPRIETA" => return "Proprietà".into(),
        "COMPROPRIETA" => return "Comproprietà".into(),
        "ERS" => return "ERS".into(),
        "ERP_SOVVENZIONATA" => return "ERP sovvenzionata".into(),
        "ERP_AGEVOLATA" => return "ERP agevolata".into(),
        _ => {}
    }
    let t = v.replace('_', " ").to_lowercase();
    let mut c = t.chars();
    match c.next() {
        Some(p) => p.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A value as shown on a page (enumerations and yes/no readable; dates, numbers and money in
/// Italian form through [`formati`]). Coordinates keep their decimal point: they are also
/// links to maps and are written that way in GIS tools.
pub(crate) fn mostra(tabella: &str, campo: &str, v: Option<&str>) -> String {
    let Some(v) = v else {
        return String::new();
    };
    match campo_spec(tabella, campo).map(|c| &c.tipo) {
        Some(Tipo::Enum(_) | Tipo::Booleano) => leggibile(v),
        Some(Tipo::Data) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(data_it)
            .unwrap_or_else(|_| v.to_string()),
        Some(Tipo::Denaro) => formati::euro(v).unwrap_or_else(|| v.to_string()),
        Some(Tipo::Numero { .. }) if !matches!(campo, "latitudine" | "longitudine") => {
            formati::decimale(v, 0).unwrap_or_else(|| v.to_string())
        }
        _ => v.to_string(),
    }
}

fn data_it(d: NaiveDate) -> String {
    formati::giorno(d)
}

/// A version for the templates: the shown values by field name, plus `ente`, `chiave`, the
/// detail `url` (keeping the register's date, if any), validity and flow.
fn vista(
    t: &Tavola,
    v: &Versione,
    comuni: &HashMap<String, String>,
    alla_data: Option<NaiveDate>,
) -> Map<String, Value> {
    let mut m = Map::new();
    for (c, x) in t.campi().iter().zip(&v.campi) {
        m.insert(
            (*c).to_string(),
            Value::String(mostra(t.nome(), c, x.as_deref())),
        );
    }
    m.insert("ente".into(), Value::String(v.ente.clone()));
    m.insert("chiave".into(), Value::String(v.chiave.clone()));
    m.insert(
        "url".into(),
        Value::String(url_dettaglio(t.nome(), &v.ente, &v.chiave, alla_data)),
    );
    if let Some(f) = valore(t, v, "codice_fabbricato") {
        m.insert(
            "url_fabbricato".into(),
            Value::String(url_dettaglio("fabbricati", &v.ente, f, alla_data)),
        );
    }
    if let Some(c) = valore(t, v, "comune_istat") {
        m.insert(
            "comune_nome".into(),
            Value::String(comuni.get(c).cloned().unwrap_or_default()),
        );
    }
    m.insert("valido_dal".into(), Value::String(data_it(v.valido_dal)));
    m.insert(
        "valido_al".into(),
        Value::String(v.valido_al.map(data_it).unwrap_or_default()),
    );
    m.insert("flusso".into(), json!(v.flusso_dal));
    m
}

/// Entity and Comune names, from the entity registry.
struct Nomi {
    enti: Vec<(String, String)>,
    comuni: Vec<(String, String)>,
    per_codice: HashMap<String, String>,
}

async fn nomi(st: &Stato) -> Result<Nomi, ErrorePagina> {
    let mut tutti = st.p.registro(&servizi::enti::FiltroEnti::default()).await?;
    tutti.sort_by(|a, b| a.denominazione.cmp(&b.denominazione));
    let comuni = tutti
        .iter()
        .filter(|e| e.tipo == "COMUNE")
        .map(|e| (e.codice.clone(), e.denominazione.clone()))
        .collect();
    let per_codice = tutti
        .iter()
        .map(|e| (e.codice.clone(), e.denominazione.clone()))
        .collect();
    let enti = tutti
        .into_iter()
        .filter(|e| e.tipo != "REGIONE")
        .map(|e| (e.codice, e.denominazione))
        .collect();
    Ok(Nomi {
        enti,
        comuni,
        per_codice,
    })
}

// ---------------------------------------------------------------------------------------------
// Walking the register page by page
// ---------------------------------------------------------------------------------------------

/// Walks a register list `BLOCCO` rows at a time with the keyset cursor.
pub(crate) struct Sfoglia {
    st: Stato,
    s: Soggetto,
    tabella: &'static str,
    filtro: FiltroRegistro,
    t: Option<Tavola>,
    finito: bool,
}

impl Sfoglia {
    pub(crate) fn new(
        st: Stato,
        s: Soggetto,
        tabella: &'static str,
        mut filtro: FiltroRegistro,
    ) -> Self {
        filtro.limite = BLOCCO as i64;
        filtro.dopo = None;
        Self {
            st,
            s,
            tabella,
            filtro,
            t: None,
            finito: false,
        }
    }

    /// The table (known after the first page).
    pub(crate) fn tavola(&self) -> Option<&Tavola> {
        self.t.as_ref()
    }

    /// The next page, or `None` at the end.
    pub(crate) async fn prossima(&mut self) -> Result<Option<Vec<Versione>>, ErroreServizio> {
        if self.finito {
            return Ok(None);
        }
        let (t, v) = self
            .st
            .p
            .elenco_registro(&self.s, self.tabella, self.filtro.clone())
            .await?;
        let t = t.tavola.clone();
        if v.len() < BLOCCO {
            self.finito = true;
        }
        if let Some(u) = v.last() {
            self.filtro.dopo = Some(cursore_dopo(&t, self.filtro.ordina.as_deref(), u));
        }
        self.t = Some(t);
        Ok((!v.is_empty()).then_some(v))
    }
}

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

pub async fn elenco_fabbricati(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtri>,
) -> Result<Html<String>, ErrorePagina> {
    elenco(&st, &cx, "fabbricati", f).await
}

pub async fn elenco_unita(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtri>,
) -> Result<Html<String>, ErrorePagina> {
    elenco(&st, &cx, "unita", f).await
}

/// The context shared by the list and map pages: filter form choices.
fn contesto_filtri(cx: &Contesto, tabella: &str, f: &Filtri, nomi: &Nomi) -> Mj {
    let s = cx.soggetto();
    let vede_tutti = s.is_regione();
    let enti: Vec<(String, String)> = if vede_tutti {
        nomi.enti.clone()
    } else {
        s.enti()
            .iter()
            .map(|e| {
                let c = e.as_str().to_string();
                let n = nomi
                    .per_codice
                    .get(&c)
                    .cloned()
                    .unwrap_or_else(|| c.clone());
                (c, n)
            })
            .collect()
    };
    let opzioni: Vec<Mj> = filtri_elenco(tabella)
        .iter()
        .map(|c| {
            let valori: Vec<(String, String)> = valori_ammessi(tabella, c)
                .iter()
                .map(|v| (v.to_string(), leggibile(v)))
                .collect();
            let scelto = match *c {
                "tipologia" => &f.tipologia,
                "stato_occupazione" => &f.stato_occupazione,
                "regime" => &f.regime,
                "titolo_possesso" => &f.titolo_possesso,
                "stato_conservazione" => &f.stato_conservazione,
                _ => &f.q,
            }
            .trim()
            .to_uppercase();
            context! { campo => c, etichetta => etichetta_campo(c), valori, scelto }
        })
        .collect();
    let alla_data = leggi_data(&f.alla_data).ok().flatten().map(data_it);
    context! {
        vede_tutti,
        enti,
        comuni => nomi.comuni.clone(),
        opzioni,
        ordinamenti => ordinamenti(tabella),
        f => f,
        alla_data_it => alla_data,
        query => f.query(),
        query_oggi => Filtri { alla_data: String::new(), ..f.clone() }.query(),
    }
}

async fn elenco(
    st: &Stato,
    cx: &Contesto,
    tabella: &'static str,
    f: Filtri,
) -> Result<Html<String>, ErrorePagina> {
    let filtro =
        filtro_da(tabella, &f, RIGHE_PAGINA + 1).map_err(ErrorePagina::RichiestaNonValida)?;
    let ordina = filtro.ordina.clone();
    let (t, mut v) = st.p.elenco_registro(cx.soggetto(), tabella, filtro).await?;
    let t = t.tavola.clone();
    let successiva = if v.len() > RIGHE_PAGINA {
        v.truncate(RIGHE_PAGINA);
        v.last().map(|u| {
            let c = codifica_cursore(&cursore_dopo(&t, ordina.as_deref(), u));
            let q = f.query();
            if q.is_empty() {
                format!("?cursore={c}")
            } else {
                format!("?{q}&cursore={c}")
            }
        })
    } else {
        None
    };
    let nomi = nomi(st).await?;
    let comuni: HashMap<String, String> = nomi.comuni.iter().cloned().collect();
    // filtro_da has already refused a malformed date.
    let alla_data = leggi_data(&f.alla_data).ok().flatten();
    let righe: Vec<_> = v
        .iter()
        .map(|x| {
            let mut m = vista(&t, x, &comuni, alla_data);
            m.insert(
                "ente_nome".into(),
                Value::String(nomi.per_codice.get(&x.ente).cloned().unwrap_or_default()),
            );
            m
        })
        .collect();
    let filtri = contesto_filtri(cx, tabella, &f, &nomi);
    pagina(
        st,
        cx,
        "registro_elenco.html",
        context! {
            tabella,
            righe,
            successiva,
            pagina_successiva => !f.cursore.trim().is_empty(),
            ..filtri
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Map of buildings
// ---------------------------------------------------------------------------------------------

/// Map configuration for `mappa.js`: the tile URL (may be empty), its attribution, the points
/// `[lat, lon, label, url]`.
fn dati_mappa(st: &Stato, punti: &[(f64, f64, String, String)]) -> String {
    let tile = st.p.config.tile_url.trim().to_string();
    let attribuzione = if tile.is_empty() {
        String::new()
    } else if tile.contains("openstreetmap") {
        "© contributori di <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a>"
            .to_string()
    } else {
        let host = url::Url::parse(&tile.replace(['{', '}'], ""))
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        format!("Mappa di base: {host}")
    };
    let p: Vec<Value> = punti
        .iter()
        .map(|(lon, lat, etichetta, url)| json!([lat, lon, etichetta, url]))
        .collect();
    json!({ "tile_url": tile, "attribuzione": attribuzione, "punti": p }).to_string()
}

pub async fn mappa(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtri>,
) -> Result<Html<String>, ErrorePagina> {
    let filtro = filtro_da("fabbricati", &f, BLOCCO).map_err(ErrorePagina::RichiestaNonValida)?;
    let alla_data = filtro.alla_data;
    let mut sf = Sfoglia::new(st.clone(), cx.soggetto().clone(), "fabbricati", filtro);
    let mut punti = Vec::new();
    let (mut letti, mut senza, mut troncato) = (0usize, 0usize, false);
    'pagine: while let Some(v) = sf.prossima().await? {
        let Some(t) = sf.tavola() else { break };
        for x in &v {
            letti += 1;
            match coordinate(t, x) {
                Some((lon, lat)) => {
                    if punti.len() >= MAX_PUNTI_MAPPA {
                        troncato = true;
                        break 'pagine;
                    }
                    let etichetta = format!(
                        "{} – {} {}",
                        x.chiave,
                        valore(t, x, "indirizzo").unwrap_or(""),
                        valore(t, x, "numero_civico").unwrap_or("")
                    );
                    punti.push((
                        lon,
                        lat,
                        etichetta.trim().to_string(),
                        url_dettaglio("fabbricati", &x.ente, &x.chiave, alla_data),
                    ));
                }
                None => senza += 1,
            }
        }
        if letti >= MAX_LETTI_MAPPA {
            troncato = true;
            break;
        }
    }
    let nomi = nomi(&st).await?;
    let filtri = contesto_filtri(&cx, "fabbricati", &f, &nomi);
    pagina(
        &st,
        &cx,
        "registro_mappa.html",
        context! {
            tabella => "fabbricati",
            mappa => dati_mappa(&st, &punti),
            n_punti => punti.len(),
            senza_coordinate => senza,
            troncato,
            max_punti => MAX_PUNTI_MAPPA,
            ..filtri
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Building and unit pages
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AllaData {
    alla_data: String,
}

/// The version valid on `d` (or the current one).
fn valida_il(storia: &[Versione], d: Option<NaiveDate>) -> Option<&Versione> {
    storia.iter().rev().find(|v| match d {
        Some(d) => v.valido_dal <= d && v.valido_al.is_none_or(|a| a > d),
        None => v.valido_al.is_none(),
    })
}

/// The fields that differ between two versions: (label, before, after), shown values.
fn differenze(t: &Tavola, prima: &Versione, dopo: &Versione) -> Vec<(String, String, String)> {
    t.campi()
        .iter()
        .enumerate()
        .filter(|(i, _)| prima.campi.get(*i) != dopo.campi.get(*i))
        .map(|(i, c)| {
            let m = |v: &Versione| mostra(t.nome(), c, v.campi.get(i).and_then(|x| x.as_deref()));
            (etichetta_campo(c), m(prima), m(dopo))
        })
        .collect()
}

/// The history for the templates, newest first: validity, flow, changed fields.
fn vista_storia(t: &Tavola, storia: &[Versione]) -> Vec<Mj> {
    let mut out: Vec<Mj> = storia
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let modifiche = if i == 0 {
                Vec::new()
            } else {
                differenze(t, &storia[i - 1], v)
            };
            context! {
                numero => i + 1,
                valido_dal => data_it(v.valido_dal),
                valido_al => v.valido_al.map(data_it),
                flusso => v.flusso_dal,
                prima => i == 0,
                modifiche,
            }
        })
        .collect();
    out.reverse();
    out
}

/// The fields of a version as (name, label, shown value, description) for a data table.
fn scheda(t: &Tavola, v: &Versione) -> Vec<Mj> {
    t.campi()
        .iter()
        .zip(&v.campi)
        .map(|(c, x)| {
            context! {
                campo => c,
                etichetta => etichetta_campo(c),
                valore => mostra(t.nome(), c, x.as_deref()),
                descrizione => campo_spec(t.nome(), c).map(|s| s.descrizione),
            }
        })
        .collect()
}

pub async fn fabbricato(
    State(st): State<Stato>,
    cx: Contesto,
    Path((ente, codice)): Path<(String, String)>,
    Query(q): Query<AllaData>,
) -> Result<Html<String>, ErrorePagina> {
    let data = leggi_data(&q.alla_data).map_err(ErrorePagina::RichiestaNonValida)?;
    let (t, storia) =
        st.p.storia_registro(cx.soggetto(), "fabbricati", &ente, &codice)
            .await?;
    let t = t.tavola.clone();
    let ente = storia[0].ente.clone();
    let attuale = valida_il(&storia, data);
    // Without a version valid on that day, show the last one known (marked as such).
    let mostrata = attuale.or(storia.last());
    let nomi = nomi(&st).await?;
    let comuni: HashMap<String, String> = nomi.comuni.iter().cloned().collect();
    let (dati, vista_attuale, catasto, punti) = match mostrata {
        Some(v) => {
            let catasto = match (valore(&t, v, "foglio"), valore(&t, v, "particella")) {
                (None, None) => None,
                (foglio, particella) => {
                    let comune = valore(&t, v, "comune_istat").unwrap_or("");
                    Some(context! {
                        foglio, particella, comune,
                        comune_nome => comuni.get(comune),
                        url => CONSULTAZIONE_CATASTO,
                    })
                }
            };
            let punti: Vec<_> = coordinate(&t, v)
                .map(|(lon, lat)| {
                    (
                        lon,
                        lat,
                        format!(
                            "{} – {} {}",
                            v.chiave,
                            valore(&t, v, "indirizzo").unwrap_or(""),
                            valore(&t, v, "numero_civico").unwrap_or("")
                        )
                        .trim()
                        .to_string(),
                        String::new(),
                    )
                })
                .into_iter()
                .collect();
            (
                scheda(&t, v),
                Some(vista(&t, v, &comuni, data)),
                catasto,
                punti,
            )
        }
        None => (Vec::new(), None, None, Vec::new()),
    };
    // Its units on the same day (the list page has them all, with filters and exports).
    let filtro = FiltroRegistro {
        ente: Some(ente.clone()),
        uguale: vec![("codice_fabbricato".into(), codice.clone())],
        alla_data: data,
        limite: (MAX_UNITA_FABBRICATO + 1) as i64,
        ..Default::default()
    };
    let (tu, mut u) = st.p.elenco_registro(cx.soggetto(), "unita", filtro).await?;
    let tu = tu.tavola.clone();
    let altre_unita = u.len() > MAX_UNITA_FABBRICATO;
    u.truncate(MAX_UNITA_FABBRICATO);
    let unita: Vec<_> = u.iter().map(|x| vista(&tu, x, &comuni, data)).collect();
    let mut qs = url::form_urlencoded::Serializer::new(String::new());
    qs.append_pair("ente", &ente)
        .append_pair("codice_fabbricato", &codice);
    if let Some(d) = data {
        qs.append_pair("alla_data", &d.to_string());
    }
    pagina(
        &st,
        &cx,
        "registro_fabbricato.html",
        context! {
            ente,
            ente_nome => nomi.per_codice.get(&ente),
            codice,
            alla_data => data.map(|d| d.to_string()),
            alla_data_it => data.map(data_it),
            valida => attuale.is_some(),
            versione => vista_attuale,
            dati,
            catasto,
            mappa => (!punti.is_empty()).then(|| dati_mappa(&st, &punti)),
            unita,
            altre_unita,
            max_unita => MAX_UNITA_FABBRICATO,
            query_unita => qs.finish(),
            storia => vista_storia(&t, &storia),
        },
    )
}

pub async fn unita(
    State(st): State<Stato>,
    cx: Contesto,
    Path((ente, codice)): Path<(String, String)>,
    Query(q): Query<AllaData>,
) -> Result<Html<String>, ErrorePagina> {
    let data = leggi_data(&q.alla_data).map_err(ErrorePagina::RichiestaNonValida)?;
    let (t, storia) =
        st.p.storia_registro(cx.soggetto(), "unita", &ente, &codice)
            .await?;
    let t = t.tavola.clone();
    let ente = storia[0].ente.clone();
    let nomi = nomi(&st).await?;
    let comuni: HashMap<String, String> = nomi.comuni.iter().cloned().collect();
    let attuale = valida_il(&storia, data);
    let mostrata = attuale.or(storia.last());
    // The comparison table: one row per field, one column per version (oldest first); a cell
    // is marked when it differs from the version before.
    let confronto: Vec<Mj> = t
        .campi()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let celle: Vec<Mj> = storia
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    let x = v.campi.get(i).cloned().flatten();
                    let cambiato = k > 0 && storia[k - 1].campi.get(i).cloned().flatten() != x;
                    context! { valore => mostra(t.nome(), c, x.as_deref()), cambiato }
                })
                .collect();
            let mai_cambiato = celle.len() > 1
                && storia
                    .windows(2)
                    .all(|w| w[0].campi.get(i) == w[1].campi.get(i));
            context! { etichetta => etichetta_campo(c), celle, mai_cambiato }
        })
        .collect();
    let versioni: Vec<Mj> = storia
        .iter()
        .enumerate()
        .map(|(i, v)| {
            context! {
                numero => i + 1,
                valido_dal => data_it(v.valido_dal),
                valido_al => v.valido_al.map(data_it),
                flusso => v.flusso_dal,
            }
        })
        .collect();
    pagina(
        &st,
        &cx,
        "registro_unita.html",
        context! {
            ente,
            ente_nome => nomi.per_codice.get(&ente),
            codice,
            alla_data => data.map(|d| d.to_string()),
            alla_data_it => data.map(data_it),
            valida => attuale.is_some(),
            versione => mostrata.map(|v| vista(&t, v, &comuni, data)),
            dati => mostrata.map(|v| scheda(&t, v)),
            storia => vista_storia(&t, &storia),
            versioni,
            confronto,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Formato {
    Csv,
    Xlsx,
    GeoJson,
}

type Pezzo = Result<Bytes, std::io::Error>;

/// A response body fed by a channel (the producer runs in its own task).
fn corpo(rx: tokio::sync::mpsc::Receiver<Pezzo>) -> Body {
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|x| (x, rx))
    }))
}

fn allegato(tipo: &'static str, nome: &str, corpo: Body) -> Response {
    let mut r = corpo.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(tipo));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{nome}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

async fn esporta(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtri>,
    tabella: &'static str,
    formato: Formato,
) -> Result<Response, ErrorePagina> {
    let mut filtro = filtro_da(tabella, &f, BLOCCO).map_err(ErrorePagina::RichiestaNonValida)?;
    filtro.dopo = None;
    let data = filtro.alla_data;
    let mut sf = Sfoglia::new(st.clone(), cx.soggetto().clone(), tabella, filtro.clone());
    // The first page here, so that refusals and bad requests are proper error pages.
    let prima = sf.prossima().await?;
    let t = match sf.tavola() {
        Some(t) => t.clone(),
        None => servizi::registro::tavola_di(tabella)
            .map(|t| t.tavola.clone())
            .ok_or(ErroreServizio::NonTrovato)?,
    };
    let giorno = data
        .unwrap_or_else(|| st.p.orologio.oggi())
        .format("%Y-%m-%d");
    let base = format!("{tabella}_{giorno}");
    match formato {
        Formato::Csv => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Pezzo>(4);
            tokio::spawn(async move {
                // UTF-8 with BOM, so Excel reads the accents right.
                let testa = format!("\u{feff}{}", csv_intestazione(&t, false));
                if tx.send(Ok(Bytes::from(testa))).await.is_err() {
                    return;
                }
                let mut pagina = prima;
                while let Some(v) = pagina {
                    let mut out = String::with_capacity(v.len() * 200);
                    csv_righe(&mut out, &v, false);
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return;
                    }
                    pagina = match sf.prossima().await {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(errore = %e, "esportazione CSV interrotta");
                            let _ = tx
                                .send(Err(std::io::Error::other("esportazione interrotta")))
                                .await;
                            return;
                        }
                    };
                }
            });
            Ok(allegato(
                "text/csv; charset=utf-8",
                &format!("{base}.csv"),
                corpo(rx),
            ))
        }
        Formato::GeoJson => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Pezzo>(4);
            let (st2, s2) = (st.clone(), cx.soggetto().clone());
            tokio::spawn(async move {
                if tx
                    .send(Ok(Bytes::from_static(GEOJSON_TESTA.as_bytes())))
                    .await
                    .is_err()
                {
                    return;
                }
                // Units have no coordinates: they get their building's (same day).
                let mut punti_fabbricati: HashMap<(String, String), (f64, f64)> = HashMap::new();
                if tabella == "unita" {
                    let fb = FiltroRegistro {
                        ente: filtro.ente.clone(),
                        alla_data: filtro.alla_data,
                        uguale: filtro.genitore.clone(),
                        ..Default::default()
                    };
                    let mut sb = Sfoglia::new(st2, s2, "fabbricati", fb);
                    loop {
                        match sb.prossima().await {
                            Ok(Some(v)) => {
                                let Some(tb) = sb.tavola() else { break };
                                for x in &v {
                                    if let Some(p) = coordinate(tb, x) {
                                        punti_fabbricati
                                            .insert((x.ente.clone(), x.chiave.clone()), p);
                                    }
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                tracing::warn!(errore = %e, "esportazione GeoJSON: fabbricati non letti");
                                break;
                            }
                        }
                    }
                }
                let mut primo = true;
                let mut pagina = prima;
                while let Some(v) = pagina {
                    let mut out = String::with_capacity(v.len() * 400);
                    for x in &v {
                        let punto = if tabella == "unita" {
                            valore(&t, x, "codice_fabbricato").and_then(|f| {
                                punti_fabbricati
                                    .get(&(x.ente.clone(), f.to_string()))
                                    .copied()
                            })
                        } else {
                            coordinate(&t, x)
                        };
                        if !primo {
                            out.push_str(",\n");
                        }
                        primo = false;
                        out.push_str(&geojson_feature(&t, x, punto).to_string());
                    }
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return;
                    }
                    pagina = match sf.prossima().await {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(errore = %e, "esportazione GeoJSON interrotta");
                            let _ = tx
                                .send(Err(std::io::Error::other("esportazione interrotta")))
                                .await;
                            return;
                        }
                    };
                }
                let _ = tx
                    .send(Ok(Bytes::from_static(GEOJSON_CODA.as_bytes())))
                    .await;
            });
            Ok(allegato(
                "application/geo+json",
                &format!("{base}.geojson"),
                corpo(rx),
            ))
        }
        Formato::Xlsx => {
            let handle = tokio::runtime::Handle::current();
            let file = tokio::task::spawn_blocking(move || scrivi_xlsx(&handle, sf, &t, prima))
                .await
                .map_err(|e| ErroreServizio::Interno(format!("esportazione XLSX: {e}")))?
                .map_err(ErroreServizio::Interno)?;
            let f = file
                .reopen()
                .map_err(|e| ErroreServizio::Interno(format!("esportazione XLSX: {e}")))?;
            let lettore = tokio::fs::File::from_std(f);
            // The temporary file lives as long as the body streams it.
            let flusso = futures_util::stream::unfold(Some((lettore, file)), |stato| async move {
                use tokio::io::AsyncReadExt;
                let (mut l, file) = stato?;
                let mut buf = vec![0u8; 64 * 1024];
                match l.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), Some((l, file))))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            });
            Ok(allegato(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{base}.xlsx"),
                Body::from_stream(flusso),
            ))
        }
    }
}

/// Writes the XLSX export (constant memory) to a temporary file; runs on a blocking thread and
/// fetches the following pages through `handle`.
fn scrivi_xlsx(
    handle: &tokio::runtime::Handle,
    mut sf: Sfoglia,
    t: &Tavola,
    prima: Option<Vec<Versione>>,
) -> Result<tempfile::NamedTempFile, String> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let e = |x: rust_xlsxwriter::XlsxError| format!("esportazione XLSX: {x}");
    let mut libro = Workbook::new();
    let titolo = Format::new().set_bold();
    let formato_data = Format::new().set_num_format("dd/mm/yyyy");
    #[derive(Clone, Copy)]
    enum Cella {
        Testo,
        Numero,
        Data,
    }
    let tipi: Vec<Cella> = t
        .campi()
        .iter()
        .map(|c| match campo_spec(t.nome(), c).map(|s| &s.tipo) {
            Some(Tipo::Intero | Tipo::Numero { .. } | Tipo::Denaro) => Cella::Numero,
            Some(Tipo::Data) => Cella::Data,
            _ => Cella::Testo,
        })
        .collect();
    let mut troncato = false;
    {
        let ws = libro.add_worksheet_with_constant_memory().map_err(e)?;
        ws.set_name(t.nome()).map_err(e)?;
        ws.write_string_with_format(0, 0, "ente", &titolo)
            .map_err(e)?;
        for (i, c) in t.campi().iter().enumerate() {
            ws.write_string_with_format(0, (i + 1) as u16, *c, &titolo)
                .map_err(e)?;
        }
        let mut riga: u32 = 1;
        let mut pagina = prima;
        'pagine: while let Some(v) = pagina {
            for x in &v {
                if riga > MAX_RIGHE_XLSX {
                    troncato = true;
                    break 'pagine;
                }
                ws.write_string(riga, 0, &x.ente).map_err(e)?;
                for (i, (val, tipo)) in x.campi.iter().zip(&tipi).enumerate() {
                    let Some(val) = val.as_deref() else { continue };
                    let col = (i + 1) as u16;
                    match tipo {
                        Cella::Numero => match val.parse::<f64>() {
                            Ok(n) if n.is_finite() => ws.write_number(riga, col, n),
                            _ => ws.write_string(riga, col, val),
                        },
                        Cella::Data => match NaiveDate::parse_from_str(val, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| {
                                use chrono::Datelike;
                                ExcelDateTime::from_ymd(
                                    u16::try_from(d.year()).ok()?,
                                    d.month() as u8,
                                    d.day() as u8,
                                )
                                .ok()
                            }) {
                            Some(d) => ws.write_datetime_with_format(riga, col, &d, &formato_data),
                            None => ws.write_string(riga, col, val),
                        },
                        Cella::Testo => ws.write_string(riga, col, val),
                    }
                    .map_err(e)?;
                }
                riga += 1;
            }
            pagina = handle
                .block_on(sf.prossima())
                .map_err(|x| format!("esportazione XLSX: {x}"))?;
        }
    }
    if troncato {
        // Say it where it is seen first: a note sheet, active when the file opens.
        let nome = format!("{} (prime righe)", t.nome());
        libro
            .worksheet_from_index(0)
            .map_err(e)?
            .set_name(&nome)
            .map_err(e)?;
        let nota = libro.add_worksheet();
        nota.set_name("Nota").map_err(e)?;
        nota.write_string_with_format(0, 0, "Esportazione troncata", &titolo)
            .map_err(e)?;
        nota.write_string(
            1,
            0,
            format!(
                "Il foglio «{nome}» contiene solo le prime {MAX_RIGHE_XLSX} righe del registro filtrato. \
                 Restringa i filtri (ente, Comune, …) oppure scarichi il formato CSV, che non ha limiti di righe."
            ),
        )
        .map_err(e)?;
        nota.set_active(true);
    }
    let file = tempfile::NamedTempFile::new().map_err(|x| format!("esportazione XLSX: {x}"))?;
    libro.save(file.path()).map_err(e)?;
    Ok(file)
}

#[cfg(test)]
mod test {
    use super::*;

    fn tavola() -> Tavola {
        servizi::registro::tavola_di("fabbricati")
            .expect("tavola fabbricati")
            .tavola
            .clone()
    }

    fn versione(t: &Tavola, valori: &[(&str, &str)]) -> Versione {
        let mut campi = vec![None; t.campi().len()];
        for (c, v) in valori {
            campi[t.indice(c).expect("campo")] = Some((*v).to_string());
        }
        Versione {
            id: 1,
            ente: "072006".into(),
            chiave: "F/1".into(),
            valido_dal: NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(),
            valido_al: None,
            flusso_dal: 7,
            flusso_al: None,
            campi,
        }
    }

    #[test]
    fn cursore_andata_e_ritorno() {
        let c = (
            "Via Roma, 3 «è»".to_string(),
            "ARCA-JON".to_string(),
            "U/1?&=".to_string(),
        );
        let s = codifica_cursore(&c);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(decodifica_cursore(&s), Some(c));
        assert_eq!(decodifica_cursore("non un cursore!"), None);
        assert_eq!(decodifica_cursore("e30"), None); // `{}`
    }

    #[test]
    fn cursore_segue_l_ordinamento() {
        let t = tavola();
        let v = versione(&t, &[("indirizzo", "Via Roma")]);
        assert_eq!(
            cursore_dopo(&t, Some("indirizzo"), &v),
            ("Via Roma".into(), "072006".into(), "F/1".into())
        );
        assert_eq!(cursore_dopo(&t, None, &v).0, "");
        assert_eq!(cursore_dopo(&t, Some("comune_istat"), &v).0, "");
    }

    #[test]
    fn filtri_validati() {
        let f = Filtri {
            comune_istat: "72006".into(),
            stato_conservazione: "buono".into(),
            alla_data: "2024-02-29".into(),
            ordina: "indirizzo".into(),
            ..Default::default()
        };
        let r = filtro_da("fabbricati", &f, 10).unwrap();
        assert_eq!(r.alla_data, NaiveDate::from_ymd_opt(2024, 2, 29));
        assert!(r.uguale.contains(&("comune_istat".into(), "072006".into())));
        assert!(
            r.uguale
                .contains(&("stato_conservazione".into(), "BUONO".into()))
        );
        let f = Filtri {
            comune_istat: "72006".into(),
            ..Default::default()
        };
        assert_eq!(
            filtro_da("unita", &f, 10).unwrap().genitore,
            vec![("comune_istat".to_string(), "072006".to_string())]
        );
        for sbagliato in [
            Filtri {
                alla_data: "31/12/2024".into(),
                ..Default::default()
            },
            Filtri {
                stato_conservazione: "OTTIMO".into(),
                ..Default::default()
            },
            Filtri {
                ordina: "cf_proprietario; DROP".into(),
                ..Default::default()
            },
            Filtri {
                cursore: "xyz".into(),
                ..Default::default()
            },
        ] {
            assert!(filtro_da("fabbricati", &sbagliato, 10).is_err());
        }
    }

    #[test]
    fn csv_neutralizza_le_formule() {
        let t = tavola();
        let v = versione(
            &t,
            &[
                ("codice_fabbricato", "=HYPERLINK(\"http://x\")"),
                ("indirizzo", "-2+3+cmd|' /C calc'!A0"),
            ],
        );
        let mut out = String::new();
        csv_righe(&mut out, &[v], false);
        assert!(out.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "{out}");
        assert!(out.contains(",'-2+3+cmd|' /C calc'!A0"), "{out}");
    }

    #[test]
    fn csv_con_virgolette() {
        let t = tavola();
        let v = versione(
            &t,
            &[
                ("codice_fabbricato", "F/1"),
                ("indirizzo", "Via \"Nuova\", 3"),
            ],
        );
        let testa = csv_intestazione(&t, true);
        assert!(testa.starts_with("ente,codice_fabbricato,"));
        assert!(testa.ends_with(",valido_dal,valido_al\r\n"));
        let mut out = String::new();
        csv_righe(&mut out, &[v], true);
        assert!(out.starts_with("072006,F/1,"));
        assert!(out.contains(",\"Via \"\"Nuova\"\", 3\","));
        assert!(out.ends_with(",2024-01-31,\r\n"));
        assert_eq!(
            out.matches(',').count() - 1,
            testa.matches(',').count(),
            "one comma inside quotes"
        );
    }

    #[test]
    fn geojson_punto_lon_lat() {
        let t = tavola();
        let v = versione(&t, &[("latitudine", "41.1171"), ("longitudine", "16.8719")]);
        let p = coordinate(&t, &v);
        assert_eq!(p, Some((16.8719, 41.1171)));
        let f = geojson_feature(&t, &v, p);
        assert_eq!(f["geometry"]["coordinates"], json!([16.8719, 41.1171]));
        assert_eq!(f["properties"]["ente"], "072006");
        assert_eq!(f["properties"]["latitudine"], "41.1171");
        assert_eq!(f["properties"]["cap"], Value::Null);
        let senza = versione(&t, &[("latitudine", "41.1")]);
        assert_eq!(coordinate(&t, &senza), None);
        assert_eq!(geojson_feature(&t, &senza, None)["geometry"], Value::Null);
        let tutto = format!("{GEOJSON_TESTA}{f}{GEOJSON_CODA}");
        let letto: Value = serde_json::from_str(&tutto).unwrap();
        assert_eq!(letto["type"], "FeatureCollection");
    }

    #[test]
    fn modelli_si_compongono() {
        let env = crate::modelli::ambiente();
        let t = tavola();
        let tu = servizi::registro::tavola_di("unita")
            .expect("tavola unita")
            .tavola
            .clone();
        let comuni: HashMap<String, String> = [("072006".to_string(), "Bari".to_string())].into();
        let mut a = versione(
            &t,
            &[
                ("codice_fabbricato", "F/1"),
                ("comune_istat", "072006"),
                ("indirizzo", "Via <b>Roma</b>"),
                ("latitudine", "41.1"),
                ("longitudine", "16.8"),
                ("foglio", "12"),
                ("stato_conservazione", "BUONO"),
            ],
        );
        a.valido_al = NaiveDate::from_ymd_opt(2024, 6, 30);
        let mut b = a.clone();
        b.valido_dal = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
        b.valido_al = None;
        b.campi[t.indice("stato_conservazione").unwrap()] = Some("MEDIOCRE".into());
        let storia = vec![a, b.clone()];
        let u = {
            let mut campi = vec![None; tu.campi().len()];
            campi[tu.indice("codice_fabbricato").unwrap()] = Some("F/1".into());
            campi[tu.indice("stato_occupazione").unwrap()] = Some("SFITTO_ASSEGNABILE".into());
            Versione {
                chiave: "U1".into(),
                campi,
                ..b.clone()
            }
        };
        let filtri = context! {
            vede_tutti => true,
            enti => vec![("072006", "Comune di Bari")],
            comuni => vec![("072006", "Bari")],
            opzioni => vec![context! { campo => "regime", etichetta => "Regime", valori => vec![("ERS", "ERS")], scelto => "ERS" }],
            ordinamenti => ordinamenti("unita"),
            f => Filtri { alla_data: "2024-07-01".into(), ..Default::default() },
            alla_data_it => "01/07/2024",
            query => "alla_data=2024-07-01",
            query_oggi => "",
        };
        let shell =
            context! { utente => context! { nome => "Prova" }, csrf => "x", percorso => "/area" };
        let fs = context! { ..filtri, ..shell.clone() };
        let pagine = [
            (
                "registro_elenco.html",
                context! {
                    tabella => "unita",
                    righe => vec![vista(&tu, &u, &comuni, None)],
                    successiva => "?cursore=abc",
                    pagina_successiva => true,
                    ..fs.clone()
                },
            ),
            (
                "registro_elenco.html",
                context! {
                    tabella => "fabbricati",
                    righe => vec![vista(&t, &b, &comuni, None)],
                    ..fs.clone()
                },
            ),
            (
                "registro_mappa.html",
                context! {
                    tabella => "fabbricati",
                    mappa => "{\"punti\":[]}",
                    n_punti => 0, senza_coordinate => 2, troncato => true, max_punti => 5000,
                    ..fs.clone()
                },
            ),
            (
                "registro_fabbricato.html",
                context! {
                    ente => "072006", ente_nome => "Comune di Bari", codice => "F/1",
                    alla_data => "2024-07-01", alla_data_it => "01/07/2024", valida => true,
                    versione => vista(&t, &b, &comuni, None), dati => scheda(&t, &b),
                    catasto => context! { foglio => "12", particella => Option::<String>::None, comune => "072006", comune_nome => "Bari", url => CONSULTAZIONE_CATASTO },
                    mappa => "{\"punti\":[[41.1,16.8,\"F/1\",\"\"]]}",
                    unita => vec![vista(&tu, &u, &comuni, None)], altre_unita => false, max_unita => 500,
                    query_unita => "ente=072006", storia => vista_storia(&t, &storia),
                    ..shell.clone()
                },
            ),
            (
                "registro_unita.html",
                context! {
                    ente => "072006", codice => "U1", valida => true,
                    versione => vista(&tu, &u, &comuni, None), dati => scheda(&tu, &u),
                    storia => vista_storia(&t, &storia),
                    versioni => vec![context! { numero => 1, valido_dal => "01/01/2024", flusso => 3 }, context! { numero => 2, valido_dal => "30/06/2024", flusso => 4 }],
                    confronto => vec![context! { etichetta => "Regime", mai_cambiato => false, celle => vec![context! { valore => "ERS", cambiato => false }, context! { valore => "ERP agevolata", cambiato => true }] }],
                    ..shell.clone()
                },
            ),
        ];
        for (nome, ctx) in pagine {
            let html = env
                .get_template(nome)
                .unwrap_or_else(|e| panic!("{nome}: {e}"))
                .render(ctx)
                .unwrap_or_else(|e| panic!("{nome}: {e:#}"));
            assert!(!html.contains("<b>Roma"), "{nome}: escaped");
            assert!(html.contains("</html>"), "{nome}");
        }
    }

    #[test]
    fn segmenti_e_etichette() {
        assert_eq!(segmento("F/1 a"), "F%2F1%20a");
        assert_eq!(
            leggibile("SFITTO_DA_RISTRUTTURARE"),
            "Sfitto da ristrutturare"
        );
        assert_eq!(etichetta_campo("indirizzo"), "Indirizzo");
    }
}
