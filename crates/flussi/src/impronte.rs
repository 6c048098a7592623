//! Compact sets of key fingerprints for the checks across rows (`chiave_duplicata`,
//! `riferimento_mancante`, `catasto_duplicato`): 8 bytes per key plus the table's slack, so that
//! ten million keys fit in about 100 MB instead of the gigabyte the keys themselves would take.
//!
//! A key (one or more text parts) is hashed twice with foldhash, with seeds drawn at random for
//! each set: 12 bits of the second hash choose one of 4 096 shards, the 64 bits of the first are
//! stored in that shard's open-addressing table (linear probing). Two different keys are
//! confused only when 76 bits agree: for 10 million keys the probability of any confusion in a
//! flow is about 10⁻⁹, and since the seeds are secret and change at every validation, a file
//! cannot be crafted to collide. Each shard grows by 7/5 past 85 % load and the shards start at
//! different sizes, so they do not all grow at once and the average load stays near 72 %.

use std::hash::{BuildHasher, Hasher};

use foldhash::quality::RandomState;

/// How many shards (a power of two); the shard index is 12 bits of the second hash.
const FRAMMENTI: usize = 4096;

/// A set of key fingerprints.
pub(crate) struct Impronte {
    posto: RandomState,
    frammento: RandomState,
    frammenti: Vec<Frammento>,
    len: usize,
}

/// One shard: an open-addressing table of fingerprints, 0 = free slot.
#[derive(Default)]
struct Frammento {
    slot: Vec<u64>,
    len: usize,
}

/// The fingerprint of a key, computed by [`Impronte::impronta`] of the set it is looked up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Impronta {
    frammento: u16,
    valore: u64,
}

impl Default for Impronte {
    fn default() -> Self {
        Self::new()
    }
}

impl Impronte {
    pub fn new() -> Self {
        Self {
            posto: RandomState::default(),
            frammento: RandomState::default(),
            frammenti: Vec::new(),
            len: 0,
        }
    }

    /// Number of distinct fingerprints.
    #[allow(dead_code)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// The fingerprint of a key given as text parts (the parts are delimited, so `("ab", "c")`
    /// and `("a", "bc")` differ).
    pub fn impronta<S: AsRef<str>>(&self, parti: &[S]) -> Impronta {
        let mut a = self.posto.build_hasher();
        let mut b = self.frammento.build_hasher();
        for p in parti {
            scrivi_parte(&mut a, p.as_ref());
            scrivi_parte(&mut b, p.as_ref());
        }
        Self::da_hash(a.finish(), b.finish())
    }

    /// The fingerprint of a key whose parts are written by `scrivi` into a hasher (to hash
    /// values without making strings of them). `scrivi` is called twice and must write the same.
    pub fn impronta_con(&self, scrivi: impl Fn(&mut dyn Hasher)) -> Impronta {
        let mut a = self.posto.build_hasher();
        let mut b = self.frammento.build_hasher();
        scrivi(&mut a);
        scrivi(&mut b);
        Self::da_hash(a.finish(), b.finish())
    }

    fn da_hash(a: u64, b: u64) -> Impronta {
        Impronta {
            frammento: (b >> 52) as u16,
            valore: a.max(1),
        }
    }

    /// Adds a fingerprint; `false` when it was already there.
    pub fn inserisci(&mut self, k: Impronta) -> bool {
        if self.frammenti.is_empty() {
            self.frammenti.resize_with(FRAMMENTI, Frammento::default);
        }
        let i = usize::from(k.frammento);
        let nuovo = self.frammenti[i].inserisci(k.valore, i);
        self.len += usize::from(nuovo);
        nuovo
    }

    pub fn contiene(&self, k: Impronta) -> bool {
        self.frammenti
            .get(usize::from(k.frammento))
            .is_some_and(|f| f.contiene(k.valore))
    }
}

/// Writes one part of a key into a hasher, delimited (as `str`'s `Hash` does).
pub(crate) fn scrivi_parte(h: &mut dyn Hasher, s: &str) {
    h.write(s.as_bytes());
    h.write_u8(0xff);
}

impl Frammento {
    /// The first slot to probe: the high bits of the fingerprint scaled to the capacity.
    fn inizio(&self, v: u64) -> usize {
        ((u128::from(v) * self.slot.len() as u128) >> 64) as usize
    }

    fn contiene(&self, v: u64) -> bool {
        if self.slot.is_empty() {
            return false;
        }
        let n = self.slot.len();
        let mut i = self.inizio(v);
        loop {
            match self.slot[i] {
                0 => return false,
                x if x == v => return true,
                _ => i = if i + 1 == n { 0 } else { i + 1 },
            }
        }
    }

    fn inserisci(&mut self, v: u64, quale: usize) -> bool {
        // Grow past 85 % load (every new key is a search that ends on a free slot, and linear
        // probing's runs lengthen quickly above that); the first size depends on the shard, so
        // that shards reach their thresholds at different moments.
        if (self.len + 1) * 20 > self.slot.len() * 17 {
            let nuova = if self.slot.is_empty() {
                16 + quale % 16
            } else {
                self.slot.len() * 7 / 5 + 1
            };
            let vecchi = std::mem::replace(&mut self.slot, vec![0; nuova]);
            for x in vecchi.into_iter().filter(|&x| x != 0) {
                self.metti(x);
            }
        }
        let nuovo = self.metti(v);
        self.len += usize::from(nuovo);
        nuovo
    }

    /// Puts `v` in the table, which has a free slot.
    fn metti(&mut self, v: u64) -> bool {
        let n = self.slot.len();
        let mut i = self.inizio(v);
        loop {
            match self.slot[i] {
                0 => {
                    self.slot[i] = v;
                    return true;
                }
                x if x == v => return false,
                _ => i = if i + 1 == n { 0 } else { i + 1 },
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn trova_quello_che_ha_inserito_e_nient_altro() {
        let mut s = Impronte::new();
        for i in 0..100_000u32 {
            assert!(s.inserisci(s.impronta(&[format!("U{i}")])));
        }
        assert_eq!(s.len(), 100_000);
        for i in 0..100_000u32 {
            assert!(s.contiene(s.impronta(&[format!("U{i}")])));
            assert!(!s.inserisci(s.impronta(&[format!("U{i}")])));
            assert!(!s.contiene(s.impronta(&[format!("X{i}")])));
        }
        assert_eq!(s.len(), 100_000);
        // Parts are delimited.
        assert_ne!(s.impronta(&["ab", "c"]), s.impronta(&["a", "bc"]));
        assert!(!Impronte::new().contiene(s.impronta(&["U1"])));
    }
}
