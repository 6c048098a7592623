//! The shared databases of `api.md` ("Shared databases (read)"), one implementation for every
//! domain: `GET /api/v1/{area}/{tabella}` (a list, as of today or of a past date),
//! `…/{tabella}/{ente}/{chiave}` (one record) and `…/{ente}/{chiave}/storia` (its versions),
//! where the area is `patrimonio` or `programmi` and the table any register table of a domain of
//! that area. The contract paths of `patrimonio` (`/fabbricati`, `/unita`,
//! `/unita/{ente}/{codice_unita}/storia`) are the same handlers, documented one by one.
//!
//! Lists are JSON arrays of objects keyed by the spec's field names plus `ente`, `valido_dal`,
//! `valido_al`; paged with `?limit=` and `?cursor=` (next page in the `Link` header);
//! `Accept: text/csv` gives CSV. Filters, cursor and CSV come from [`crate::registro`], so the
//! pages and the API cannot drift apart.

use std::collections::BTreeMap;

use crate::estrattori::{Path, Query};
use crate::rotte::{Rotte, get};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use servizi::ErroreServizio;
use utoipa::{IntoParams, ToSchema};

use crate::Stato;
use crate::api::{LIMITE_MASSIMO, LIMITE_PREDEFINITO, soggetto_api};
use crate::errore::ErroreApi;
use crate::registro::{
    Filtri, codifica_cursore, csv_intestazione, csv_righe, cursore_dopo, filtro_da, leggi_data,
};
use servizi::registro::{TavolaRegistro, Versione, tavola_di};

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/api/v1/patrimonio/fabbricati", get(fabbricati))
        .route("/api/v1/patrimonio/unita", get(unita))
        .route(
            "/api/v1/patrimonio/unita/{ente}/{codice_unita}/storia",
            get(storia_unita),
        )
        .route(
            "/api/v1/patrimonio/{tabella}",
            get(|st, h, p, q| elenco_generico(st, h, p, q, dominio::Area::Patrimonio)),
        )
        .route(
            "/api/v1/programmi/{tabella}",
            get(|st, h, p, q| elenco_generico(st, h, p, q, dominio::Area::Programmi)),
        )
        .route(
            "/api/v1/patrimonio/{tabella}/{ente}/{chiave}",
            get(|st, h, p, q| record(st, h, p, q, dominio::Area::Patrimonio)),
        )
        .route(
            "/api/v1/programmi/{tabella}/{ente}/{chiave}",
            get(|st, h, p, q| record(st, h, p, q, dominio::Area::Programmi)),
        )
        .route(
            "/api/v1/patrimonio/{tabella}/{ente}/{chiave}/storia",
            get(|st, h, p| storia(st, h, p, dominio::Area::Patrimonio)),
        )
        .route(
            "/api/v1/programmi/{tabella}/{ente}/{chiave}/storia",
            get(|st, h, p| storia(st, h, p, dominio::Area::Programmi)),
        )
}

/// The register table of a path, if it belongs to a domain of that area (404 otherwise).
fn tavola_dell_area(
    tabella: &str,
    area: dominio::Area,
) -> Result<&'static TavolaRegistro, ErroreApi> {
    tavola_di(tabella)
        .filter(|t| dominio::DominioFlusso::parse(t.dominio.nome).is_ok_and(|d| d.area() == area))
        .ok_or_else(|| ErroreServizio::NonTrovato.into())
}

/// A version of a register record: `ente`, the spec's fields of the table (values as strings
/// or null; numbers and dates too stay strings, in the flow's canonical form), and its
/// validity. The history adds `flusso`, the flow that produced the version.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "ente": "072006",
    "codice_fabbricato": "F001",
    "comune_istat": "072006",
    "indirizzo": "Via Giulio Petroni",
    "latitudine": "41.1087",
    "valido_dal": "2024-03-31",
    "valido_al": null
}))]
pub struct RecordRegistro {
    /// Codice dell'ente (ISTAT del Comune, codice ARCA).
    pub ente: String,
    /// I campi della specifica (`flusso-patrimonio.md`), come stringhe o null.
    #[serde(flatten)]
    pub campi: BTreeMap<String, Option<String>>,
    /// Primo giorno di validità della versione.
    pub valido_dal: NaiveDate,
    /// Giorno da cui la versione non è più valida (null = versione corrente).
    pub valido_al: Option<NaiveDate>,
    /// Solo nella storia: il flusso che ha prodotto la versione.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flusso: Option<i64>,
}

