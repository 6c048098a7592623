//! Machine tokens in the web UI: the legal representative (or the Region) creates and revokes
//! them; a new token is shown once. Creation answers with a redirect (POST/redirect/GET): the
//! secret waits in a one-shot message of the session, taken by the GET, so reloading the page
//! neither creates a second token nor shows the secret again.

use crate::estrattori::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use dominio::{Area, CodiceEnte};
use minijinja::context;
use serde::Deserialize;
use servizi::ErroreServizio;
use servizi::token::Richiedente;

use crate::Stato;
use crate::contesto::{Contesto, Modulo};
use crate::errore::ErrorePagina;
use crate::modelli::pagina;

fn codice(c: &str) -> Result<CodiceEnte, ErrorePagina> {
    CodiceEnte::parse(c).map_err(|_| ErroreServizio::NonTrovato.into())
}

async fn mostra(
    st: &Stato,
    cx: &Contesto,
    c: &CodiceEnte,
    nuovo: Option<String>,
    errore: Option<String>,
) -> Result<Html<String>, ErrorePagina> {
    let token =
        st.p.elenco_token(Richiedente::Soggetto(cx.soggetto()), Some(c))
            .await?;
    let ente = st.p.ente(c.as_str()).await?;
    pagina(
        st,
        cx,
        "token.html",
        context! { ente, token, nuovo, errore, regione => c.is_regione() },
    )
}

#[derive(Deserialize)]
pub struct DopoCreazione {
    /// The one-shot message holding the new token's secret.
    nuovo: Option<String>,
}

pub async fn elenco(
    State(st): State<Stato>,
    cx: Contesto,
    Path(c): Path<String>,
    Query(q): Query<DopoCreazione>,
) -> Result<Response, ErrorePagina> {
    let c = codice(&c)?;
    let nuovo = match (q.nuovo.as_deref(), cx.cookie_sessione()) {
        (Some(id), Some(sessione)) => st.p.prendi_avviso(sessione, id).await?,
        _ => None,
    };
    let mostra_segreto = nuovo.is_some();
    let mut r = mostra(&st, &cx, &c, nuovo, None).await?.into_response();
    if mostra_segreto {
        // Kept by no cache: the back button must not bring the secret back.
        r.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    Ok(r)
}

#[derive(Deserialize)]
pub struct NuovoToken {
    #[serde(default)]
    nome: String,
    #[serde(default)]
    aree: Vec<String>,
}

pub async fn crea(
    State(st): State<Stato>,
    Path(c): Path<String>,
    Modulo(cx, m): Modulo<NuovoToken>,
) -> Result<Response, ErrorePagina> {
    let c = codice(&c)?;
    // Where the secret will wait for the next page: only a logged-in session creates tokens.
    let sessione = cx
        .cookie_sessione()
        .map(str::to_string)
        .ok_or(ErroreServizio::Negato(dominio::Negato::NonAutenticato))?;
    let aree = if c.is_regione() {
        Ok(vec![])
    } else {
        Area::parse_elenco(&m.aree.join(","))
    };
    let esito = match aree {
        Ok(aree) => {
            st.p.crea_token(Richiedente::Soggetto(cx.soggetto()), &c, &aree, &m.nome)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match esito {
        // The secret goes to the next page of this session only, sealed; it is never stored
        // in clear.
        Ok(t) => {
            let id = st.p.metti_avviso(&sessione, &t.segreto).await?;
            Ok(super::vai(&format!("/area/enti/{c}/token?nuovo={id}")))
        }
        Err(ErroreServizio::Dominio(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            mostra(&st, &cx, &c, None, Some(e.to_string())).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Vuoto {}

pub async fn revoca(
    State(st): State<Stato>,
    Path((c, id)): Path<(String, i64)>,
    Modulo(cx, _v): Modulo<Vuoto>,
) -> Result<Response, ErrorePagina> {
    let c = codice(&c)?;
    st.p.revoca_token(Richiedente::Soggetto(cx.soggetto()), Some(&c), id)
        .await?;
    Ok(super::vai(&format!("/area/enti/{c}/token?esito=revocato")))
}
