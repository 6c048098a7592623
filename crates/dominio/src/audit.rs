//! The audit log's hash chain.
//!
//! Each entry's hash covers its own fields and the previous entry's hash, so altering,
//! inserting or deleting any entry breaks the chain from that point. The chain head (last
//! sequence number and hash) is stored apart, so that deleting the last entries is detected too.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const HASH_INIZIALE: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit entry as stored.
#[derive(Clone, Debug, Serialize)]
pub struct VoceAudit {
    pub seq: i64,
    pub istante: DateTime<Utc>,
    /// The acting person's codice fiscale, `token:<id>`, or `sistema`.
    pub attore: String,
    pub ente: Option<String>,
    pub azione: String,
    pub oggetto: String,
    /// JSON text.
    pub dettagli: String,
    pub hash_precedente: String,
    pub hash: String,
}

/// Computes the hash of an entry from its fields and the previous hash.
///
/// The encoding is length-prefixed so that no two different field tuples give the same input.
#[allow(clippy::too_many_arguments)]
pub fn calcola_hash(
    seq: i64,
    istante: &DateTime<Utc>,
    attore: &str,
    ente: Option<&str>,
    azione: &str,
    oggetto: &str,
    dettagli: &str,
    hash_precedente: &str,
) -> String {
    let mut h = Sha256::new();
    let istante = istante.to_rfc3339_opts(SecondsFormat::Micros, true);
    for parte in [
        seq.to_string().as_str(),
        istante.as_str(),
        attore,
        ente.unwrap_or("\u{0}"),
        azione,
        oggetto,
        dettagli,
        hash_precedente,
    ] {
        h.update((parte.len() as u64).to_be_bytes());
        h.update(parte.as_bytes());
    }
    hex::encode(h.finalize())
}

impl VoceAudit {
    pub fn hash_atteso(&self) -> String {
        calcola_hash(
            self.seq,
            &self.istante,
            &self.attore,
            self.ente.as_deref(),
            &self.azione,
            &self.oggetto,
            &self.dettagli,
            &self.hash_precedente,
        )
    }
}

/// The first problem found in a chain, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rottura {
    /// The entry's stored hash does not match its content.
    Alterata { seq: i64 },
    /// The entry does not link to the previous one (an entry before it was removed or altered).
    Scollegata { seq: i64 },
    /// Sequence numbers are not consecutive: entries between were removed.
    Mancante { dopo: i64, trovata: i64 },
    /// The chain ends before the recorded head: the last entries were removed.
    CodaMancante { ultima: i64, attesa: i64 },
}

impl std::fmt::Display for Rottura {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rottura::Alterata { seq } => write!(
                f,
                "la voce n. {seq} è stata alterata (il suo hash non corrisponde al contenuto)"
            ),
            Rottura::Scollegata { seq } => write!(
                f,
                "la voce n. {seq} non è collegata alla precedente (voce precedente alterata o sostituita)"
            ),
            Rottura::Mancante { dopo, trovata } => write!(
                f,
                "mancano voci tra la n. {dopo} e la n. {trovata}: la prima voce rotta è la n. {}",
                dopo + 1
            ),
            Rottura::CodaMancante { ultima, attesa } => write!(
                f,
                "la catena termina alla voce n. {ultima} ma ne risultano {attesa}: la prima voce mancante è la n. {}",
                ultima + 1
            ),
        }
    }
}

/// Incremental chain verifier: feed entries in sequence order.
pub struct Verifica {
    ultimo_seq: i64,
    ultimo_hash: String,
}

impl Default for Verifica {
    fn default() -> Self {
        Self {
            ultimo_seq: 0,
            ultimo_hash: HASH_INIZIALE.to_string(),
        }
    }
}

impl Verifica {
    pub fn voce(&mut self, v: &VoceAudit) -> Result<(), Rottura> {
        if v.seq != self.ultimo_seq + 1 {
            return Err(Rottura::Mancante {
                dopo: self.ultimo_seq,
                trovata: v.seq,
            });
        }
        if v.hash_precedente != self.ultimo_hash {
            return Err(Rottura::Scollegata { seq: v.seq });
        }
        if v.hash_atteso() != v.hash {
            return Err(Rottura::Alterata { seq: v.seq });
        }
        self.ultimo_seq = v.seq;
        self.ultimo_hash = v.hash.clone();
        Ok(())
    }

    /// Checks the end of the chain against the recorded head.
    pub fn fine(&self, testa_seq: i64, testa_hash: &str) -> Result<i64, Rottura> {
        if self.ultimo_seq < testa_seq {
            return Err(Rottura::CodaMancante {
                ultima: self.ultimo_seq,
                attesa: testa_seq,
            });
        }
        if self.ultimo_seq > testa_seq || self.ultimo_hash != testa_hash {
            return Err(Rottura::Alterata {
                seq: self.ultimo_seq,
            });
        }
        Ok(self.ultimo_seq)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn catena(n: i64) -> Vec<VoceAudit> {
        let mut prec = HASH_INIZIALE.to_string();
        (1..=n)
            .map(|seq| {
                let istante = DateTime::from_timestamp(1_700_000_000 + seq, 0).unwrap();
                let hash = calcola_hash(seq, &istante, "sistema", None, "prova", "x", "{}", &prec);
                let v = VoceAudit {
                    seq,
                    istante,
                    attore: "sistema".into(),
                    ente: None,
                    azione: "prova".into(),
                    oggetto: "x".into(),
                    dettagli: "{}".into(),
                    hash_precedente: prec.clone(),
                    hash: hash.clone(),
                };
                prec = hash;
                v
            })
            .collect()
    }

    fn verifica(voci: &[VoceAudit], testa: (i64, &str)) -> Result<i64, Rottura> {
        let mut v = Verifica::default();
        for x in voci {
            v.voce(x)?;
        }
        v.fine(testa.0, testa.1)
    }

    #[test]
    fn catena_integra_e_rotture() {
        let c = catena(5);
        let testa = (5, c[4].hash.clone());
        assert_eq!(verifica(&c, (testa.0, &testa.1)), Ok(5));

        let mut alterata = c.clone();
        alterata[2].oggetto = "y".into();
        assert_eq!(
            verifica(&alterata, (testa.0, &testa.1)),
            Err(Rottura::Alterata { seq: 3 })
        );

        let mut tolta = c.clone();
        tolta.remove(1);
        assert_eq!(
            verifica(&tolta, (testa.0, &testa.1)),
            Err(Rottura::Mancante {
                dopo: 1,
                trovata: 3
            })
        );

        let coda = &c[..4];
        assert_eq!(
            verifica(coda, (testa.0, &testa.1)),
            Err(Rottura::CodaMancante {
                ultima: 4,
                attesa: 5
            })
        );
    }
}
