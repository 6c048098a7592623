//! CSRF tokens: every form carries HMAC(session secret, what the token is bound to).
//!
//! - With a session, the token is bound to the session (the hash of its cookie, which is the
//!   session's id): a token is worth nothing in another session, and a cookie-and-token pair
//!   planted in a victim's browser (from a sibling site or a plain-HTTP response) no longer
//!   makes a valid form for the victim's session.
//! - Before any session (login, registration request, public validator), it is bound to a
//!   random value in the browser's CSRF cookie (signed double submit).
//!
//! A forged cross-site form cannot know either, and `SameSite=Lax` keeps the cookies off
//! cross-site POSTs as a second line.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Segreto, casuale};

type HmacSha256 = Hmac<Sha256>;

/// What a CSRF token is bound to.
#[derive(Clone, Copy, Debug)]
pub enum LegameCsrf<'a> {
    /// A logged-in session, by the value of its cookie.
    Sessione(&'a str),
    /// No session: the browser's CSRF cookie value.
    Browser(&'a str),
}

fn mac(segreto: &Segreto, legame: LegameCsrf<'_>) -> Option<HmacSha256> {
    let mut m = HmacSha256::new_from_slice(segreto.esponi().as_bytes()).ok()?;
    match legame {
        LegameCsrf::Sessione(c) if !c.is_empty() => {
            m.update(b"push-csrf-sessione:");
            m.update(casuale::hash(c).as_bytes());
        }
        // A browser value too short to be one of ours binds nothing.
        LegameCsrf::Browser(c) if c.len() >= 16 => {
            m.update(b"push-csrf:");
            m.update(c.as_bytes());
        }
        _ => return None,
    }
    Some(m)
}

/// The token to put in forms for this binding.
pub fn token_csrf(segreto: &Segreto, legame: LegameCsrf<'_>) -> String {
    mac(segreto, legame)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Constant-time check of a submitted token.
pub fn csrf_valido(segreto: &Segreto, legame: LegameCsrf<'_>, inviato: &str) -> bool {
    if segreto.esponi().is_empty() {
        return false;
    }
    let Ok(byte) = hex::decode(inviato.trim()) else {
        return false;
    };
    mac(segreto, legame).is_some_and(|m| m.verify_slice(&byte).is_ok())
}

#[cfg(test)]
mod test {
    use super::*;
    use LegameCsrf::{Browser, Sessione};

    #[test]
    fn csrf_del_browser() {
        let s = Segreto::new("k".repeat(40));
        let cookie = "abcdefghijklmnopqrstuvwxyz";
        let t = token_csrf(&s, Browser(cookie));
        assert!(csrf_valido(&s, Browser(cookie), &t));
        assert!(!csrf_valido(&s, Browser("altrocookie-0123456789"), &t));
        assert!(!csrf_valido(&s, Browser(cookie), "00"));
        assert!(!csrf_valido(
            &Segreto::new("z".repeat(40)),
            Browser(cookie),
            &t
        ));
        assert!(!csrf_valido(
            &s,
            Browser("corto"),
            &token_csrf(&s, Browser("corto"))
        ));
    }

    #[test]
    fn csrf_della_sessione() {
        let s = Segreto::new("k".repeat(40));
        let t = token_csrf(&s, Sessione("sessione-a"));
        assert!(csrf_valido(&s, Sessione("sessione-a"), &t));
        assert!(!csrf_valido(&s, Sessione("sessione-b"), &t));
        assert!(!csrf_valido(
            &s,
            Sessione(""),
            &token_csrf(&s, Sessione(""))
        ));
        // A browser-bound token, whatever cookie it was made for, is not a session's token.
        let cookie = "abcdefghijklmnopqrstuvwxyz";
        assert!(!csrf_valido(
            &s,
            Sessione(cookie),
            &token_csrf(&s, Browser(cookie))
        ));
        assert!(!csrf_valido(
            &s,
            Browser(cookie),
            &token_csrf(&s, Sessione(cookie))
        ));
    }
}
