//! One-shot messages for the next page of a session: what a POST has to show after its
//! redirect (POST/redirect/GET), such as a new token's secret, shown exactly once.
//!
//! The message is kept in the database, so that any server of several can show it, and taken
//! with `DELETE … RETURNING`, so a reload finds nothing. It is sealed (AES-256-GCM) with a key
//! derived from the server's secret and the session cookie itself, of which the database
//! holds only a hash: a copy of the database does not reveal a secret waiting to be shown.

use base64::Engine;
use chrono::Duration;
use hmac::{Hmac, Mac};
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use sha2::Sha256;

use crate::{ErroreServizio, Esito, Piattaforma, Segreto, casuale, ora};

/// How long a message waits for its page.
const DURATA_MINUTI: i64 = 10;
const IV: usize = 12;
const TAG: usize = 16;

fn chiave(segreto: &Segreto, cookie_sessione: &str) -> Option<[u8; 32]> {
    let mut m = Hmac::<Sha256>::new_from_slice(segreto.esponi().as_bytes()).ok()?;
    m.update(b"push-avviso:");
    m.update(cookie_sessione.as_bytes());
    Some(m.finalize().into_bytes().into())
}

fn sigilla(chiave: &[u8; 32], id: &str, testo: &str) -> Option<String> {
    let mut iv = [0u8; IV];
    openssl::rand::rand_bytes(&mut iv).ok()?;
    let mut tag = [0u8; TAG];
    let cifrato = encrypt_aead(
        Cipher::aes_256_gcm(),
        chiave,
        Some(&iv),
        id.as_bytes(),
        testo.as_bytes(),
        &mut tag,
    )
    .ok()?;
    let mut tutto = iv.to_vec();
    tutto.extend_from_slice(&tag);
    tutto.extend_from_slice(&cifrato);
    Some(base64::engine::general_purpose::STANDARD.encode(tutto))
}

fn apri(chiave: &[u8; 32], id: &str, sigillo: &str) -> Option<String> {
    let tutto = base64::engine::general_purpose::STANDARD
        .decode(sigillo)
        .ok()?;
    if tutto.len() < IV + TAG {
        return None;
    }
    let (iv, resto) = tutto.split_at(IV);
    let (tag, cifrato) = resto.split_at(TAG);
    let testo = decrypt_aead(
        Cipher::aes_256_gcm(),
        chiave,
        Some(iv),
        id.as_bytes(),
        cifrato,
        tag,
    )
    .ok()?;
    String::from_utf8(testo).ok()
}

impl Piattaforma {
    /// Keeps `testo` for this session's next page; returns the id to put in the redirect.
    pub async fn metti_avviso(&self, cookie_sessione: &str, testo: &str) -> Esito<String> {
        let id = casuale::token_url(16);
        let sigillo = chiave(self.config.segreto_sessione(), cookie_sessione)
            .and_then(|k| sigilla(&k, &id, testo))
            .ok_or_else(|| ErroreServizio::Interno("sigillo dell'avviso non riuscito".into()))?;
        self.db
            .metti_avviso(&id, &casuale::hash(cookie_sessione), &sigillo, ora())
            .await?;
        Ok(id)
    }

    /// Takes the message `id` of this session, once: `None` if it was already shown, expired
    /// or belongs to another session.
    pub async fn prendi_avviso(&self, cookie_sessione: &str, id: &str) -> Esito<Option<String>> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        let sigillo = self
            .db
            .consuma_avviso(
                id,
                &casuale::hash(cookie_sessione),
                ora() - Duration::minutes(DURATA_MINUTI),
            )
            .await?;
        Ok(sigillo.and_then(|s| {
            chiave(self.config.segreto_sessione(), cookie_sessione).and_then(|k| apri(&k, id, &s))
        }))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn solo_con_lo_stesso_cookie_e_lo_stesso_id() {
        let s = Segreto::new("s".repeat(40));
        let k = chiave(&s, "cookie-a").unwrap();
        let x = sigilla(&k, "id1", "push_segreto").unwrap();
        assert!(!x.contains("push_segreto"));
        assert_eq!(apri(&k, "id1", &x).as_deref(), Some("push_segreto"));
        assert_eq!(apri(&k, "id2", &x), None);
        let altra = chiave(&s, "cookie-b").unwrap();
        assert_eq!(apri(&altra, "id1", &x), None);
    }
}
