//! The web layer: the only crate that knows HTTP.
//!
//! Server-rendered Italian pages (minijinja templates, Bootstrap Italia) and the JSON API of
//! `api.md`. Handlers are thin: they extract the request's identity ([`contesto::Contesto`]),
//! call one service, and render. Errors become responses in one place ([`errore`]).

pub mod api;
pub mod assets;
pub mod contesto;
pub mod errore;
pub mod modelli;
pub mod pagine;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use servizi::Piattaforma;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Shared state of every handler.
#[derive(Clone)]
pub struct Stato {
    pub p: Piattaforma,
    pub modelli: Arc<minijinja::Environment<'static>>,
}

/// Largest form body accepted (file uploads come with the flow engine and have their own limit).
const LIMITE_MODULO: usize = 64 * 1024;

/// The complete router.
pub fn router(p: Piattaforma) -> Router {
    let stato = Stato {
        p,
        modelli: Arc::new(modelli::ambiente()),
    };
    let mut pagine = Router::new()
        .route("/", get(pagine::pubbliche::home))
        .route("/enti", get(pagine::pubbliche::enti))
        .route("/enti/{codice}", get(pagine::pubbliche::ente))
        .route("/documentazione", get(pagine::documentazione::indice))
        .route(
            "/documentazione/{dominio}",
            get(pagine::documentazione::dominio_pagina),
        )
        .route(
            "/documentazione/{dominio}/{file}",
            get(pagine::documentazione::scarica),
        )
        .route("/accessibilita", get(pagine::pubbliche::accessibilita))
        .route("/privacy", get(pagine::pubbliche::privacy))
        .route("/accesso", get(pagine::accesso::mostra))
        .route("/accesso/spid", get(pagine::accesso::spid))
        .route(
            servizi::oidc::PERCORSO_RITORNO,
            get(pagine::accesso::ritorno),
        )
        .route("/esci", post(pagine::accesso::esci))
        .route("/area", get(pagine::area::home))
        .route(
            "/area/registrazione",
            get(pagine::registrazioni::modulo).post(pagine::registrazioni::invia),
        )
        .route("/area/registrazioni", get(pagine::registrazioni::elenco))
        .route(
            "/area/registrazioni/{id}",
            get(pagine::registrazioni::dettaglio),
        )
        .route(
            "/area/registrazioni/{id}/decisione",
            post(pagine::registrazioni::decidi),
        )
        .route(
            "/area/enti/{codice}/referenti",
            get(pagine::referenti::elenco).post(pagine::referenti::accredita),
        )
        .route(
            "/area/enti/{codice}/referenti/{id}/revoca",
            post(pagine::referenti::revoca),
        )
        .route(
            "/area/enti/{codice}/token",
            get(pagine::token::elenco).post(pagine::token::crea),
        )
        .route(
            "/area/enti/{codice}/token/{id}/revoca",
            post(pagine::token::revoca),
        )
        .route("/area/enti/{codice}/pilota", post(pagine::area::pilota))
        .route("/area/audit", get(pagine::area::audit))
        .fallback(pagine::non_trovata);
    // The development login exists only in development mode: in production the route is not
    // even registered (and the service refuses it too).
    if stato.p.accesso_sviluppo_attivo() {
        pagine = pagine.route("/accesso/sviluppo", post(pagine::accesso::sviluppo));
    }
    let pagine = pagine
        .layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            contesto::cookie_csrf,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(LIMITE_MODULO));
    // The public validator takes files up to its own limit (the other forms are small).
    let validatore = Router::new()
        .route(
            "/documentazione/validatore",
            get(pagine::documentazione::validatore).post(pagine::documentazione::valida),
        )
        .layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            contesto::cookie_csrf,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            pagine::documentazione::LIMITE_VALIDATORE + 1024 * 1024,
        ));
    let api = Router::new()
        .route("/api/v1/enti", get(api::enti))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/healthz", get(api::healthz));
    Router::new()
        .merge(pagine)
        .merge(validatore)
        .merge(api)
        .route("/static/{*percorso}", get(assets::statico))
        .layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            errore::mappa_errori,
        ))
        // Defence in depth for every response: no framing, no MIME sniffing, scripts and styles
        // only from this origin (Bootstrap Italia sets some inline styles from its JS).
        .layer(intestazione(
            header::CONTENT_SECURITY_POLICY,
            POLITICA_CONTENUTI,
        ))
        .layer(intestazione(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(intestazione(header::X_FRAME_OPTIONS, "DENY"))
        .layer(intestazione(header::REFERRER_POLICY, "same-origin"))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(errore::span_richiesta))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(stato)
}

const POLITICA_CONTENUTI: &str = "default-src 'self'; img-src 'self' data:; font-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; \
     frame-ancestors 'none'; form-action 'self'";

fn intestazione(nome: HeaderName, valore: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(nome, HeaderValue::from_static(valore))
}

/// Serves until `spegni` resolves.
pub async fn servi(
    p: Piattaforma,
    listener: tokio::net::TcpListener,
    spegni: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pulizia = {
        let p = p.clone();
        tokio::spawn(async move {
            let mut t = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                t.tick().await;
                if let Err(e) = p.pulisci_sessioni().await {
                    tracing::warn!(errore = %e, "pulizia delle sessioni non riuscita");
                }
            }
        })
    };
    let r = axum::serve(listener, router(p))
        .with_graceful_shutdown(spegni)
        .await;
    pulizia.abort();
    r
}
