//! The flow endpoints of `api.md` (upload, list, state, report, submission, difference,
//! acceptance, rejection).

use crate::estrattori::{Corpo, Multipart, Path, Query};
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dominio::politica::{Azione, autorizza};
use dominio::{CodiceEnte, DominioFlusso};
use serde::{Deserialize, Serialize};
use servizi::ErroreServizio;
use utoipa::{IntoParams, ToSchema};

use crate::Stato;
use crate::api::soggetto_api;
use crate::caricamento::{self, Rifiuto};
use crate::errore::ErroreApi;

/// A flow as the API shows it (the keys of `api.md`, plus a few more).
#[derive(Serialize, ToSchema)]
pub struct FlussoApi {
    id: i64,
    ente: String,
    dominio: String,
    stato: String,
    valido: Option<bool>,
    errori: Option<i64>,
    avvisi: Option<i64>,
    righe: Option<i64>,
    protocollo: Option<String>,
    caricato_il: String,
    inviato_il: Option<String>,
    esito_il: Option<String>,
    motivazione: Option<String>,
    nome_file: String,
    sha256: String,
    dimensione: i64,
    /// Rows read so far by the validation (live progress).
    righe_lette: i64,
    /// Estimated rows of the file, when the container tells cheaply.
    righe_stimate: Option<i64>,
    /// Progress of the validation, 0–100, when estimable.
    percentuale: Option<i64>,
    /// The signature as people read it: who signed and whether their identity is verified
    /// against the configured certifiers.
    firmatario: Option<String>,
    superato_da: Option<i64>,
    /// The referent's reason for removing many records, written when submitting.
    motivazione_rimozioni: Option<String>,
    /// When and by whom the flow was withdrawn (state `ritirato`).
    ritirato_il: Option<String>,
}

/// Progress percentage of a validation (100 once validated).
pub fn percentuale(f: &servizi::flussi::Flusso) -> Option<i64> {
    match f.stato.as_str() {
        "caricato" => Some(0),
        "in_validazione" => f
            .righe_stimate
            .filter(|n| *n > 0)
            .map(|n| (f.righe_lette * 100 / n).clamp(0, 99)),
        _ => Some(100),
    }
}

