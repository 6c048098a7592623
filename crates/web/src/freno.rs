//! The brake on anonymous validation: the public validator (`POST /documentazione/validatore`)
//! accepts files from anyone, and each validation may hold up to the readers' memory limits,
//! so the server bounds how many run at once (a semaphore, refused at once with 503 rather than
//! queued, so that nobody waits on a hung page) and how often one client may send a file (a
//! per-address token bucket from `governor`, refused with 429). Both refusals say when to retry
//! (`Retry-After`).
//!
//! The public data (the GIS service `/ogc`, the open data `/opendata/…`, the public dashboard
//! `/dati`) is braked the same way by [`limita_pubblico`], with its own, larger limits: anyone
//! may ask, and some answers read the whole register.
//!
//! A client is its IP address as the connection shows it; IPv6 addresses count by their /64
//! prefix, which one subscriber usually holds whole (counting single addresses would let one
//! attacker rotate through 2^64 of them).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a client refused because the server is busy should wait before retrying.
const RIPROVA_OCCUPATO: Duration = Duration::from_secs(30);

/// Above this many remembered clients, those whose bucket is full again are forgotten.
const MAX_CLIENTI: usize = 10_000;

/// Why a validation was not started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rifiuto {
    /// This client sent too many files in the last minute (429).
    TroppeRichieste { riprova: Duration },
    /// The server is already running as many anonymous validations as allowed (503).
    Occupato { riprova: Duration },
}

/// The limits of the public validator, shared by every request of one server.
pub struct Freno {
    posti: Arc<Semaphore>,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    orologio: DefaultClock,
}

impl std::fmt::Debug for Freno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Freno")
            .field("posti_liberi", &self.posti.available_permits())
            .finish_non_exhaustive()
    }
}

impl Freno {
    /// `simultanei` validations at once; `al_minuto` files per client per minute (the bucket
    /// holds as many, so a client may send them in a burst, then one every `60 / al_minuto` s).
    pub fn new(simultanei: u32, al_minuto: u32) -> Self {
        let al_minuto = NonZeroU32::new(al_minuto).unwrap_or(NonZeroU32::MIN);
        Self {
            posti: Arc::new(Semaphore::new(simultanei.max(1) as usize)),
            per_client: RateLimiter::keyed(Quota::per_minute(al_minuto)),
            orologio: DefaultClock::default(),
        }
    }

    /// Admits one validation for `client`: the permit is held until the validation ends
    /// (dropped with the handler's future, also when the client goes away).
    pub fn entra(&self, client: IpAddr) -> Result<OwnedSemaphorePermit, Rifiuto> {
        if self.per_client.len() > MAX_CLIENTI {
            self.per_client.retain_recent();
        }
        if let Err(quando) = self.per_client.check_key(&chiave(client)) {
            let attesa = quando.wait_time_from(self.orologio.now());
            return Err(Rifiuto::TroppeRichieste {
                // Whole seconds, rounded up: `Retry-After` has no fractions.
                riprova: Duration::from_secs(attesa.as_secs() + 1),
            });
        }
        self.posti
            .clone()
            .try_acquire_owned()
            .map_err(|_| Rifiuto::Occupato {
                riprova: RIPROVA_OCCUPATO,
            })
    }
}

/// Middleware in front of the public data: one place of `Stato::freno_pubblico` per request
/// while it is answered, and the client's per-minute budget.
pub async fn limita_pubblico(
    axum::extract::State(st): axum::extract::State<crate::Stato>,
    IndirizzoClient(ip): IndirizzoClient,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match st.freno_pubblico.entra(ip) {
        Ok(posto) => {
            let r = next.run(req).await;
            drop(posto);
            r
        }
        Err(rifiuto) => {
            crate::errore::frenato_pubblico(rifiuto, crate::errore::percorso_api(req.uri().path()))
        }
    }
}

/// The address a client is counted by (IPv6 by its /64 prefix).
fn chiave(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The client's address, from the connection. When the server runs without connection
/// information every client shares one address (and one bucket): the limit then holds for the
/// whole server, never for nobody.
#[derive(Clone, Copy, Debug)]
pub struct IndirizzoClient(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for IndirizzoClient {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IndirizzoClient(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn posti_e_ritmo() {
        let f = Freno::new(1, 2);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let primo = f.entra(a).expect("first");
        // One place only: another client is told the server is busy.
        assert_eq!(
            f.entra(b).map(|_| ()),
            Err(Rifiuto::Occupato {
                riprova: RIPROVA_OCCUPATO
            })
        );
        drop(primo);
        // `a` has one more file this minute, then must wait about 30 s.
        drop(f.entra(a).expect("second"));
        match f.entra(a) {
            Err(Rifiuto::TroppeRichieste { riprova }) => {
                assert!((29..=31).contains(&riprova.as_secs()), "{riprova:?}");
            }
            altro => panic!("{altro:?}"),
        }
        // Others are not affected.
        assert!(f.entra(b).is_ok());
    }

    #[test]
    fn ipv6_per_prefisso() {
        let f = Freno::new(10, 1);
        let uno: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let altro_stesso_64: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let altro_64: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert!(f.entra(uno).is_ok());
        assert!(matches!(
            f.entra(altro_stesso_64),
            Err(Rifiuto::TroppeRichieste { .. })
        ));
        assert!(f.entra(altro_64).is_ok());
        assert_eq!(
            chiave("::ffff:192.0.2.7".parse().expect("ip")),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }
}
