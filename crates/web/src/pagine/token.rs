//! Machine tokens in the web UI: the legal representative (or the Region) creates and revokes
//! them; a new token is shown once.

use axum::extract::{Path, State};
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

pub async fn elenco(
    State(st): State<Stato>,
    cx: Contesto,
    Path(c): Path<String>,
) -> Result<Html<String>, ErrorePagina> {
    let c = codice(&c)?;
    mostra(&st, &cx, &c, None, None).await
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
        // The secret is shown on this response only; it is never stored in clear.
        Ok(t) => {
            let mut r = mostra(&st, &cx, &c, Some(t.segreto), None)
                .await?
                .into_response();
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(r)
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
