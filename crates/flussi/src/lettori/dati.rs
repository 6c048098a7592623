//! The bytes of an input, on disk or in memory, re-openable: readers that need several passes
//! (JSON, one per table) or random access (ZIP) open them again instead of keeping rows.

use std::io::{Cursor, Read, Seek};
use std::path::PathBuf;
use std::sync::Arc;

pub trait LeggiCerca: Read + Seek + Send {}
impl<T: Read + Seek + Send> LeggiCerca for T {}

#[derive(Clone, Debug)]
pub enum Dati {
    File(PathBuf),
    Byte(Arc<Vec<u8>>),
}

impl Dati {
    pub fn apri(&self) -> std::io::Result<Box<dyn LeggiCerca>> {
        Ok(match self {
            Dati::File(p) => Box::new(std::io::BufReader::with_capacity(
                256 * 1024,
                std::fs::File::open(p)?,
            )),
            Dati::Byte(b) => Box::new(Cursor::new(ByteCondivisi(b.clone()))),
        })
    }

    pub fn dimensione(&self) -> std::io::Result<u64> {
        Ok(match self {
            Dati::File(p) => std::fs::metadata(p)?.len(),
            Dati::Byte(b) => b.len() as u64,
        })
    }

    /// The first `n` bytes (for sniffing the container type).
    pub fn inizio(&self, n: usize) -> std::io::Result<Vec<u8>> {
        let mut v = Vec::with_capacity(n);
        self.apri()?.take(n as u64).read_to_end(&mut v)?;
        Ok(v)
    }

    pub fn tutto(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Dati::File(p) => std::fs::read(p),
            Dati::Byte(b) => Ok(b.as_ref().clone()),
        }
    }
}

/// Shared bytes usable by `Cursor`.
#[derive(Clone)]
struct ByteCondivisi(Arc<Vec<u8>>);
impl AsRef<[u8]> for ByteCondivisi {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
