//! Login through OpenID Connect (authorization code + PKCE, `state`, `nonce`) against the
//! Region's SPID/CIE gateway. The pending login (state → verifier, nonce) is kept in the
//! database so that the callback may reach any server instance.
//!
//! A pending login belongs to the browser that started it: the start hands back a random
//! secret (the web layer keeps it in an HttpOnly cookie) and the login is stored under the hash
//! of `state` and that secret. A callback URL captured from someone else's login (login CSRF:
//! a victim sent to the attacker's callback would be logged in as the attacker) finds nothing
//! without the starting browser's cookie.
//!
//! The fiscal number is read from the verified ID token, else from userinfo, under any of the
//! names gateways use, with or without the `TINIT-` prefix.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use archivio::AccessoOidc;
use base64::Engine;
use dominio::CodiceFiscale;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::ConfigOidc;
use crate::{ErroreServizio, Esito, Piattaforma, casuale, identita::METODO_SPID, ora};

/// Claim names carrying the fiscal number, in order of preference.
pub const CLAIM_CODICE_FISCALE: [&str; 3] = [
    "https://attributes.eid.gov.it/fiscal_number",
    "fiscal_number",
    "fiscalNumber",
];

/// The path of the callback, relative to the public base URL.
pub const PERCORSO_RITORNO: &str = "/accesso/ritorno";

/// How long a pending login stays valid, in seconds (also the lifetime of the browser's cookie).
pub const DURATA_ACCESSO_S: i64 = 15 * 60;
const VALIDITA_ACCESSO: chrono::Duration = chrono::Duration::seconds(DURATA_ACCESSO_S);

/// A login just started: where to send the browser, and the secret the browser must bring
/// back to the callback (kept in a cookie; never shown, never logged).
pub struct AccessoIniziato {
    pub url: String,
    pub legame: String,
}

/// The key a pending login is stored under: `state` alone is in the callback URL that can be
/// captured; with the browser's secret it is not.
fn chiave_accesso(stato: &str, legame: &str) -> String {
    casuale::hash(&format!("{stato}\n{legame}"))
}
/// How long the provider's discovery document is cached.
const CACHE_METADATI: Duration = Duration::from_secs(3600);

/// Any other claims, kept as JSON.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct AltriClaim(HashMap<String, serde_json::Value>);
impl AdditionalClaims for AltriClaim {}

