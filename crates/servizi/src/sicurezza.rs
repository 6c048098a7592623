//! CSRF tokens: a signed double-submit cookie. The browser holds a random value in a cookie;
//! every form carries HMAC(session secret, that value). A forged cross-site form cannot know
//! the cookie, and `SameSite=Lax` keeps the cookie off cross-site POSTs as a second line.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Segreto;

type HmacSha256 = Hmac<Sha256>;

fn mac(segreto: &Segreto, valore_cookie: &str) -> Option<HmacSha256> {
    let mut m = HmacSha256::new_from_slice(segreto.esponi().as_bytes()).ok()?;
    m.update(b"push-csrf:");
    m.update(valore_cookie.as_bytes());
    Some(m)
}

/// The token to put in forms for this cookie value.
pub fn token_csrf(segreto: &Segreto, valore_cookie: &str) -> String {
    mac(segreto, valore_cookie)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Constant-time check of a submitted token.
pub fn csrf_valido(segreto: &Segreto, valore_cookie: &str, inviato: &str) -> bool {
    if valore_cookie.len() < 16 || segreto.esponi().is_empty() {
        return false;
    }
    let Ok(byte) = hex::decode(inviato.trim()) else {
        return false;
    };
    mac(segreto, valore_cookie).is_some_and(|m| m.verify_slice(&byte).is_ok())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn csrf() {
        let s = Segreto::new("k".repeat(40));
        let cookie = "abcdefghijklmnopqrstuvwxyz";
        let t = token_csrf(&s, cookie);
        assert!(csrf_valido(&s, cookie, &t));
        assert!(!csrf_valido(&s, "altrocookie-0123456789", &t));
        assert!(!csrf_valido(&s, cookie, "00"));
        assert!(!csrf_valido(&Segreto::new("z".repeat(40)), cookie, &t));
    }
}
