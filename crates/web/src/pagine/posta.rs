//! Messages in the web UI: the messages sent to the person logged in (reserved area), the
//! messages logged for an entity (its page), the whole outbox for the Region, and the
//! development mailbox (`/sviluppo/posta`, registered only in development without an SMTP
//! server: the messages the platform "sent" are read there).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use crate::Stato;
use crate::contesto::{Contesto, Modulo};
use crate::errore::ErrorePagina;
use crate::estrattori::{Path, Query};
use crate::modelli::pagina;

/// Messages per page of a list.
const PER_PAGINA: i64 = 100;

#[derive(Deserialize, Default)]
pub struct Filtro {
    stato: Option<String>,
    prima_di: Option<i64>,
}

impl Filtro {
    fn archivio(&self) -> servizi::posta::FiltroMessaggi {
        servizi::posta::FiltroMessaggi {
            stato: self
                .stato
                .clone()
                .filter(|s| ["in_coda", "in_invio", "inviato", "in_errore"].contains(&s.as_str())),
            prima_di: self.prima_di,
            limite: PER_PAGINA,
            ..Default::default()
        }
    }
}

/// A message with its state as people read it.
#[derive(serde::Serialize)]
struct Voce<'a> {
    #[serde(flatten)]
    m: &'a servizi::posta::Messaggio,
    etichetta_stato: &'static str,
}

fn voci(v: &[servizi::posta::Messaggio]) -> Vec<Voce<'_>> {
    v.iter()
        .map(|m| Voce {
            m,
            etichetta_stato: servizi::posta::etichetta_stato(&m.stato),
        })
        .collect()
}

/// `/area/messaggi`: the messages sent to me.
pub async fn miei(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let v = st.p.miei_messaggi(cx.soggetto(), PER_PAGINA).await?;
    pagina(
        &st,
        &cx,
        "messaggi.html",
        context! { elenco => voci(&v), titolo => "I miei messaggi", dettaglio => "/area/messaggi",
        intro => "I messaggi che la piattaforma ha inviato al suo indirizzo di posta elettronica, dal più recente." },
    )
}

/// `/area/messaggi/{id}`: one message sent to me.
pub async fn mio(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Html<String>, ErrorePagina> {
    let m = st.p.mio_messaggio(cx.soggetto(), id).await?;
    pagina(
        &st,
        &cx,
        "messaggio.html",
        context! { m, etichetta_stato => servizi::posta::etichetta_stato(&m.stato),
        indietro => "/area/messaggi", titolo_indietro => "I miei messaggi" },
    )
}

/// `/area/enti/{codice}/messaggi`: the messages logged for an entity.
pub async fn ente(
    State(st): State<Stato>,
    cx: Contesto,
    Path(codice): Path<String>,
) -> Result<Html<String>, ErrorePagina> {
    let v = st.p.messaggi_ente(cx.soggetto(), &codice, 500).await?;
    let e = st.p.ente(&codice).await?;
    pagina(
        &st,
        &cx,
        "messaggi.html",
        context! { elenco => voci(&v), ente => e, titolo => format!("Messaggi inviati – {}", e.denominazione),
        intro => "Le notifiche e i solleciti inviati alle persone e alla PEC dell'ente, con l'esito di ciascun invio.",
        destinatari => true },
    )
}

/// `/area/posta`: the whole outbox (Region administrators).
pub async fn uscita(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtro>,
) -> Result<Html<String>, ErrorePagina> {
    let v = st.p.messaggi(cx.soggetto(), &f.archivio()).await?;
    let conti = st.p.conti_posta(cx.soggetto()).await?;
    let prossima = (v.len() as i64 == PER_PAGINA)
        .then(|| v.last().map(|m| m.id))
        .flatten();
    pagina(
        &st,
        &cx,
        "messaggi.html",
        context! { elenco => voci(&v), titolo => "Posta in uscita", conti, filtro_stato => f.stato, prossima,
        intro => "Ogni messaggio che la piattaforma invia passa di qui: in coda, inviato o in errore, con i tentativi fatti e l'ultimo errore.",
        destinatari => true, uscita => true },
    )
}

#[derive(Deserialize)]
pub struct Vuoto {}

/// `POST /area/posta/{id}/riaccoda`: queue a failed message again.
pub async fn riaccoda(
    State(st): State<Stato>,
    Path(id): Path<i64>,
    Modulo(cx, _v): Modulo<Vuoto>,
) -> Result<Response, ErrorePagina> {
    st.p.riaccoda_messaggio(cx.soggetto(), id).await?;
    Ok(super::vai("/area/posta?esito=riaccodato"))
}

/// `/sviluppo/posta`: the development mailbox.
pub async fn casella(
    State(st): State<Stato>,
    cx: Contesto,
    Query(f): Query<Filtro>,
) -> Result<Html<String>, ErrorePagina> {
    let v = st.p.casella(cx.soggetto(), &f.archivio()).await?;
    pagina(
        &st,
        &cx,
        "messaggi.html",
        context! { elenco => voci(&v), titolo => "Casella di sviluppo", dettaglio => "/sviluppo/posta",
        intro => "Solo in sviluppo, senza un server SMTP configurato: qui si leggono tutti i messaggi che la piattaforma ha inviato, compresi quelli della dimostrazione.",
        destinatari => true, casella => true },
    )
}

/// `/sviluppo/posta/{id}`: one message of the development mailbox.
pub async fn casella_messaggio(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Html<String>, ErrorePagina> {
    let m = st.p.messaggio_casella(cx.soggetto(), id).await?;
    pagina(
        &st,
        &cx,
        "messaggio.html",
        context! { m, etichetta_stato => servizi::posta::etichetta_stato(&m.stato),
        indietro => "/sviluppo/posta", titolo_indietro => "Casella di sviluppo", html_url => format!("/sviluppo/posta/{id}/html") },
    )
}

/// `/sviluppo/posta/{id}/html`: the HTML part as the recipient's mail client would show it,
/// in a sandbox (no script, no form, no same-origin access).
pub async fn casella_html(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Response, ErrorePagina> {
    let m = st.p.messaggio_casella(cx.soggetto(), id).await?;
    let mut r = Html(m.html).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        ),
    );
    Ok(r)
}