fn oggetto(t: &TavolaRegistro, v: &Versione, storia: bool) -> RecordRegistro {
    RecordRegistro {
        ente: v.ente.clone(),
        campi: t
            .tavola
            .campi()
            .iter()
            .zip(&v.campi)
            .map(|(c, x)| ((*c).to_string(), x.clone()))
            .collect(),
        valido_dal: v.valido_dal,
        valido_al: v.valido_al,
        flusso: storia.then_some(v.flusso_dal),
    }
}

/// Filters of `GET /api/v1/patrimonio/fabbricati`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
// Read by utoipa for the documentation and by serde to refuse a malformed query; the generic
// list reads the parameters itself.
#[allow(dead_code)]
pub struct ParametriFabbricati {
    /// Codice dell'ente. La Regione vede tutti gli enti (o quello indicato); un ente solo sé stesso.
    ente: Option<String>,
    /// Codice ISTAT del Comune (6 cifre).
    comune_istat: Option<String>,
    /// Il registro com'era in quel giorno (AAAA-MM-GG); senza, il registro corrente.
    #[param(value_type = Option<String>, format = Date)]
    alla_data: Option<String>,
    /// Elementi per pagina (predefinito 100, massimo 10 000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    limit: Option<String>,
    /// Cursore opaco preso dall'intestazione `Link: rel="next"`.
    cursor: Option<String>,
    /// Ordinamento: un campo tra quelli offerti dalle pagine del registro (predefinito: il codice).
    ordina: Option<String>,
}

/// Filters of `GET /api/v1/patrimonio/unita`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
// Read by utoipa for the documentation and by serde to refuse a malformed query; the generic
// list reads the parameters itself.
#[allow(dead_code)]
pub struct ParametriUnita {
    /// Codice dell'ente. La Regione vede tutti gli enti (o quello indicato); un ente solo sé stesso.
    ente: Option<String>,
    /// Codice del fabbricato.
    codice_fabbricato: Option<String>,
    /// Stato di occupazione (valori della specifica, es. ASSEGNATO).
    stato_occupazione: Option<String>,
    /// Tipologia (valori della specifica, es. ALLOGGIO).
    tipologia: Option<String>,
    /// Il registro com'era in quel giorno (AAAA-MM-GG); senza, il registro corrente.
    #[param(value_type = Option<String>, format = Date)]
    alla_data: Option<String>,
    /// Elementi per pagina (predefinito 100, massimo 10 000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    limit: Option<String>,
    /// Cursore opaco preso dall'intestazione `Link: rel="next"`.
    cursor: Option<String>,
    /// Ordinamento: un campo tra quelli offerti dalle pagine del registro (predefinito: il codice).
    ordina: Option<String>,
}

fn leggi_query<T: serde::de::DeserializeOwned>(q: Option<&str>) -> Result<T, ErroreApi> {
    serde_html_form::from_str(q.unwrap_or_default()).map_err(|e| {
        ErroreApi::RichiestaNonValida(format!("Parametri della richiesta non validi: {e}."))
    })
}

fn leggi_limite(l: Option<&str>) -> Result<usize, ErroreApi> {
    let l = l.map(str::trim).filter(|l| !l.is_empty());
    let Some(l) = l else {
        return Ok(LIMITE_PREDEFINITO);
    };
    match l.parse::<usize>() {
        Ok(n) if (1..=LIMITE_MASSIMO).contains(&n) => Ok(n),
        _ => Err(ErroreApi::RichiestaNonValida(format!(
            "Il parametro limit deve essere un numero intero tra 1 e {LIMITE_MASSIMO}."
        ))),
    }
}

fn vuole_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"))
}

