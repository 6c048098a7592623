//! Registration of an entity by its legal representative, and the Region's decision.

use crate::estrattori::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use servizi::enti::{DomandaRegistrazione, FiltroEnti, Rifiuto, VoceRegistro};

use crate::Stato;
use crate::contesto::{Contesto, Modulo};
use crate::errore::ErrorePagina;
use crate::modelli::pagina;

async fn mostra_modulo(
    st: &Stato,
    cx: &Contesto,
    d: &DomandaRegistrazione,
    errori: Vec<(String, String)>,
    avviso: Option<String>,
) -> Result<Html<String>, ErrorePagina> {
    dominio::politica::autorizza(cx.soggetto(), &dominio::Azione::RichiedereRegistrazione)
        .map_err(servizi::ErroreServizio::from)?;
    let enti: Vec<VoceRegistro> =
        st.p.registro(&FiltroEnti {
            registrato: Some("no".into()),
            ..Default::default()
        })
        .await?
        .iter()
        .filter(|e| e.tipo != "REGIONE")
        .map(VoceRegistro::from)
        .collect();
    let errori_map: std::collections::BTreeMap<String, String> = errori.iter().cloned().collect();
    pagina(
        st,
        cx,
        "registrazione_modulo.html",
        context! { enti, domanda => d, errori => errori_map, elenco_errori => errori, avviso },
    )
}

#[derive(Deserialize)]
pub struct Prefill {
    ente: Option<String>,
}

pub async fn modulo(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<Prefill>,
) -> Result<Html<String>, ErrorePagina> {
    let d = DomandaRegistrazione {
        ente: q.ente.unwrap_or_default(),
        ..Default::default()
    };
    mostra_modulo(&st, &cx, &d, vec![], None).await
}

pub async fn invia(
    State(st): State<Stato>,
    Modulo(cx, d): Modulo<DomandaRegistrazione>,
) -> Result<Response, ErrorePagina> {
    match st.p.richiedi_registrazione(cx.soggetto(), &d).await {
        Ok(_) => Ok(super::vai("/area?esito=registrazione_inviata")),
        Err(Rifiuto::Campi(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            mostra_modulo(&st, &cx, &d, e.0, None).await?,
        )
            .into_response()),
        Err(Rifiuto::Servizio(servizi::ErroreServizio::Conflitto(m))) => Ok((
            StatusCode::CONFLICT,
            mostra_modulo(&st, &cx, &d, vec![], Some(m)).await?,
        )
            .into_response()),
        Err(Rifiuto::Servizio(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct FiltroStato {
    stato: Option<String>,
}

pub async fn elenco(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<FiltroStato>,
) -> Result<Html<String>, ErrorePagina> {
    let stato = q
        .stato
        .filter(|s| ["IN_ATTESA", "APPROVATA", "RESPINTA"].contains(&s.as_str()));
    let stato_sel = stato.clone().unwrap_or_else(|| "IN_ATTESA".into());
    let r = st.p.registrazioni(cx.soggetto(), Some(&stato_sel)).await?;
    pagina(
        &st,
        &cx,
        "registrazioni.html",
        context! { registrazioni => r, stato => stato_sel },
    )
}

async fn mostra_dettaglio(
    st: &Stato,
    cx: &Contesto,
    id: i64,
    errore: Option<String>,
) -> Result<Html<String>, ErrorePagina> {
    let r = st.p.registrazione(cx.soggetto(), id).await?;
    pagina(st, cx, "registrazione.html", context! { r, errore })
}

pub async fn dettaglio(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Html<String>, ErrorePagina> {
    mostra_dettaglio(&st, &cx, id, None).await
}

#[derive(Deserialize)]
pub struct Decisione {
    #[serde(default)]
    decisione: String,
    #[serde(default)]
    motivazione: String,
}

pub async fn decidi(
    State(st): State<Stato>,
    Path(id): Path<i64>,
    Modulo(cx, d): Modulo<Decisione>,
) -> Result<Response, ErrorePagina> {
    let approva = match d.decisione.as_str() {
        "approva" => true,
        "respingi" => false,
        _ => {
            return Err(ErrorePagina::RichiestaNonValida(
                "Scelga se approvare o respingere la richiesta.".into(),
            ));
        }
    };
    match st
        .p
        .decidi_registrazione(cx.soggetto(), id, approva, &d.motivazione)
        .await
    {
        Ok(()) => Ok(super::vai(&format!(
            "/area/registrazioni?esito={}",
            if approva { "approvata" } else { "respinta" }
        ))),
        Err(Rifiuto::Campi(e)) => {
            let m =
                e.0.into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join(" ");
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                mostra_dettaglio(&st, &cx, id, Some(m)).await?,
            )
                .into_response())
        }
        Err(Rifiuto::Servizio(e)) => Err(e.into()),
    }
}