impl From<servizi::flussi::Flusso> for FlussoApi {
    fn from(f: servizi::flussi::Flusso) -> Self {
        let ts = |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339();
        let percentuale = percentuale(&f);
        Self {
            id: f.id,
            ente: f.ente.to_string(),
            dominio: f.dominio.to_string(),
            stato: f.stato.to_string(),
            valido: f.valido,
            errori: f.errori,
            avvisi: f.avvisi,
            righe: f.righe,
            protocollo: f.protocollo,
            caricato_il: ts(f.caricato_il),
            inviato_il: f.inviato_il.map(ts),
            esito_il: f.esito_il.map(ts),
            motivazione: f.motivazione,
            nome_file: f.nome_file,
            sha256: f.sha256,
            dimensione: f.dimensione,
            righe_lette: f.righe_lette,
            righe_stimate: f.righe_stimate,
            percentuale,
            firmatario: f.firmatario,
            superato_da: f.superato_da,
            motivazione_rimozioni: f.motivazione_rimozioni,
            ritirato_il: f.ritirato_il.map(ts),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ParametriCaricamento {
    /// `patrimonio` (the domains of the spec; the others are not open yet).
    dominio: String,
    /// The file name, when the body is the raw file (it tells the container: .zip, .xlsx, .csv, .json, .p7m).
    nome: Option<String>,
}

fn rifiuto(r: Rifiuto) -> ErroreApi {
    match r {
        Rifiuto::TroppoGrande(_) | Rifiuto::CampoTroppoGrande => {
            ErroreApi::TroppoGrande(r.messaggio())
        }
        Rifiuto::Vuoto | Rifiuto::TroppiCampi | Rifiuto::PiuFile | Rifiuto::Csrf => {
            ErroreApi::RichiestaNonValida(r.messaggio())
        }
        Rifiuto::Interrotto(causa) => {
            tracing::warn!(causa, "caricamento interrotto");
            ErroreApi::RichiestaNonValida(Rifiuto::Interrotto(String::new()).messaggio())
        }
    }
}

/// `POST /api/v1/flussi?dominio=<D>`: uploads a flow of the token's entity.
#[utoipa::path(
    post,
    path = "/api/v1/flussi",
    params(ParametriCaricamento),
    request_body(content = Vec<u8>, description = "Il file (ZIP di CSV, XLSX, CSV, JSON, eventualmente firmato .p7m), oppure multipart/form-data con la parte «file»"),
    responses(
        (status = 202, description = "Flusso caricato: la validazione procede in background", body = FlussoApi),
        (status = 200, description = "Gli stessi byte erano già stati caricati: il flusso esistente", body = FlussoApi),
        (status = 401, description = "Token mancante o non valido"),
        (status = 403, description = "Il token non ha l'area del dominio"),
        (status = 413, description = "Il file supera la dimensione massima"),
    ),
    security(("token" = []))
)]
pub async fn carica(
    State(st): State<Stato>,
    Query(q): Query<ParametriCaricamento>,
    req: Request,
) -> Result<Response, ErroreApi> {
    let headers = req.headers().clone();
    let s = soggetto_api(&st, &headers).await?;
    let dominio = DominioFlusso::parse(&q.dominio).map_err(ErroreServizio::from)?;
    // Refuse before reading the body when the subject cannot upload at all.
    let ente = match &s {
        dominio::Soggetto::Token { ente, .. } if !ente.is_regione() => ente.clone(),
        // The Region's token sends the Region's own domain.
        dominio::Soggetto::Token { ente, .. } if dominio == DominioFlusso::Programmi => {
            ente.clone()
        }
        dominio::Soggetto::Anonimo => {
            return Err(ErroreServizio::Negato(dominio::Negato::NonAutenticato).into());
        }
        _ => return Err(ErroreServizio::Negato(dominio::Negato::Vietato).into()),
    };
    autorizza(&s, &Azione::OperareFlusso(&ente, dominio)).map_err(ErroreServizio::from)?;
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (file, nome) = if multipart {
        let Multipart(m) = Multipart::from_request(req, &st).await.map_err(|_| {
            ErroreApi::RichiestaNonValida(crate::estrattori::MULTIPART_NON_VALIDO.into())
        })?;
        let m = caricamento::ricevi_modulo(&st.p, m, caricamento::Provenienza::Api)
            .await
            .map_err(rifiuto)?;
        let (f, n) = m.file.ok_or_else(|| rifiuto(Rifiuto::Vuoto))?;
        // The part's own file name, else `?nome=`, else a default.
        let n = if n.is_empty() {
            caricamento::nome_da_intestazioni(q.nome.as_deref(), &HeaderMap::new())
        } else {
            n
        };
        (f, n)
    } else {
        let nome = caricamento::nome_da_intestazioni(q.nome.as_deref(), &headers);
        let f = caricamento::ricevi_corpo(&st.p, req.into_body())
            .await
            .map_err(rifiuto)?;
        (f, nome)
    };
    let c = st.p.carica_flusso(&s, &ente, dominio, &nome, file).await?;
    let status = if c.nuovo {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let mut r = (status, Json(FlussoApi::from(c.flusso.clone()))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/flussi/{}", c.flusso.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

#[derive(Deserialize, IntoParams)]
pub struct FiltriFlussi {
    dominio: Option<String>,
    stato: Option<String>,
    ente: Option<String>,
    /// Items per page (default 100, max 1000).
    limit: Option<i64>,
    /// Flows older than this id (from the `Link` header).
    cursor: Option<i64>,
}

/// `GET /api/v1/flussi`: the subject's flows (the Region: all), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/flussi",
    params(FiltriFlussi),
    responses((status = 200, body = [FlussoApi]), (status = 401), (status = 403)),
    security(("token" = []))
)]
pub async fn elenco(
    State(st): State<Stato>,
    headers: HeaderMap,
    Query(q): Query<FiltriFlussi>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let dominio = q
        .dominio
        .as_deref()
        .map(DominioFlusso::parse)
        .transpose()
        .map_err(ErroreServizio::from)?;
    let stato = q
        .stato
        .as_deref()
        .map(dominio::StatoFlusso::parse)
        .transpose()
        .map_err(ErroreServizio::from)?;
    let ente = q
        .ente
        .as_deref()
        .map(CodiceEnte::parse)
        .transpose()
        .map_err(ErroreServizio::from)?;
    let limite = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limite) {
        return Err(ErroreApi::RichiestaNonValida(
            "Il parametro limit deve essere tra 1 e 1000.".into(),
        ));
    }
    let v =
        st.p.elenco_flussi(
            &s,
            servizi::flussi::FiltroFlussi {
                ente,
                dominio,
                stato,
                prima_di: q.cursor,
                limite: limite + 1,
            },
        )
        .await?;
    let altro = v.len() as i64 > limite;
    let v: Vec<FlussoApi> = v
        .into_iter()
        .take(limite as usize)
        .map(Into::into)
        .collect();
    let mut r = Json(&v).into_response();
    if altro && let Some(ultimo) = v.last() {
        let mut link = format!("</api/v1/flussi?limit={limite}&cursor={}", ultimo.id);
        for (k, x) in [
            ("dominio", &q.dominio),
            ("stato", &q.stato),
            ("ente", &q.ente),
        ] {
            if let Some(x) = x {
                link.push_str(&format!("&{k}={x}"));
            }
        }
        link.push_str(">; rel=\"next\"");
        if let Ok(h) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(header::LINK, h);
        }
    }
    Ok(r)
}

