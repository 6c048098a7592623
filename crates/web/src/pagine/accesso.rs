//! Login and logout: SPID/CIE through OpenID Connect, and the development login (only in
//! development mode; its route answers 404 otherwise).

use crate::estrattori::Query;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::Stato;
use crate::contesto::{COOKIE_ACCESSO, COOKIE_SESSIONE, Contesto, Modulo, cookie, imposta_cookie};
use crate::errore::ErrorePagina;
use crate::modelli::pagina;

pub async fn pagina_accesso(st: &Stato, cx: &Contesto) -> Result<Html<String>, ErrorePagina> {
    let (con_ruolo, senza_ruolo) = if st.p.accesso_sviluppo_attivo() {
        st.p.persone_sviluppo().await?
    } else {
        (vec![], vec![])
    };
    pagina(
        st,
        cx,
        "accesso.html",
        context! { spid => st.p.oidc.configurato(), con_ruolo, senza_ruolo },
    )
}

pub async fn mostra(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    pagina_accesso(&st, &cx).await
}

fn con_sessione(st: &Stato, cookie_sessione: &str, dove: &str) -> Response {
    let ore = i64::from(st.p.config.durata_sessione_ore) * 3600;
    let mut r = Redirect::to(dove).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        imposta_cookie(
            COOKIE_SESSIONE,
            cookie_sessione,
            st.p.config.https(),
            Some(ore),
        ),
    );
    r
}

/// `GET /accesso/spid`: to the provider, with a cookie tying the login to this browser.
pub async fn spid(State(st): State<Stato>) -> Result<Response, ErrorePagina> {
    let a = st.p.inizia_accesso_oidc().await?;
    let mut r = Redirect::to(&a.url).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        imposta_cookie(
            COOKIE_ACCESSO,
            &a.legame,
            st.p.config.https(),
            Some(servizi::oidc::DURATA_ACCESSO_S),
        ),
    );
    Ok(r)
}

#[derive(Deserialize)]
pub struct Ritorno {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /accesso/ritorno`: the provider's callback. It completes only in the browser holding
/// the cookie set by [`spid`]; the cookie is cleared whatever the outcome.
pub async fn ritorno(
    State(st): State<Stato>,
    headers: axum::http::HeaderMap,
    Query(q): Query<Ritorno>,
) -> Response {
    let legame = cookie(&headers, COOKIE_ACCESSO);
    let mut r = match completa(&st, q, legame).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    r.headers_mut().append(
        header::SET_COOKIE,
        imposta_cookie(COOKIE_ACCESSO, "", st.p.config.https(), Some(0)),
    );
    r
}

async fn completa(st: &Stato, q: Ritorno, legame: Option<&str>) -> Result<Response, ErrorePagina> {
    if let Some(e) = q.error {
        tracing::info!(errore = %e, "il fornitore di identità ha rifiutato l'accesso");
        return Err(servizi::ErroreServizio::Accesso(
            "L'accesso è stato annullato o rifiutato dal fornitore di identità.".into(),
        )
        .into());
    }
    let (Some(code), Some(stato)) = (q.code, q.state) else {
        return Err(ErrorePagina::RichiestaNonValida(
            "Risposta del fornitore di identità incompleta.".into(),
        ));
    };
    let c = st.p.completa_accesso_oidc(&code, &stato, legame).await?;
    Ok(con_sessione(st, &c, "/area"))
}

#[derive(Deserialize)]
pub struct SceltaSviluppo {
    cf: String,
}

pub async fn sviluppo(
    State(st): State<Stato>,
    Modulo(_, m): Modulo<SceltaSviluppo>,
) -> Result<Response, ErrorePagina> {
    let c = st.p.accesso_sviluppo(&m.cf).await?;
    Ok(con_sessione(&st, &c, "/area"))
}

#[derive(Deserialize)]
pub struct Vuoto {}

pub async fn esci(
    State(st): State<Stato>,
    headers: axum::http::HeaderMap,
    Modulo(_, _v): Modulo<Vuoto>,
) -> Result<Response, ErrorePagina> {
    if let Some(c) = cookie(&headers, COOKIE_SESSIONE) {
        st.p.chiudi_sessione(c).await?;
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        imposta_cookie(COOKIE_SESSIONE, "", st.p.config.https(), Some(0)),
    );
    Ok(r)
}
