//! The web layer: the only crate that knows HTTP.
//!
//! Server-rendered Italian pages (minijinja templates, Bootstrap Italia) and the JSON API of
//! `api.md`. Handlers are thin: they extract the request's identity ([`contesto::Contesto`]),
//! call one service, and render. Errors become responses in one place ([`errore`]).

pub mod api;
pub mod api_flussi;
pub mod api_monitoraggio;
pub mod api_programmi;
pub mod api_registro;
pub mod ascolto;
pub mod assets;
pub mod caricamento;
pub mod contesto;
pub mod errore;
pub mod estrattori;
pub mod formati;
pub mod freno;
pub mod grafici;
pub mod modelli;
pub mod ogc;
pub mod pagine;
pub mod registro;
pub mod rotte;
pub mod tempo_corpo;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use rotte::{Rotte, get, post};
use servizi::Piattaforma;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Shared state of every handler.
#[derive(Clone)]
pub struct Stato {
    pub p: Piattaforma,
    pub modelli: Arc<minijinja::Environment<'static>>,
    /// Concurrency and per-client limits of the public validator.
    pub freno: Arc<freno::Freno>,
    /// The same for the public data (GIS service, open data, public dashboard).
    pub freno_pubblico: Arc<freno::Freno>,
}

/// Largest form body accepted (file uploads come with the flow engine and have their own limit).
const LIMITE_MODULO: usize = 64 * 1024;

/// The complete router.
pub fn router(p: Piattaforma) -> Router {
    router_con(p, Router::new())
}

/// The complete router plus `aggiunte`, under the same protections as every route (the tests
/// add a handler that panics, to check what a panic gives).
pub fn router_con(p: Piattaforma, aggiunte: Router<Stato>) -> Router {
    let stato = stato(p);
    let (r, _) = rotte(&stato).dividi();
    proteggi(stato, r.merge(aggiunte))
}

/// Every `(method, path)` the router serves with this configuration, from the same calls that
/// register the routes (the authorization matrix test checks it covers them all).
pub fn elenco_rotte(p: Piattaforma) -> Vec<(&'static str, &'static str)> {
    rotte(&stato(p)).dividi().1
}

fn stato(p: Piattaforma) -> Stato {
    Stato {
        freno: Arc::new(freno::Freno::new(
            p.config.validatore_simultanei,
            p.config.validatore_al_minuto,
        )),
        freno_pubblico: Arc::new(freno::Freno::new(
            p.config.pubblico_simultanei,
            p.config.pubblico_al_minuto,
        )),
        p,
        modelli: Arc::new(modelli::ambiente()),
    }
}

