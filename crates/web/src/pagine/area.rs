//! The reserved area: the home page of each role, pilot marking, the audit log.

use crate::estrattori::{Path, Query};
use axum::extract::State;
use axum::response::{Html, Response};
use chrono::{NaiveDate, Utc};
use dominio::politica::{Azione, autorizza};
use minijinja::context;
use serde::{Deserialize, Serialize};
use servizi::audit::FiltroAudit;

use crate::Stato;
use crate::contesto::{Contesto, Modulo};
use crate::errore::ErrorePagina;
use crate::modelli::pagina;

pub async fn home(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    autorizza(s, &Azione::AreaRiservata).map_err(servizi::ErroreServizio::from)?;
    let mut enti = Vec::new();
    for c in s.enti() {
        if let Ok(e) = st.p.ente(c.as_str()).await {
            enti.push(context! {
                ente => e,
                rappresentante => s.is_legale_rappresentante(&c),
                patrimonio => s.ha_area(&c, dominio::Area::Patrimonio),
                programmi => s.ha_area(&c, dominio::Area::Programmi),
            });
        }
    }
    let in_attesa = if autorizza(s, &Azione::DecidereRegistrazioni).is_ok() {
        st.p.registrazioni(s, Some("IN_ATTESA")).await?.len()
    } else {
        0
    };
    let mie = st.p.mie_registrazioni(s).await?;
    let puo_registrare = autorizza(s, &Azione::RichiedereRegistrazione).is_ok();
    pagina(
        &st,
        &cx,
        "area.html",
        context! { enti_utente => enti, in_attesa, mie, puo_registrare,
        notizie => st.p.comunicazioni(s, 5).await?, banner => st.p.banner(s).await?,
        casella => st.p.casella_di_sviluppo() },
    )
}

#[derive(Deserialize)]
pub struct Pilota {
    #[serde(default)]
    pilota: String,
}

pub async fn pilota(
    State(st): State<Stato>,
    Path(codice): Path<String>,
    Modulo(cx, m): Modulo<Pilota>,
) -> Result<Response, ErrorePagina> {
    let c = dominio::CodiceEnte::parse(&codice).map_err(|_| servizi::ErroreServizio::NonTrovato)?;
    st.p.imposta_pilota(cx.soggetto(), &c, m.pilota == "si")
        .await?;
    Ok(super::vai(&format!("/enti/{c}")))
}

#[derive(Deserialize, Serialize, Default)]
pub struct FiltroPagina {
    ente: Option<String>,
    attore: Option<String>,
    azione: Option<String>,
    dal: Option<String>,
    al: Option<String>,
    prima_di: Option<i64>,
}

const VOCI_PER_PAGINA: i64 = 50;

/// A filter's day as instants: from the start of that day in Rome, or (`fine`) up to the
/// start of the next, so "from 31/12" includes 00:30 Rome time (23:30 UTC on 30/12).
fn giorno(s: &Option<String>, fine: bool) -> Option<chrono::DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s.as_deref()?.trim(), "%Y-%m-%d").ok()?;
    let d = if fine { d.succ_opt()? } else { d };
    Some(dominio::orologio::inizio_giorno(d))
}

fn non_vuoto(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub async fn audit(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<FiltroPagina>,
) -> Result<Html<String>, ErrorePagina> {
    let filtro = FiltroAudit {
        ente: non_vuoto(&f.ente).map(|e| e.to_ascii_uppercase()),
        attore: non_vuoto(&f.attore).map(|a| a.to_ascii_uppercase().replace("TOKEN:", "token:")),
        azione: non_vuoto(&f.azione),
        dal: giorno(&f.dal, false),
        al: giorno(&f.al, true),
        prima_di: f.prima_di,
        limite: VOCI_PER_PAGINA + 1,
    };
    let mut voci = st.p.voci_audit(cx.soggetto(), &filtro).await?;
    let altre = voci.len() as i64 > VOCI_PER_PAGINA;
    voci.truncate(VOCI_PER_PAGINA as usize);
    let successiva = if altre {
        voci.last().map(|v| v.seq)
    } else {
        None
    };
    let azioni = st.p.azioni_audit().await?;
    let nomi =
        st.p.nomi_persone(voci.iter().map(|v| v.attore.as_str()))
            .await?;
    let query_successiva = successiva.map(|s| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("ente", &f.ente),
            ("attore", &f.attore),
            ("azione", &f.azione),
            ("dal", &f.dal),
            ("al", &f.al),
        ] {
            if let Some(v) = non_vuoto(v) {
                q.append_pair(k, &v);
            }
        }
        q.append_pair("prima_di", &s.to_string());
        q.finish()
    });
    pagina(
        &st,
        &cx,
        "audit.html",
        context! { voci, nomi, filtro => f, azioni, query_successiva },
    )
}