/// One page of a register list, as JSON or CSV, with the next page's `Link`.
async fn elenco(
    st: &Stato,
    headers: &HeaderMap,
    t: &'static TavolaRegistro,
    percorso: &str,
    f: Filtri,
    limit: Option<&str>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(st, headers).await?;
    let limite = leggi_limite(limit)?;
    // One row more than asked tells whether there is a next page (the store returns at most
    // LIMITE_MASSIMO rows: at the maximum a full page means "maybe more").
    let chiesti = (limite + 1).min(LIMITE_MASSIMO);
    let filtro = filtro_da(t, &f, chiesti).map_err(|m| {
        ErroreApi::RichiestaNonValida(m.replace("Il cursore della pagina", "Il parametro cursor"))
    })?;
    let ordina = filtro.ordina.clone();
    let (t, mut v) = st.p.elenco_registro(&s, t.tabella.nome, filtro).await?;
    let altre = if chiesti > limite {
        v.len() > limite
    } else {
        v.len() == limite
    };
    v.truncate(limite);
    let successivo = altre
        .then(|| {
            v.last()
                .map(|u| codifica_cursore(&cursore_dopo(t, ordina.as_deref(), u)))
        })
        .flatten();
    let mut r = if vuole_csv(headers) {
        let mut out = csv_intestazione(t, true);
        csv_righe(&mut out, &v, true);
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response()
    } else {
        let righe: Vec<RecordRegistro> = v.iter().map(|x| oggetto(t, x, false)).collect();
        axum::Json(righe).into_response()
    };
    if let Some(c) = successivo {
        let mut url =
            st.p.config
                .base_url
                .join(percorso)
                .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in url::form_urlencoded::parse(f.query(t).as_bytes()) {
                q.append_pair(&k, &v);
            }
            q.append_pair("limit", &limite.to_string())
                .append_pair("cursor", &c);
        }
        if let Ok(h) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
            r.headers_mut().insert(header::LINK, h);
        }
    }
    Ok(r)
}