/// Every route, with the layers that belong to groups of them.
fn rotte(stato: &Stato) -> Rotte {
    let mut pagine = Rotte::new()
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
        .route("/area/flussi", get(pagine::flussi::elenco))
        .route("/area/flussi/esempio", get(pagine::flussi::esempio))
        .route("/area/flussi/{id}", get(pagine::flussi::dettaglio))
        .route(
            "/area/flussi/{id}/differenze",
            get(pagine::flussi::differenze),
        )
        .route("/area/flussi/{id}/ricevuta", get(pagine::flussi::ricevuta))
        .route("/area/flussi/{id}/invio", post(pagine::flussi::invia))
        .route(
            "/area/flussi/{id}/accettazione",
            get(pagine::flussi::conferma_accettazione).post(pagine::flussi::accetta),
        )
        .route("/area/flussi/{id}/rifiuto", post(pagine::flussi::respingi))
        .route("/area/flussi/{id}/ritiro", post(pagine::flussi::ritira))
        .route(
            "/area/flussi/{id}/originale",
            get(pagine::flussi::originale),
        )
        .route(
            "/area/flussi/{id}/{file}",
            get(pagine::flussi::scarica_report),
        )
        .route("/area/esame", get(pagine::flussi::coda))
        .route("/comunicazioni", get(pagine::comunicazioni::elenco))
        .route("/comunicazioni/{id}", get(pagine::comunicazioni::dettaglio))
        .route(
            "/comunicazioni/{id}/allegati/{allegato}",
            get(pagine::comunicazioni::allegato),
        )
        .route("/area/comunicazioni", get(pagine::comunicazioni::gestisci))
        .route(
            "/area/comunicazioni/{id}/ritiro",
            post(pagine::comunicazioni::ritira),
        )
        .route("/area/messaggi", get(pagine::posta::miei))
        .route("/area/messaggi/{id}", get(pagine::posta::mio))
        .route("/area/enti/{codice}/messaggi", get(pagine::posta::ente))
        .route("/area/posta", get(pagine::posta::uscita))
        .route("/area/posta/{id}/riaccoda", post(pagine::posta::riaccoda))
        .fallback(pagine::non_trovata);
    // The development login exists only in development mode: in production the route is not
    // even registered (and the service refuses it too).
    if stato.p.accesso_sviluppo_attivo() {
        pagine = pagine.route("/accesso/sviluppo", post(pagine::accesso::sviluppo));
    }
    // The development mailbox likewise: only in development with no SMTP server, where the
    // outbox delivers to it.
    if stato.p.casella_di_sviluppo() {
        pagine = pagine
            .route("/sviluppo/posta", get(pagine::posta::casella))
            .route(
                "/sviluppo/posta/{id}",
                get(pagine::posta::casella_messaggio),
            )
            .route(
                "/sviluppo/posta/{id}/html",
                get(pagine::posta::casella_html),
            );
    }
    let pagine = pagine
        .layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            contesto::cookie_csrf,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(LIMITE_MODULO));
    // The public validator takes files up to its own limit (the other forms are small).
    let validatore = Rotte::new()
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
    // The upload form streams the file itself (bounded by the configured limit).
    let caricamento = Rotte::new()
        .route("/area/flussi", post(pagine::flussi::carica))
        .layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            contesto::cookie_csrf,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable());
    // News with attachments: each attachment is bounded while it is received.
    let notizie = Rotte::new()
        .route("/area/comunicazioni", post(pagine::comunicazioni::pubblica))
        .layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            contesto::cookie_csrf,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            (servizi::comunicazioni::LIMITE_ALLEGATO as usize + 64 * 1024)
                * servizi::comunicazioni::MAX_ALLEGATI
                + 1024 * 1024,
        ));
    let api = Rotte::new()
        .route("/api/v1/enti", get(api::enti))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/healthz", get(api::healthz));
    Rotte::new()
        .merge(pagine)
        .merge(validatore)
        .merge(caricamento)
        .merge(notizie)
        .merge(api)
        .merge(
            api_flussi::rotte().route_layer(axum::middleware::from_fn(api::richiede_credenziali)),
        )
        .merge(
            pagine::registro::rotte().layer(axum::middleware::from_fn_with_state(
                stato.clone(),
                contesto::cookie_csrf,
            )),
        )
        .merge(
            api_registro::rotte().route_layer(axum::middleware::from_fn(api::richiede_credenziali)),
        )
        .merge(
            pagine::monitoraggio::rotte()
                .layer(axum::middleware::from_fn_with_state(
                    stato.clone(),
                    contesto::cookie_csrf,
                ))
                .layer(axum::extract::DefaultBodyLimit::max(LIMITE_MODULO)),
        )
        .merge(
            api_monitoraggio::rotte()
                .route_layer(axum::middleware::from_fn(api::richiede_credenziali)),
        )
        .merge(
            api_programmi::rotte()
                .route_layer(axum::middleware::from_fn(api::richiede_credenziali)),
        )
        .merge(
            pagine::programmi::rotte().layer(axum::middleware::from_fn_with_state(
                stato.clone(),
                contesto::cookie_csrf,
            )),
        )
        .merge(ogc::rotte().layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            freno::limita_pubblico,
        )))
        .merge(
            pagine::cruscotto::rotte().layer(axum::middleware::from_fn_with_state(
                stato.clone(),
                contesto::cookie_csrf,
            )),
        )
        .merge(
            pagine::dati_aperti::rotte()
                .layer(axum::middleware::from_fn_with_state(
                    stato.clone(),
                    freno::limita_pubblico,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    stato.clone(),
                    contesto::cookie_csrf,
                )),
        )
        .route("/static/{*percorso}", get(assets::statico))
}