/// `GET /api/v1/flussi/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/flussi/{id}",
    responses((status = 200, body = FlussoApi), (status = 401), (status = 404)),
    security(("token" = []))
)]
pub async fn dettaglio(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<FlussoApi>, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    Ok(Json(st.p.flusso_visibile(&s, id).await?.into()))
}

#[derive(Deserialize, IntoParams)]
pub struct FormatoReport {
    /// `json` (default) or `csv`.
    formato: Option<String>,
}

/// `GET /api/v1/flussi/{id}/report`: the report object of `validazione.md` §5.
#[utoipa::path(
    get,
    path = "/api/v1/flussi/{id}/report",
    params(FormatoReport),
    responses((status = 200, description = "Il rapporto (JSON come push validate, o CSV)"), (status = 404), (status = 409, description = "Il flusso non è ancora stato validato")),
    security(("token" = []))
)]
pub async fn report(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<FormatoReport>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let r = report_di(&st, &s, id).await?;
    match q.formato.as_deref() {
        None | Some("json") => {
            Ok(([(header::CONTENT_TYPE, "application/json")], r).into_response())
        }
        Some("csv") => {
            let rep: ReportCsv = serde_json::from_slice(&r)
                .map_err(|e| ErroreServizio::Interno(format!("rapporto: {e}")))?;
            Ok((
                [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                rep.csv(),
            )
                .into_response())
        }
        Some(_) => Err(ErroreApi::RichiestaNonValida(
            "Il formato deve essere json o csv.".into(),
        )),
    }
}

/// The stored report's bytes; 409 while the flow is not yet validated.
pub async fn report_di(
    st: &Stato,
    s: &dominio::Soggetto,
    id: i64,
) -> Result<Vec<u8>, ErroreServizio> {
    st.p.report_flusso(s, id).await?.ok_or_else(|| {
        ErroreServizio::Conflitto(
            "Il flusso non è ancora stato validato: il rapporto sarà disponibile al termine della validazione.".into(),
        )
    })
}

/// Just the issues of a stored report, to write its CSV with the engine's own writer.
#[derive(Deserialize)]
pub struct ReportCsv {
    segnalazioni: Vec<flussi::report::Segnalazione>,
}

impl ReportCsv {
    pub fn csv(&self) -> String {
        flussi::report::csv_segnalazioni(&self.segnalazioni)
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CorpoInvio {
    /// Why the flow removes many records: required when it would remove more than 10 % of
    /// the entity's current records of a table, or more than 50 of them.
    motivazione_rimozioni: Option<String>,
}

/// `POST /api/v1/flussi/{id}/invio`: submits a valid flow (the API submission confirms its
/// warnings).
#[utoipa::path(
    post,
    path = "/api/v1/flussi/{id}/invio",
    request_body(content = Option<CorpoInvio>, description = "Facoltativo; «motivazione_rimozioni» è obbligatoria quando il flusso rimuove più del 10 % dei record attuali di una tabella (o più di 50)"),
    responses((status = 200, body = FlussoApi), (status = 404), (status = 409, description = "Il flusso non è valido"), (status = 422, description = "Manca la motivazione delle rimozioni")),
    security(("token" = []))
)]
pub async fn invio(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    corpo: Option<Corpo<CorpoInvio>>,
) -> Result<Json<FlussoApi>, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let motivazione = corpo.and_then(|Corpo(c)| c.motivazione_rimozioni);
    Ok(Json(
        st.p.invia_flusso(&s, id, true, motivazione.as_deref())
            .await?
            .into(),
    ))
}

