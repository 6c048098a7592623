//! News pages: the public list and page (each reader sees what is meant for them), the
//! attachments, and the Region's page to publish (with attachments) and withdraw news.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use servizi::ErroreServizio;
use servizi::comunicazioni::{DomandaComunicazione, LIMITE_ALLEGATO, MAX_ALLEGATI};
use servizi::deposito::Ricevuto;

use crate::Stato;
use crate::caricamento::{self, Rifiuto};
use crate::contesto::{Contesto, Modulo};
use crate::errore::ErrorePagina;
use crate::estrattori::{Multipart, Path};
use crate::modelli::pagina;

/// `/comunicazioni`
pub async fn elenco(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let notizie = st.p.comunicazioni(cx.soggetto(), 100).await?;
    pagina(&st, &cx, "comunicazioni.html", context! { notizie })
}

/// `/comunicazioni/{id}`
pub async fn dettaglio(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Html<String>, ErrorePagina> {
    let n = st.p.comunicazione(cx.soggetto(), id).await?;
    pagina(&st, &cx, "comunicazione.html", context! { n })
}

/// `/comunicazioni/{id}/allegati/{allegato}`: always a download, never shown inline (an
/// attachment is not a page of this site).
pub async fn allegato(
    State(st): State<Stato>,
    cx: Contesto,
    Path((id, allegato)): Path<(i64, i64)>,
) -> Result<Response, ErrorePagina> {
    let (a, p) = st.p.allegato(cx.soggetto(), id, allegato).await?;
    let file = tokio::fs::File::open(&p)
        .await
        .map_err(|e| ErroreServizio::Interno(format!("allegato {allegato}: {e}")))?;
    let ascii: String = a
        .nome
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let esatto = percent_encoding::utf8_percent_encode(&a.nome, percent_encoding::NON_ALPHANUMERIC);
    let mut r =
        axum::body::Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024))
            .into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.tipo) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{esatto}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(a.dimensione.max(0) as u64),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}

async fn gestione(
    st: &Stato,
    cx: &Contesto,
    errore: Option<String>,
    d: Option<&DomandaComunicazione>,
) -> Result<Html<String>, ErrorePagina> {
    let notizie = st.p.tutte_comunicazioni(cx.soggetto()).await?;
    pagina(
        st,
        cx,
        "comunicazioni_gestione.html",
        context! { notizie, errore, d => d.cloned().unwrap_or_default(), max_allegati => MAX_ALLEGATI,
        limite_mb => LIMITE_ALLEGATO / 1024 / 1024 },
    )
}

/// `/area/comunicazioni`: the Region's page.
pub async fn gestisci(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    gestione(&st, &cx, None, None).await
}

/// Reads the form: its text fields and up to [`MAX_ALLEGATI`] files `allegati`, each within
/// [`LIMITE_ALLEGATO`] (refused while receiving, never held whole in memory).
async fn ricevi(
    st: &Stato,
    cx: &Contesto,
    mut m: axum::extract::Multipart,
) -> Result<(Vec<(String, String)>, Vec<(Ricevuto, String)>), Rifiuto> {
    let mut campi = Vec::new();
    let mut file = Vec::new();
    let mut csrf_ok = false;
    while let Some(mut campo) = m
        .next_field()
        .await
        .map_err(|e| Rifiuto::Interrotto(e.to_string()))?
    {
        let nome = campo.name().unwrap_or_default().to_string();
        if nome == "allegati" {
            if !csrf_ok {
                return Err(Rifiuto::Csrf);
            }
            let nome_file = campo.file_name().unwrap_or_default().to_string();
            let mut r =
                st.p.deposito
                    .ricevi(LIMITE_ALLEGATO)
                    .map_err(|e| Rifiuto::Interrotto(e.to_string()))?;
            while let Some(parte) = campo
                .chunk()
                .await
                .map_err(|e| Rifiuto::Interrotto(e.to_string()))?
            {
                r.scrivi(&parte)
                    .map_err(|_| Rifiuto::TroppoGrande(LIMITE_ALLEGATO))?;
            }
            if r.dimensione() > 0 {
                if file.len() >= MAX_ALLEGATI {
                    return Err(Rifiuto::PiuFile);
                }
                file.push((
                    r.chiudi().map_err(|e| Rifiuto::Interrotto(e.to_string()))?,
                    nome_file,
                ));
            }
            continue;
        }
        if campi.len() >= caricamento::MAX_CAMPI {
            return Err(Rifiuto::TroppiCampi);
        }
        let v = caricamento::leggi_campo(&mut campo).await?;
        if nome == "_csrf" {
            csrf_ok = cx.csrf_valido(st, &v);
            if !csrf_ok {
                return Err(Rifiuto::Csrf);
            }
        }
        campi.push((nome, v));
    }
    if !csrf_ok {
        return Err(Rifiuto::Csrf);
    }
    Ok((campi, file))
}

/// `POST /area/comunicazioni` (multipart): publish.
pub async fn pubblica(
    State(st): State<Stato>,
    cx: Contesto,
    Multipart(m): Multipart,
) -> Result<Response, ErrorePagina> {
    dominio::politica::autorizza(
        cx.soggetto(),
        &dominio::politica::Azione::PubblicareComunicazioni,
    )
    .map_err(ErroreServizio::from)?;
    let (campi, file) = match ricevi(&st, &cx, m).await {
        Ok(x) => x,
        Err(Rifiuto::Csrf) => return Err(ErrorePagina::Csrf),
        Err(r) => {
            let messaggio = match &r {
                Rifiuto::TroppoGrande(l) => format!(
                    "Un allegato supera la dimensione massima di {} MB: la comunicazione non è stata pubblicata.",
                    l / 1024 / 1024
                ),
                Rifiuto::PiuFile => format!(
                    "Si possono allegare al massimo {MAX_ALLEGATI} file: la comunicazione non è stata pubblicata."
                ),
                r => r.messaggio(),
            };
            return Ok(
                (r.stato(), gestione(&st, &cx, Some(messaggio), None).await?).into_response(),
            );
        }
    };
    let campo = |k: &str| {
        campi
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let d = DomandaComunicazione {
        titolo: campo("titolo"),
        corpo: campo("corpo"),
        data: campo("data"),
        pubblico: campo("pubblico"),
        enti: campo("enti"),
        banner_dal: campo("banner_dal"),
        banner_al: campo("banner_al"),
    };
    match st.p.pubblica_comunicazione(cx.soggetto(), &d, file).await {
        Ok(id) => Ok(super::vai(&format!("/comunicazioni/{id}?esito=pubblicata"))),
        Err(ErroreServizio::Dominio(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            gestione(&st, &cx, Some(e.to_string()), Some(&d)).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Vuoto {}

/// `POST /area/comunicazioni/{id}/ritiro`
pub async fn ritira(
    State(st): State<Stato>,
    Path(id): Path<i64>,
    Modulo(cx, _v): Modulo<Vuoto>,
) -> Result<Response, ErrorePagina> {
    st.p.ritira_comunicazione(cx.soggetto(), id).await?;
    Ok(super::vai("/area/comunicazioni?esito=ritirata"))
}
