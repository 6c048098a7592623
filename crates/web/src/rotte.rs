//! The router, with the list of its routes.
//!
//! axum's `Router` cannot list what it serves, and the authorization matrix test must cover
//! every route: a list kept by hand drifts. [`Rotte`] wraps the router and records each
//! `(method, path)` by the very calls that register it, and [`get`]/[`post`] stand in for
//! axum's, recording their method. The call sites read as with axum.

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter, Route};
use tower::{Layer, Service};

use crate::Stato;

/// A route's handlers by method, with the methods' names.
pub struct Metodi {
    mr: MethodRouter<Stato>,
    nomi: Vec<&'static str>,
}

/// `GET` to `h` (recorded).
pub fn get<H, T>(h: H) -> Metodi
where
    H: Handler<T, Stato>,
    T: 'static,
{
    Metodi::default().get(h)
}

/// `POST` to `h` (recorded).
pub fn post<H, T>(h: H) -> Metodi
where
    H: Handler<T, Stato>,
    T: 'static,
{
    Metodi::default().post(h)
}

impl Default for Metodi {
    fn default() -> Self {
        Metodi {
            mr: MethodRouter::new(),
            nomi: Vec::new(),
        }
    }
}

impl Metodi {
    pub fn get<H, T>(self, h: H) -> Self
    where
        H: Handler<T, Stato>,
        T: 'static,
    {
        self.su(MethodFilter::GET, "GET", h)
    }

    pub fn post<H, T>(self, h: H) -> Self
    where
        H: Handler<T, Stato>,
        T: 'static,
    {
        self.su(MethodFilter::POST, "POST", h)
    }

    /// `metodo` to `h`, recorded under `nome`.
    fn su<H, T>(mut self, metodo: MethodFilter, nome: &'static str, h: H) -> Self
    where
        H: Handler<T, Stato>,
        T: 'static,
    {
        self.mr = self.mr.on(metodo, h);
        self.nomi.push(nome);
        self
    }

    pub fn layer<L>(mut self, l: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.mr = self.mr.layer(l);
        self
    }
}

/// A router and the `(method, path)` of every route registered on it.
pub struct Rotte {
    router: Router<Stato>,
    elenco: Vec<(&'static str, &'static str)>,
}

impl Default for Rotte {
    fn default() -> Self {
        Self::new()
    }
}

impl Rotte {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            elenco: Vec::new(),
        }
    }

    pub fn route(mut self, percorso: &'static str, m: Metodi) -> Self {
        self.elenco
            .extend(m.nomi.iter().map(|metodo| (*metodo, percorso)));
        self.router = self.router.route(percorso, m.mr);
        self
    }

    pub fn merge(mut self, altre: Rotte) -> Self {
        self.elenco.extend(altre.elenco);
        self.router = self.router.merge(altre.router);
        self
    }

    pub fn fallback<H, T>(mut self, h: H) -> Self
    where
        H: Handler<T, Stato>,
        T: 'static,
    {
        self.router = self.router.fallback(h);
        self
    }

    pub fn layer<L>(mut self, l: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(l);
        self
    }

    pub fn route_layer<L>(mut self, l: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.route_layer(l);
        self
    }

    /// The router and the list of its routes.
    pub fn dividi(self) -> (Router<Stato>, Vec<(&'static str, &'static str)>) {
        (self.router, self.elenco)
    }
}