/// `POST /api/v1/flussi/{id}/ritiro`: the entity withdraws a flow not yet submitted.
#[utoipa::path(
    post,
    path = "/api/v1/flussi/{id}/ritiro",
    responses((status = 200, description = "Flusso ritirato", body = FlussoApi), (status = 403), (status = 404), (status = 409, description = "Il flusso è già stato inviato (o ritirato)")),
    security(("token" = []))
)]
pub async fn ritiro(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<FlussoApi>, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    Ok(Json(st.p.ritira_flusso(&s, id).await?.into()))
}

/// `GET /api/v1/flussi/{id}/originale`: the file as it was uploaded.
#[utoipa::path(
    get,
    path = "/api/v1/flussi/{id}/originale",
    responses((status = 200, description = "Il file caricato, byte per byte", content_type = "application/octet-stream"), (status = 404)),
    security(("token" = []))
)]
pub async fn originale(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let (f, p) = st.p.originale_flusso(&s, id).await?;
    Ok(risposta_originale(&f, &p).await?)
}

/// A download of a flow's original file, streamed from disk in chunks (never read whole into
/// memory), with a file name that cannot break the header: an ASCII fallback and the exact
/// name in RFC 6266/5987 form.
pub async fn risposta_originale(
    f: &servizi::flussi::Flusso,
    p: &std::path::Path,
) -> Result<Response, ErroreServizio> {
    let file = tokio::fs::File::open(p)
        .await
        .map_err(|e| ErroreServizio::Interno(format!("file del flusso {}: {e}", f.id)))?;
    let lunghezza = file
        .metadata()
        .await
        .map_err(|e| ErroreServizio::Interno(format!("file del flusso {}: {e}", f.id)))?
        .len();
    let nome = format!("flusso-{}-{}", f.id, f.nome_file);
    let ascii: String = nome
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let esatto = percent_encoding::utf8_percent_encode(&nome, percent_encoding::NON_ALPHANUMERIC);
    let disposizione = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{esatto}");
    let corpo =
        axum::body::Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
    let mut r = corpo.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(lunghezza));
    if let Ok(v) = HeaderValue::from_str(&disposizione) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The difference of a flow against the current register.
#[derive(Serialize, ToSchema)]
pub struct DifferenzeApi {
    flusso: i64,
    /// Whether the counts were computed against the register as it is now.
    aggiornate: bool,
    /// The referent's reason for the removals, when written at submission.
    motivazione_rimozioni: Option<String>,
    /// Per table: `aggiunti`, `modificati`, `rimossi` counts.
    conteggi: serde_json::Value,
    /// Up to `limit` records per table and kind (`?tabella=&tipo=&offset=` for more).
    elenchi: serde_json::Value,
}