/// `GET /api/v1/patrimonio/fabbricati`: the buildings of the register.
#[utoipa::path(
    get,
    path = "/api/v1/patrimonio/fabbricati",
    tag = "patrimonio",
    params(ParametriFabbricati),
    responses(
        (status = 200, description = "Fabbricati del registro (JSON, o CSV con Accept: text/csv). Ogni oggetto ha i campi della tabella «fabbricati» della specifica più ente, valido_dal, valido_al; i valori sono stringhe o null (anche i numeri restano stringhe). Pagina successiva nell'intestazione Link (rel=\"next\").", body = [RecordRegistro]),
        (status = 400, description = "Parametro non valido (alla_data, limit, cursor, comune_istat)", content_type = "application/problem+json"),
        (status = 401, description = "Token mancante, non valido o revocato", content_type = "application/problem+json"),
        (status = 403, description = "Il token non ha l'area PATRIMONIO", content_type = "application/problem+json"),
        (status = 404, description = "Ente di cui il token non può vedere i dati", content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn fabbricati(
    State(st): State<Stato>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ErroreApi> {
    // Checked for the documented parameters' types; the generic list reads them all.
    let _: ParametriFabbricati = leggi_query(q.as_deref())?;
    elenco_generico(
        State(st),
        headers,
        Path("fabbricati".to_string()),
        RawQuery(q),
        dominio::Area::Patrimonio,
    )
    .await
}

/// `GET /api/v1/patrimonio/unita`: the units of the register.
#[utoipa::path(
    get,
    path = "/api/v1/patrimonio/unita",
    tag = "patrimonio",
    params(ParametriUnita),
    responses(
        (status = 200, description = "Unità immobiliari del registro (JSON, o CSV con Accept: text/csv). Ogni oggetto ha i campi della tabella «unita» della specifica più ente, valido_dal, valido_al; i valori sono stringhe o null (anche i numeri restano stringhe). Pagina successiva nell'intestazione Link (rel=\"next\").", body = [RecordRegistro]),
        (status = 400, description = "Parametro non valido (alla_data, limit, cursor, stato_occupazione, tipologia)", content_type = "application/problem+json"),
        (status = 401, description = "Token mancante, non valido o revocato", content_type = "application/problem+json"),
        (status = 403, description = "Il token non ha l'area PATRIMONIO", content_type = "application/problem+json"),
        (status = 404, description = "Ente di cui il token non può vedere i dati", content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn unita(
    State(st): State<Stato>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ErroreApi> {
    let _: ParametriUnita = leggi_query(q.as_deref())?;
    elenco_generico(
        State(st),
        headers,
        Path("unita".to_string()),
        RawQuery(q),
        dominio::Area::Patrimonio,
    )
    .await
}

/// `GET /api/v1/patrimonio/unita/{ente}/{codice_unita}/storia`: every version of a unit.
#[utoipa::path(
    get,
    path = "/api/v1/patrimonio/unita/{ente}/{codice_unita}/storia",
    tag = "patrimonio",
    params(
        ("ente" = String, Path, description = "Codice dell'ente proprietario del registro"),
        ("codice_unita" = String, Path, description = "Codice dell'unità (con «/» codificato come %2F)"),
    ),
    responses(
        (status = 200, description = "Tutte le versioni dell'unità, dalla più vecchia: i campi della specifica (stringhe o null), ente, valido_dal, valido_al (null per la versione corrente) e flusso (il flusso che ha prodotto la versione).", body = [RecordRegistro]),
        (status = 401, description = "Token mancante, non valido o revocato", content_type = "application/problem+json"),
        (status = 404, description = "Unità inesistente o di un ente di cui il token non può vedere i dati", content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn storia_unita(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path((ente, codice)): Path<(String, String)>,
) -> Result<Response, ErroreApi> {
    storia(
        State(st),
        headers,
        Path(("unita".to_string(), ente, codice)),
        dominio::Area::Patrimonio,
    )
    .await
}

/// A list's parameters: `limit`, `cursor` (the API's names) and the filters of the table.
fn filtri_api(q: Option<&str>) -> Result<(Filtri, Option<String>), ErroreApi> {
    let mut m: std::collections::BTreeMap<String, String> = leggi_query(q)?;
    let limit = m.remove("limit");
    if let Some(c) = m.remove("cursor") {
        m.insert("cursore".into(), c);
    }
    m.remove("cursore_pagina");
    Ok((Filtri(m), limit))
}

/// `GET /api/v1/{area}/{tabella}`: a list of any register table of the area's domains.
pub async fn elenco_generico(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(tabella): Path<String>,
    RawQuery(q): RawQuery,
    area: dominio::Area,
) -> Result<Response, ErroreApi> {
    let t = tavola_dell_area(&tabella, area)?;
    let (f, limit) = filtri_api(q.as_deref())?;
    let percorso = format!(
        "/api/v1/{}/{}",
        area.as_str().to_lowercase(),
        t.tabella.nome
    );
    elenco(&st, &headers, t, &percorso, f, limit.as_deref()).await
}

/// `?alla_data=` of a record.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AllaData {
    alla_data: String,
}

/// `GET /api/v1/{area}/{tabella}/{ente}/{chiave}`: one record, as today (or `?alla_data=`).
pub async fn record(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path((tabella, ente, chiave)): Path<(String, String, String)>,
    Query(q): Query<AllaData>,
    area: dominio::Area,
) -> Result<Response, ErroreApi> {
    let t = tavola_dell_area(&tabella, area)?;
    let data = leggi_data(&q.alla_data).map_err(ErroreApi::RichiestaNonValida)?;
    let s = soggetto_api(&st, &headers).await?;
    let (t, v) =
        st.p.storia_registro(&s, t.tabella.nome, &ente, &chiave)
            .await?;
    let valida = v.iter().rev().find(|x| match data {
        Some(d) => x.valido_dal <= d && x.valido_al.is_none_or(|a| a > d),
        None => x.valido_al.is_none(),
    });
    let x = valida.ok_or(ErroreServizio::NonTrovato)?;
    Ok(axum::Json(oggetto(t, x, true)).into_response())
}

/// `GET /api/v1/{area}/{tabella}/{ente}/{chiave}/storia`: every version of a record.
pub async fn storia(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path((tabella, ente, chiave)): Path<(String, String, String)>,
    area: dominio::Area,
) -> Result<Response, ErroreApi> {
    let t = tavola_dell_area(&tabella, area)?;
    let s = soggetto_api(&st, &headers).await?;
    let (t, v) =
        st.p.storia_registro(&s, t.tabella.nome, &ente, &chiave)
            .await?;
    if vuole_csv(&headers) {
        let mut out = csv_intestazione(t, true);
        csv_righe(&mut out, &v, true);
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response());
    }
    let righe: Vec<RecordRegistro> = v.iter().map(|x| oggetto(t, x, true)).collect();
    Ok(axum::Json(righe).into_response())
}
