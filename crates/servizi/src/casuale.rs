//! Random tokens and their hashes.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `n` random bytes from the OS generator, URL-safe base64 without padding.
pub fn token_url(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// `n` random bytes as hex.
pub fn token_esadecimale(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// SHA-256 hex of a high-entropy token. (A slow password hash would add nothing: tokens are
/// 256-bit random values, not guessable passwords.)
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