/// The protections every route gets, outermost last.
fn proteggi(stato: Stato, r: Router<Stato>) -> Router {
    let politica = politica_contenuti(&stato.p.config.tile_url);
    r
        // Innermost, so that it sees the matched route and `mappa_errori` renders its 408.
        .layer(axum::middleware::from_fn_with_state(
            tempo_corpo::TempiCorpo::da_config(&stato.p.config),
            tempo_corpo::limita,
        ))
        // A panic in a handler becomes the Italian 500 page (or problem+json) with its request
        // id, rendered by `mappa_errori`; the connection and the server go on.
        .layer(CatchPanicLayer::custom(errore::panico))
        .layer(axum::middleware::from_fn_with_state(
            stato.clone(),
            errore::mappa_errori,
        ))
        // Defence in depth for every response: no framing, no MIME sniffing, scripts and styles
        // only from this origin (Bootstrap Italia sets some inline styles from its JS).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            politica,
        ))
        .layer(intestazione(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(intestazione(header::X_FRAME_OPTIONS, "DENY"))
        .layer(intestazione(header::REFERRER_POLICY, "same-origin"))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(errore::span_richiesta))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Our own id for every request: a client's `X-Request-Id` would reach logs and pages.
        .layer(axum::middleware::map_request(errore::togli_id_cliente))
        .with_state(stato)
}

/// The Content-Security-Policy: everything from this site, plus the map tiles' host for images.
fn politica_contenuti(tile_url: &str) -> HeaderValue {
    let tile = url::Url::parse(&tile_url.replace(['{', '}'], ""))
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .and_then(|u| u.host_str().map(|h| format!(" {}://{h}", u.scheme())))
        .unwrap_or_default();
    let testo = format!(
        "default-src 'self'; img-src 'self' data:{tile}; font-src 'self' data:; \
         style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; \
         frame-ancestors 'none'; form-action 'self'"
    );
    HeaderValue::from_str(&testo).unwrap_or_else(|_| {
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; frame-ancestors 'none'")
    })
}

fn intestazione(nome: HeaderName, valore: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(nome, HeaderValue::from_static(valore))
}

/// Removes partial uploads and work directories that an interrupted process left behind.
/// Only entries older than the longest job (validation limit plus an hour) go: a shared data
/// directory may hold another server's work in progress.
async fn spazza_avanzi(p: &Piattaforma) {
    let eta = std::time::Duration::from_secs(p.config.limite_validazione_s + 3600);
    let d = p.deposito.clone();
    match tokio::task::spawn_blocking(move || d.spazza(eta)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(voci = n, "file temporanei abbandonati rimossi"),
        Ok(Err(e)) => tracing::warn!(errore = %e, "pulizia dei file temporanei non riuscita"),
        Err(e) => tracing::warn!(errore = %e, "pulizia dei file temporanei interrotta"),
    }
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
            // The first tick is at once: at start, what a crash left goes.
            let mut t = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                t.tick().await;
                if let Err(e) = p.pulisci_sessioni().await {
                    tracing::warn!(errore = %e, "pulizia delle sessioni non riuscita");
                }
                spazza_avanzi(&p).await;
                // Rows a stopped server left out of the search index (found meanwhile by a
                // slower path).
                p.riordina_ricerca(None).await;
                // Reminders unanswered for the Region's number of days go to the PEC address.
                match p.escala_solleciti().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(solleciti = n, "solleciti inviati alla PEC"),
                    Err(e) => tracing::warn!(errore = %e, "escalation dei solleciti non riuscita"),
                }
            }
        })
    };
    // This server's background worker (flow validation, differences).
    let esecutore = servizi::lavori::avvia_esecutore(p.clone());
    // This server's mail sender (the outbox): a setting that cannot work stops the start.
    let postino = servizi::posta::avvia_postino(p.clone()).map_err(|e| {
        pulizia.abort();
        esecutore.abort();
        std::io::Error::other(format!("posta in uscita: {e}"))
    })?;
    // Requests carry their connection's address (`ConnectInfo`): the public validator's
    // per-client limit counts it.
    let attesa = std::time::Duration::from_secs(p.config.attesa_intestazioni_s);
    let r = ascolto::ascolta(router(p), listener, attesa, spegni).await;
    pulizia.abort();
    esecutore.abort();
    postino.abort();
    r
}