#[derive(Deserialize, IntoParams)]
pub struct ParametriDifferenze {
    tabella: Option<String>,
    tipo: Option<String>,
    offset: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/flussi/{id}/differenze`
#[utoipa::path(
    get,
    path = "/api/v1/flussi/{id}/differenze",
    params(ParametriDifferenze),
    responses((status = 200, body = DifferenzeApi), (status = 404), (status = 409, description = "Differenze non ancora calcolate")),
    security(("token" = []))
)]
pub async fn differenze(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<ParametriDifferenze>,
) -> Result<Json<DifferenzeApi>, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let (f, conteggi, aggiornate) = st.p.differenze_flusso(&s, id).await?;
    let conteggi = conteggi.ok_or_else(|| {
        ErroreServizio::Conflitto(
            "Le differenze non sono ancora disponibili: il flusso deve essere valido e la validazione conclusa.".into(),
        )
    })?;
    let limite = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut elenchi = serde_json::Map::new();
    for (t, _) in &conteggi {
        if q.tabella.as_deref().is_some_and(|x| x != t) {
            continue;
        }
        let mut per_tipo = serde_json::Map::new();
        for tipo in ["aggiunto", "modificato", "rimosso"] {
            if q.tipo.as_deref().is_some_and(|x| x != tipo) {
                continue;
            }
            let v =
                st.p.elenco_differenze(&s, id, t, tipo, q.offset.unwrap_or(0), limite)
                    .await?;
            let v: Vec<serde_json::Value> = v
                .into_iter()
                .map(|d| {
                    let campi: serde_json::Value = d
                        .campi
                        .as_deref()
                        .and_then(|c| serde_json::from_str(c).ok())
                        .unwrap_or(serde_json::Value::Null);
                    serde_json::json!({ "chiave": d.chiave, "campi": campi })
                })
                .collect();
            per_tipo.insert(tipo.to_string(), v.into());
        }
        elenchi.insert(t.clone(), per_tipo.into());
    }
    Ok(Json(DifferenzeApi {
        flusso: id,
        aggiornate,
        motivazione_rimozioni: f.motivazione_rimozioni,
        conteggi: serde_json::to_value(
            conteggi
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap_or_default(),
        elenchi: elenchi.into(),
    }))
}

/// `POST /api/v1/flussi/{id}/accettazione` (Region)
#[utoipa::path(
    post,
    path = "/api/v1/flussi/{id}/accettazione",
    responses((status = 200, body = FlussoApi), (status = 403), (status = 404), (status = 409, description = "Il flusso non è inviato o è stato superato")),
    security(("token" = []))
)]
pub async fn accettazione(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<FlussoApi>, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    Ok(Json(st.p.accetta_flusso(&s, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct CorpoRifiuto {
    motivazione: Option<String>,
}

/// `POST /api/v1/flussi/{id}/rifiuto` (Region), body `{"motivazione": "..."}`
#[utoipa::path(
    post,
    path = "/api/v1/flussi/{id}/rifiuto",
    request_body = CorpoRifiuto,
    responses((status = 200, body = FlussoApi), (status = 403), (status = 404), (status = 409), (status = 422, description = "Motivazione mancante")),
    security(("token" = []))
)]
pub async fn rifiuto_flusso(
    State(st): State<Stato>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    corpo: Option<Corpo<CorpoRifiuto>>,
) -> Result<Json<FlussoApi>, ErroreApi> {
    let s = soggetto_api(&st, &headers).await?;
    let motivazione = corpo.and_then(|Corpo(c)| c.motivazione).unwrap_or_default();
    Ok(Json(
        st.p.respingi_flusso(&s, id, &motivazione).await?.into(),
    ))
}

pub fn rotte() -> crate::rotte::Rotte {
    use crate::rotte::{Rotte, get, post};
    Rotte::new()
        .route(
            "/api/v1/flussi",
            post(carica)
                .get(elenco)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/v1/flussi/{id}", get(dettaglio))
        .route("/api/v1/flussi/{id}/report", get(report))
        .route("/api/v1/flussi/{id}/invio", post(invio))
        .route("/api/v1/flussi/{id}/differenze", get(differenze))
        .route("/api/v1/flussi/{id}/accettazione", post(accettazione))
        .route("/api/v1/flussi/{id}/rifiuto", post(rifiuto_flusso))
        .route("/api/v1/flussi/{id}/ritiro", post(ritiro))
        .route("/api/v1/flussi/{id}/originale", get(originale))
}
