//! The legal representative's management of referents.

use crate::estrattori::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use dominio::CodiceEnte;
use minijinja::context;
use serde::Deserialize;
use servizi::ErroreServizio;
use servizi::enti::{DomandaReferente, Rifiuto};

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
    d: &DomandaReferente,
    errori: Vec<(String, String)>,
    avviso: Option<String>,
) -> Result<Html<String>, ErrorePagina> {
    dominio::politica::autorizza(cx.soggetto(), &dominio::Azione::GestireReferenti(c))
        .map_err(ErroreServizio::from)?;
    let ente = st.p.ente(c.as_str()).await?;
    let incarichi = st.p.incarichi_ente(cx.soggetto(), c).await?;
    let errori_map: std::collections::BTreeMap<String, String> = errori.iter().cloned().collect();
    pagina(
        st,
        cx,
        "referenti.html",
        context! { ente, incarichi, domanda => d, errori => errori_map, elenco_errori => errori, avviso },
    )
}

pub async fn elenco(
    State(st): State<Stato>,
    cx: Contesto,
    Path(c): Path<String>,
) -> Result<Html<String>, ErrorePagina> {
    let c = codice(&c)?;
    mostra(&st, &cx, &c, &DomandaReferente::default(), vec![], None).await
}

pub async fn accredita(
    State(st): State<Stato>,
    Path(c): Path<String>,
    Modulo(cx, d): Modulo<DomandaReferente>,
) -> Result<Response, ErrorePagina> {
    let c = codice(&c)?;
    match st.p.accredita_referente(cx.soggetto(), &c, &d).await {
        Ok(_) => Ok(super::vai(&format!(
            "/area/enti/{c}/referenti?esito=accreditato"
        ))),
        Err(Rifiuto::Campi(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            mostra(&st, &cx, &c, &d, e.0, None).await?,
        )
            .into_response()),
        Err(Rifiuto::Servizio(ErroreServizio::Conflitto(m))) => Ok((
            StatusCode::CONFLICT,
            mostra(&st, &cx, &c, &d, vec![], Some(m)).await?,
        )
            .into_response()),
        Err(Rifiuto::Servizio(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Revoca {
    #[serde(default)]
    motivo: String,
}

pub async fn revoca(
    State(st): State<Stato>,
    Path((c, id)): Path<(String, i64)>,
    Modulo(cx, r): Modulo<Revoca>,
) -> Result<Response, ErrorePagina> {
    let c = codice(&c)?;
    st.p.revoca_referente(cx.soggetto(), &c, id, &r.motivo)
        .await?;
    Ok(super::vai(&format!(
        "/area/enti/{c}/referenti?esito=revocato"
    )))
}
