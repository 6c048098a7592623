//! The HTTP server loop: accepts connections and serves the router on each, with a timeout on
//! reading request headers and a graceful shutdown.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never fires: a client
//! sending a header one byte at a time (slowloris) held its connection forever — 3 000 of them
//! were still open after 90 s. Here hyper gets a timer and the configured timeout, and a
//! connection whose headers are not complete in time is closed. HTTP/1.1 only, as before (a
//! reverse proxy in front speaks HTTP/2 to browsers).

use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt;

/// Longest wait for open connections to finish their requests after a shutdown request.
const ATTESA_CHIUSURA: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `spegni` resolves, then lets the requests in progress
/// finish (up to [`ATTESA_CHIUSURA`]). Every request carries its connection's address as
/// `ConnectInfo<SocketAddr>`, as with `into_make_service_with_connect_info`.
pub async fn ascolta(
    router: Router,
    listener: tokio::net::TcpListener,
    attesa_intestazioni: Duration,
    spegni: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut costruttore = hyper::server::conn::http1::Builder::new();
    costruttore
        .timer(TokioTimer::new())
        .header_read_timeout(attesa_intestazioni);
    let chiusura = GracefulShutdown::new();
    tokio::pin!(spegni);
    loop {
        let (flusso, remoto) = tokio::select! {
            c = listener.accept() => match c {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(errore = %e, "connessione non accettata");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut spegni => break,
        };
        let router = router.clone();
        let servizio = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remoto));
            router.clone().oneshot(req)
        });
        // No protocol upgrades: the platform has no WebSocket.
        let connessione = costruttore.serve_connection(TokioIo::new(flusso), servizio);
        let connessione = chiusura.watch(connessione);
        tokio::spawn(async move {
            if let Err(e) = connessione.await {
                // Clients that go away or time out: not the server's fault.
                tracing::debug!(errore = %e, %remoto, "connessione terminata con errore");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(ATTESA_CHIUSURA, chiusura.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("alcune connessioni non si sono chiuse in tempo");
    }
    Ok(())
}
