//! Per-request context for pages: who is asking (from the session cookie), the CSRF cookie and
//! token, and the form extractor that refuses a POST without a valid CSRF token. The token is
//! bound to the session when there is one, else to the browser's CSRF cookie
//! (`servizi::sicurezza`).

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use servizi::identita::Identita;
use servizi::sicurezza::{self, LegameCsrf};

use crate::Stato;
use crate::errore::ErrorePagina;

pub const COOKIE_SESSIONE: &str = "push_sessione";
pub const COOKIE_CSRF: &str = "push_csrf";
/// Ties a pending SPID/CIE login to the browser that started it (see `servizi::oidc`).
pub const COOKIE_ACCESSO: &str = "push_accesso";

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, nome: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == nome)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure when served over HTTPS.
pub fn imposta_cookie(nome: &str, valore: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut s = format!("{nome}={valore}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        s.push_str("; Secure");
    }
    if let Some(m) = max_age {
        s.push_str(&format!("; Max-Age={m}"));
    }
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("push_invalido=; Path=/"))
}

/// The CSRF cookie value of this request (set by [`cookie_csrf`] when it was missing).
#[derive(Clone)]
struct CookieCsrf(String);

/// Ensures every browser has a CSRF cookie: a random value the forms' tokens are bound to.
pub async fn cookie_csrf(
    axum::extract::State(st): axum::extract::State<Stato>,
    mut req: Request,
    next: Next,
) -> Response {
    let esistente = cookie(req.headers(), COOKIE_CSRF)
        .filter(|v| {
            v.len() >= 16
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string);
    let nuovo = esistente.is_none();
    let valore = esistente.unwrap_or_else(|| servizi::casuale::token_url(24));
    req.extensions_mut().insert(CookieCsrf(valore.clone()));
    let mut r = next.run(req).await;
    if nuovo {
        r.headers_mut().append(
            header::SET_COOKIE,
            imposta_cookie(COOKIE_CSRF, &valore, st.p.config.https(), None),
        );
    }
    r
}

/// Who is asking, and what the page shell needs.
#[derive(Clone)]
pub struct Contesto {
    pub identita: Identita,
    pub csrf: String,
    pub percorso: String,
    /// The outcome of the previous POST (`?esito=…` after a redirect), shown as a message.
    pub esito: Option<String>,
    cookie_csrf: String,
    /// The session cookie, when it opened a session: what the CSRF token is bound to.
    cookie_sessione: Option<String>,
}

impl Contesto {
    pub fn soggetto(&self) -> &dominio::Soggetto {
        &self.identita.soggetto
    }

    /// The session cookie, when it opened a session (what one-shot messages are bound to).
    pub fn cookie_sessione(&self) -> Option<&str> {
        self.cookie_sessione.as_deref()
    }

    fn legame_csrf(&self) -> LegameCsrf<'_> {
        match &self.cookie_sessione {
            Some(s) => LegameCsrf::Sessione(s),
            None => LegameCsrf::Browser(&self.cookie_csrf),
        }
    }

    /// Whether `token` is a valid CSRF token for this request: the one check behind every form.
    pub fn csrf_valido(&self, st: &Stato, token: &str) -> bool {
        sicurezza::csrf_valido(st.p.config.segreto_sessione(), self.legame_csrf(), token)
    }
}

impl<S> FromRequestParts<S> for Contesto
where
    Stato: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ErrorePagina;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = Stato::from_ref(state);
        let sessione = cookie(&parts.headers, COOKIE_SESSIONE);
        let identita = st.p.identita_da_sessione(sessione).await?;
        // The reserved area answers an anonymous visitor one way, a redirect to the login,
        // before any handler looks anything up: a 404 for a missing id against a redirect for
        // an existing one would tell which ids exist.
        if matches!(identita.soggetto, dominio::Soggetto::Anonimo)
            && (parts.uri.path() == "/area" || parts.uri.path().starts_with("/area/"))
        {
            return Err(servizi::ErroreServizio::Negato(dominio::Negato::NonAutenticato).into());
        }
        // Only a cookie that opened a session binds: an unknown or expired one is no session.
        let cookie_sessione = sessione
            .filter(|_| identita.utente.is_some())
            .map(str::to_string);
        let cookie_csrf = parts
            .extensions
            .get::<CookieCsrf>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        let esito = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "esito")
                .map(|(_, v)| {
                    v.chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .take(40)
                        .collect()
                })
        });
        let mut cx = Contesto {
            identita,
            csrf: String::new(),
            percorso: parts.uri.path().to_string(),
            esito,
            cookie_csrf,
            cookie_sessione,
        };
        cx.csrf = sicurezza::token_csrf(st.p.config.segreto_sessione(), cx.legame_csrf());
        Ok(cx)
    }
}

/// A submitted form: CSRF-checked, then deserialized (repeated keys allowed, for checkboxes).
pub struct Modulo<T>(pub Contesto, pub T);

#[derive(serde::Deserialize)]
struct SoloCsrf {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<S, T> FromRequest<S> for Modulo<T>
where
    Stato: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ErrorePagina;

    async fn from_request(req: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        let st = Stato::from_ref(state);
        let (mut parts, body) = req.into_parts();
        let cx = Contesto::from_request_parts(&mut parts, state).await?;
        let byte = axum::body::to_bytes(body, super::LIMITE_MODULO)
            .await
            .map_err(|_| {
                ErrorePagina::RichiestaNonValida("Il modulo inviato è troppo grande.".into())
            })?;
        let csrf: SoloCsrf = serde_html_form::from_bytes(&byte).unwrap_or(SoloCsrf {
            csrf: String::new(),
        });
        if !cx.csrf_valido(&st, &csrf.csrf) {
            return Err(ErrorePagina::Csrf);
        }
        let v = serde_html_form::from_bytes(&byte).map_err(|_| {
            ErrorePagina::RichiestaNonValida(
                "Il modulo inviato non è completo o non è valido.".into(),
            )
        })?;
        Ok(Modulo(cx, v))
    }
}
