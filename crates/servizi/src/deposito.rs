//! Where uploaded files and their derived files live. Originals are content-addressed by
//! SHA-256 (the same bytes are stored once); derived files (the report, the canonical rows
//! of a valid flow) are named by the flow. The platform talks to the [`Deposito`] trait only,
//! so an S3-compatible store can replace the directory without touching the services.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A file being received: hashed and counted while written, refused past a limit before it is
/// stored whole.
pub struct Ricezione {
    /// `None` once closed; a file dropped unclosed is removed.
    file: Option<std::io::BufWriter<std::fs::File>>,
    percorso: PathBuf,
    hash: Sha256,
    dimensione: u64,
    limite: u64,
}

/// The bytes exceeded the size limit.
#[derive(Debug, thiserror::Error)]
pub enum ErroreRicezione {
    #[error("il file supera il limite di {0} byte")]
    TroppoGrande(u64),
    #[error("errore di scrittura: {0}")]
    Io(#[from] std::io::Error),
}

impl Ricezione {
    pub fn scrivi(&mut self, parte: &[u8]) -> Result<(), ErroreRicezione> {
        self.dimensione += parte.len() as u64;
        if self.dimensione > self.limite {
            return Err(ErroreRicezione::TroppoGrande(self.limite));
        }
        self.hash.update(parte);
        if let Some(f) = self.file.as_mut() {
            f.write_all(parte)?;
        }
        Ok(())
    }
    pub fn dimensione(&self) -> u64 {
        self.dimensione
    }
}

/// A received file, ready to be kept.
pub struct Ricevuto {
    pub percorso: PathBuf,
    pub sha256: String,
    pub dimensione: u64,
}

impl Ricezione {
    pub fn chiudi(mut self) -> Result<Ricevuto, ErroreRicezione> {
        if let Some(f) = self.file.take() {
            let file = f.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
        }
        Ok(Ricevuto {
            percorso: self.percorso.clone(),
            sha256: hex::encode(std::mem::take(&mut self.hash).finalize()),
            dimensione: self.dimensione,
        })
    }
}

impl Drop for Ricezione {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.percorso);
        }
    }
}

/// The file store.
pub trait Deposito: Send + Sync {
    /// Starts receiving a file in a private temporary place.
    fn ricevi(&self, limite: u64) -> std::io::Result<Ricezione>;
    /// Keeps a received file under its hash (a no-op when those bytes are already kept).
    fn conserva(&self, r: Ricevuto) -> std::io::Result<()>;
    /// A local path to read an original from (a remote store would fetch it to a cache).
    fn originale(&self, sha256: &str) -> std::io::Result<PathBuf>;
    /// Keeps a derived file (moved from a local path) under a name such as `flusso-12/report.json`.
    fn metti_derivato(&self, nome: &str, da: &Path) -> std::io::Result<()>;
    /// A local path to read a derived file from; `None` if it does not exist.
    fn derivato(&self, nome: &str) -> std::io::Result<Option<PathBuf>>;
    /// A private local directory for work files.
    fn lavoro(&self) -> std::io::Result<PathBuf>;
}

/// The store in the data directory: `oggetti/ab/cdef…` for originals, `derivati/…` for the rest.
pub struct DepositoFile {
    radice: PathBuf,
}

impl DepositoFile {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            radice: data_dir.to_path_buf(),
        }
    }
    fn cartella(&self, nome: &str) -> std::io::Result<PathBuf> {
        let p = self.radice.join(nome);
        std::fs::create_dir_all(&p)?;
        Ok(p)
    }
    fn percorso_oggetto(&self, sha256: &str) -> std::io::Result<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "impronta non valida",
            ));
        }
        Ok(self
            .radice
            .join("oggetti")
            .join(&sha256[..2])
            .join(&sha256[2..]))
    }
    fn percorso_derivato(&self, nome: &str) -> std::io::Result<PathBuf> {
        // Names are made by the platform; still, never leave the directory.
        let ok = !nome.is_empty()
            && nome
                .split('/')
                .all(|p| !p.is_empty() && p != ".." && p != "." && !p.contains('\\'));
        if !ok {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "nome non valido",
            ));
        }
        Ok(self.radice.join("derivati").join(nome))
    }
}

impl Deposito for DepositoFile {
    fn ricevi(&self, limite: u64) -> std::io::Result<Ricezione> {
        let dir = self.cartella("in-arrivo")?;
        let nome = format!("{}.part", crate::casuale::token_url(16));
        let percorso = dir.join(nome);
        let file = std::fs::File::create_new(&percorso)?;
        Ok(Ricezione {
            file: Some(std::io::BufWriter::with_capacity(256 * 1024, file)),
            percorso,
            hash: Sha256::new(),
            dimensione: 0,
            limite,
        })
    }

    fn conserva(&self, r: Ricevuto) -> std::io::Result<()> {
        let dest = self.percorso_oggetto(&r.sha256)?;
        if dest.exists() {
            std::fs::remove_file(&r.percorso)?;
            return Ok(());
        }
        if let Some(d) = dest.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::rename(&r.percorso, &dest)
    }

    fn originale(&self, sha256: &str) -> std::io::Result<PathBuf> {
        let p = self.percorso_oggetto(sha256)?;
        if !p.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "file originale assente",
            ));
        }
        Ok(p)
    }

    fn metti_derivato(&self, nome: &str, da: &Path) -> std::io::Result<()> {
        let dest = self.percorso_derivato(nome)?;
        if let Some(d) = dest.parent() {
            std::fs::create_dir_all(d)?;
        }
        if std::fs::rename(da, &dest).is_err() {
            std::fs::copy(da, &dest)?;
            std::fs::remove_file(da)?;
        }
        Ok(())
    }

    fn derivato(&self, nome: &str) -> std::io::Result<Option<PathBuf>> {
        let p = self.percorso_derivato(nome)?;
        Ok(p.exists().then_some(p))
    }

    fn lavoro(&self) -> std::io::Result<PathBuf> {
        self.cartella("lavoro")
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn stessi_byte_un_solo_oggetto_e_limite_prima_di_conservare() {
        let dir = tempfile::tempdir().unwrap();
        let d = DepositoFile::new(dir.path());
        let mut hash = String::new();
        for _ in 0..2 {
            let mut r = d.ricevi(100).unwrap();
            r.scrivi(b"ciao").unwrap();
            let f = r.chiudi().unwrap();
            hash = f.sha256.clone();
            d.conserva(f).unwrap();
        }
        assert_eq!(
            hash,
            "b133a0c0e9bee3be20163d2ad31d6248db292aa6dcb1ee087a2aa50e0fc75ae2"
        );
        assert!(d.originale(&hash).unwrap().exists());
        let mut r = d.ricevi(3).unwrap();
        assert!(matches!(
            r.scrivi(b"ciao"),
            Err(ErroreRicezione::TroppoGrande(3))
        ));
        assert!(d.percorso_derivato("../x").is_err());
        assert!(d.originale("../../etc/passwd").is_err());
    }
}