/// The client, with the provider's metadata discovered lazily and cached.
pub struct ClienteOidc {
    config: Option<ConfigOidc>,
    ritorno: String,
    metadati: Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

/// The person the provider vouched for.
#[derive(Clone, Debug)]
pub struct IdentitaVerificata {
    pub cf: CodiceFiscale,
    pub nome: String,
    pub email: Option<String>,
}

fn errore_accesso(e: impl std::fmt::Display) -> ErroreServizio {
    tracing::warn!(errore = %e, "accesso OpenID Connect non riuscito");
    ErroreServizio::Accesso(
        "L'accesso con SPID/CIE non è riuscito. Riprovi; se il problema continua, contatti l'assistenza.".into(),
    )
}

fn http() -> Result<openidconnect::reqwest::Client, ErroreServizio> {
    openidconnect::reqwest::ClientBuilder::new()
        // Following redirects would expose the server to SSRF through a hostile provider.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(errore_accesso)
}

/// Finds the fiscal number among claims.
pub fn codice_fiscale_da_claim(
    claims: &HashMap<String, serde_json::Value>,
) -> Option<Result<CodiceFiscale, dominio::ErroreDominio>> {
    CLAIM_CODICE_FISCALE
        .iter()
        .find_map(|n| claims.get(*n).and_then(|v| v.as_str()))
        .map(CodiceFiscale::da_attributo_spid)
}

fn nome_da_claim(c: &HashMap<String, serde_json::Value>) -> String {
    let s = |k: &str| {
        c.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let completo = format!("{} {}", s("given_name"), s("family_name"))
        .trim()
        .to_string();
    if !completo.is_empty() {
        return completo;
    }
    let nome = s("name");
    if !nome.is_empty() {
        nome
    } else {
        format!("{} {}", s("givenName"), s("familyName"))
            .trim()
            .to_string()
    }
}

impl ClienteOidc {
    pub fn new(config: Option<ConfigOidc>, base: &url::Url) -> Self {
        let ritorno = base
            .join(PERCORSO_RITORNO)
            .map(|u| u.to_string())
            .unwrap_or_default();
        Self {
            config,
            ritorno,
            metadati: Mutex::new(None),
        }
    }

    pub fn configurato(&self) -> bool {
        self.config.is_some()
    }

    async fn metadati(&self, cfg: &ConfigOidc) -> Esito<CoreProviderMetadata> {
        let mut m = self.metadati.lock().await;
        if let Some((md, quando)) = m.as_ref()
            && quando.elapsed() < CACHE_METADATI
        {
            return Ok(md.clone());
        }
        let issuer = IssuerUrl::new(cfg.issuer.clone()).map_err(errore_accesso)?;
        let md = CoreProviderMetadata::discover_async(issuer, &http()?)
            .await
            .map_err(errore_accesso)?;
        *m = Some((md.clone(), Instant::now()));
        Ok(md)
    }

    async fn client(
        &self,
        cfg: &ConfigOidc,
    ) -> Esito<(
        CoreProviderMetadata,
        openidconnect::core::CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    )> {
        let md = self.metadati(cfg).await?;
        let client = CoreClient::from_provider_metadata(
            md.clone(),
            ClientId::new(cfg.client_id.clone()),
            Some(ClientSecret::new(cfg.client_secret.esponi().to_string())),
        )
        .set_redirect_uri(RedirectUrl::new(self.ritorno.clone()).map_err(errore_accesso)?);
        Ok((md, client))
    }
}

impl Piattaforma {
    /// Starts a login: stores state, PKCE verifier and nonce under the state and a new browser
    /// secret; returns the provider's URL and that secret.
    pub async fn inizia_accesso_oidc(&self) -> Esito<AccessoIniziato> {
        let cfg = self.oidc.config.clone().ok_or(ErroreServizio::NonTrovato)?;
        let (_, client) = self.oidc.client(&cfg).await?;
        let (sfida, verificatore) = PkceCodeChallenge::new_random_sha256();
        let (url, stato, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(sfida)
            .url();
        let legame = casuale::token_url(32);
        self.db
            .salva_accesso_oidc(&AccessoOidc {
                stato: chiave_accesso(stato.secret(), &legame),
                verificatore: verificatore.secret().clone(),
                nonce: nonce.secret().clone(),
                creato_il: ora(),
            })
            .await?;
        Ok(AccessoIniziato {
            url: url.to_string(),
            legame,
        })
    }

    /// Completes a login from the callback's `code` and `state` and the secret of the browser
    /// that started it (`None` when its cookie is missing); returns the session cookie.
    pub async fn completa_accesso_oidc(
        &self,
        code: &str,
        stato: &str,
        legame: Option<&str>,
    ) -> Esito<String> {
        let cfg = self.oidc.config.clone().ok_or(ErroreServizio::NonTrovato)?;
        let scaduta = || {
            ErroreServizio::Accesso(
                "La richiesta di accesso è scaduta o non è valida: ripeta l'accesso.".into(),
            )
        };
        // Another browser's callback: nothing is looked up (nor consumed, so the login stays
        // usable by the browser that started it).
        let legame = legame.filter(|l| !l.is_empty()).ok_or_else(scaduta)?;
        let pendente = self
            .db
            .consuma_accesso_oidc(&chiave_accesso(stato, legame), ora() - VALIDITA_ACCESSO)
            .await?
            .ok_or_else(scaduta)?;
        let (md, client) = self.oidc.client(&cfg).await?;
        let http = http()?;
        let risposta = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(errore_accesso)?
            .set_pkce_verifier(PkceCodeVerifier::new(pendente.verificatore))
            .request_async(&http)
            .await
            .map_err(errore_accesso)?;
        let id_token = openidconnect::TokenResponse::id_token(&risposta)
            .ok_or_else(|| errore_accesso("il fornitore non ha restituito un ID token"))?;
        let verificato = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(pendente.nonce))
            .map_err(errore_accesso)?;
        let soggetto = verificato.subject().clone();
        // The token is verified above; read its payload as JSON for the gateway-specific claims.
        let grezzo = id_token.to_string();
        let payload = grezzo
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<HashMap<String, serde_json::Value>>(&b).ok())
            .unwrap_or_default();
        let mut claims = payload;
        if codice_fiscale_da_claim(&claims).is_none() && md.userinfo_endpoint().is_some() {
            let info: UserInfoClaims<AltriClaim, CoreGenderClaim> = client
                .user_info(risposta.access_token().clone(), Some(soggetto))
                .map_err(errore_accesso)?
                .request_async(&http)
                .await
                .map_err(errore_accesso)?;
            claims.extend(info.additional_claims().0.clone());
            if let Some(n) = info.given_name().and_then(|n| n.get(None)) {
                claims
                    .entry("given_name".into())
                    .or_insert_with(|| n.to_string().into());
            }
            if let Some(n) = info.family_name().and_then(|n| n.get(None)) {
                claims
                    .entry("family_name".into())
                    .or_insert_with(|| n.to_string().into());
            }
        }
        let cf = match codice_fiscale_da_claim(&claims) {
            Some(Ok(cf)) => cf,
            Some(Err(e)) => {
                return Err(errore_accesso(format!(
                    "codice fiscale non valido dal fornitore: {e}"
                )));
            }
            None => {
                return Err(ErroreServizio::Accesso(
                    "Il fornitore di identità non ha comunicato il codice fiscale: l'accesso non è possibile.".into(),
                ));
            }
        };
        let email = claims
            .get("email")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let id = IdentitaVerificata {
            nome: nome_da_claim(&claims),
            cf,
            email,
        };
        self.apri_sessione(&id.cf, &id.nome, id.email.as_deref(), METODO_SPID)
            .await
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn nomi_dei_claim() {
        for nome in CLAIM_CODICE_FISCALE {
            for v in ["TINIT-RSSMRA80A01H501U", "RSSMRA80A01H501U"] {
                let mut c = HashMap::new();
                c.insert(nome.to_string(), serde_json::Value::from(v));
                assert_eq!(
                    codice_fiscale_da_claim(&c).unwrap().unwrap().as_str(),
                    "RSSMRA80A01H501U"
                );
            }
        }
        assert!(codice_fiscale_da_claim(&HashMap::new()).is_none());
    }
}
