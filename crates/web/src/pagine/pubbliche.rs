//! Public pages: home, the entity registry, documentation, accessibility and privacy notes.

use crate::estrattori::{Path, Query};
use axum::extract::State;
use axum::response::Html;
use minijinja::context;
use servizi::enti::{FiltroEnti, VoceRegistro};

use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::modelli::pagina;

pub async fn home(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let enti = st.p.registro(&FiltroEnti::default()).await?;
    let registrati = enti.iter().filter(|e| e.registrato_il.is_some()).count();
    let pilota = enti.iter().filter(|e| e.pilota).count();
    pagina(
        &st,
        &cx,
        "home.html",
        context! { registrati, pilota, totale => enti.len(),
        notizie => st.p.comunicazioni(cx.soggetto(), 5).await?, banner => st.p.banner(cx.soggetto()).await? },
    )
}

pub async fn enti(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<FiltroEnti>,
) -> Result<Html<String>, ErrorePagina> {
    let enti: Vec<VoceRegistro> =
        st.p.registro(&f)
            .await?
            .iter()
            .map(VoceRegistro::from)
            .collect();
    pagina(
        &st,
        &cx,
        "enti.html",
        context! { enti, filtro => f, province => flussi::riferimento::sigle_province() },
    )
}

pub async fn ente(
    State(st): State<Stato>,
    cx: Contesto,
    Path(codice): Path<String>,
) -> Result<Html<String>, ErrorePagina> {
    let e = st.p.ente(&codice).await?;
    let c = dominio::CodiceEnte::parse(&e.codice).map_err(servizi::ErroreServizio::from)?;
    let s = cx.soggetto();
    let riservato = dominio::politica::autorizza(s, &dominio::Azione::VedereEnte(&c)).is_ok();
    let referenti = if riservato {
        st.p.incarichi_ente(s, &c).await?
    } else {
        vec![]
    };
    let gestisce_referenti =
        dominio::politica::autorizza(s, &dominio::Azione::GestireReferenti(&c)).is_ok();
    let gestisce_token =
        dominio::politica::autorizza(s, &dominio::Azione::GestireToken(&c)).is_ok();
    let gestisce_pilota = dominio::politica::autorizza(s, &dominio::Azione::GestirePilota).is_ok();
    // Campaigns and reminders: what the entity is asked for and was reminded of.
    let (raccolte, solleciti) = if riservato {
        let raccolte: Vec<_> = st
            .p
            .raccolte_ente(s, &c)
            .await?
            .into_iter()
            .map(|(q, riga)| {
                let area = dominio::DominioFlusso::parse(&q.raccolta.dominio)
                    .map(|d| d.area())
                    .unwrap_or(dominio::Area::Programmi);
                let puo_dichiarare = q.aperta
                    && !riga.conforme
                    && dominio::politica::autorizza(
                        s,
                        &dominio::Azione::DichiarareNulla(&c, area),
                    )
                    .is_ok();
                context! { q => q.raccolta, dominio => q.dominio_etichetta, aperta => q.aperta, riga, puo_dichiarare }
            })
            .collect();
        (raccolte, st.p.solleciti(s, Some(&c)).await?)
    } else {
        (vec![], vec![])
    };
    // The messages logged for the entity (notifications, reminders), with their outcome.
    let messaggi = if riservato {
        st.p.messaggi_ente(s, c.as_str(), 10).await?
    } else {
        vec![]
    };
    pagina(
        &st,
        &cx,
        "ente.html",
        context! {
            ente => VoceRegistro::from(&e), dettaglio => e, riservato, referenti,
            gestisce_referenti, gestisce_token, gestisce_pilota, raccolte, solleciti, posta_ente => messaggi,
        },
    )
}

pub async fn accessibilita(
    State(st): State<Stato>,
    cx: Contesto,
) -> Result<Html<String>, ErrorePagina> {
    pagina(&st, &cx, "accessibilita.html", context! {})
}

/// The privacy notice. What it says about maps follows the configuration: with no tile server
/// (the default) no page makes the browser contact anyone else; with one, the notice names it.
pub async fn privacy(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let tessere = st.p.config.tile_url.trim();
    let host_tessere = (!tessere.is_empty()).then(|| {
        url::Url::parse(&tessere.replace(['{', '}'], ""))
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| tessere.to_string())
    });
    pagina(
        &st,
        &cx,
        "privacy.html",
        context! { host_tessere => host_tessere },
    )
}
