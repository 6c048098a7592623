//! The shared databases of `api.md` ("Shared databases (read)"): the register of buildings and
//! units, as of today or of a past date, and the history of a unit.
//!
//! Lists are JSON arrays of objects keyed by the spec's field names plus `ente`, `valido_dal`,
//! `valido_al`; paged with `?limit=` and `?cursor=` (next page in the `Link` header);
//! `Accept: text/csv` gives CSV. Filters, cursor and CSV come from [`crate::pagine::registro`],
//! so the pages and the API cannot drift apart.

use std::collections::BTreeMap;

use crate::estrattori::Path;
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
use crate::pagine::registro::{
    Filtri, codifica_cursore, csv_intestazione, csv_righe, cursore_dopo, filtro_da,
};

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/api/v1/patrimonio/fabbricati", get(fabbricati))
        .route("/api/v1/patrimonio/unita", get(unita))
        .route(
            "/api/v1/patrimonio/unita/{ente}/{codice_unita}/storia",
            get(storia_unita),
        )
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

fn record(t: &archivio::Tavola, v: &archivio::Versione, storia: bool) -> RecordRegistro {
    RecordRegistro {
        ente: v.ente.clone(),
        campi: t
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
    tabella: &'static str,
    percorso: &str,
    f: Filtri,
    limit: Option<&str>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(st, headers).await?;
    let limite = leggi_limite(limit)?;
    // One row more than asked tells whether there is a next page (the store returns at most
    // LIMITE_MASSIMO rows: at the maximum a full page means "maybe more").
    let chiesti = (limite + 1).min(LIMITE_MASSIMO);
    let filtro = filtro_da(tabella, &f, chiesti).map_err(|m| {
        ErroreApi::RichiestaNonValida(m.replace("Il cursore della pagina", "Il parametro cursor"))
    })?;
    let ordina = filtro.ordina.clone();
    let (t, mut v) = st.p.elenco_registro(&s, tabella, filtro).await?;
    let t = t.tavola.clone();
    let altre = if chiesti > limite {
        v.len() > limite
    } else {
        v.len() == limite
    };
    v.truncate(limite);
    let successivo = altre
        .then(|| {
            v.last()
                .map(|u| codifica_cursore(&cursore_dopo(&t, ordina.as_deref(), u)))
        })
        .flatten();
    let mut r = if vuole_csv(headers) {
        let mut out = csv_intestazione(&t, true);
        csv_righe(&mut out, &v, true);
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response()
    } else {
        let righe: Vec<RecordRegistro> = v.iter().map(|x| record(&t, x, false)).collect();
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
            for (k, v) in url::form_urlencoded::parse(f.query().as_bytes()) {
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
    let p: ParametriFabbricati = leggi_query(q.as_deref())?;
    let f = Filtri {
        ente: p.ente.unwrap_or_default(),
        comune_istat: p.comune_istat.unwrap_or_default(),
        alla_data: p.alla_data.unwrap_or_default(),
        cursore: p.cursor.unwrap_or_default(),
        ordina: p.ordina.unwrap_or_default(),
        ..Default::default()
    };
    elenco(
        &st,
        &headers,
        "fabbricati",
        "/api/v1/patrimonio/fabbricati",
        f,
        p.limit.as_deref(),
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
    let p: ParametriUnita = leggi_query(q.as_deref())?;
    let f = Filtri {
        ente: p.ente.unwrap_or_default(),
        codice_fabbricato: p.codice_fabbricato.unwrap_or_default(),
        stato_occupazione: p.stato_occupazione.unwrap_or_default(),
        tipologia: p.tipologia.unwrap_or_default(),
        alla_data: p.alla_data.unwrap_or_default(),
        cursore: p.cursor.unwrap_or_default(),
        ordina: p.ordina.unwrap_or_default(),
        ..Default::default()
    };
    elenco(
        &st,
        &headers,
        "unita",
        "/api/v1/patrimonio/unita",
        f,
        p.limit.as_deref(),
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
    let s = soggetto_api(&st, &headers).await?;
    let (t, v) = st.p.storia_registro(&s, "unita", &ente, &codice).await?;
    let t = t.tavola.clone();
    if vuole_csv(&headers) {
        let mut out = csv_intestazione(&t, true);
        csv_righe(&mut out, &v, true);
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response());
    }
    let righe: Vec<RecordRegistro> = v.iter().map(|x| record(&t, x, true)).collect();
    Ok(axum::Json(righe).into_response())
}
