//! Where uploaded files and their derived files live. Originals are content-addressed by
//! SHA-256 (the same bytes are stored once); derived files (the report, the canonical rows
//! of a valid flow) are named by the flow. The platform talks to the [`Deposito`] trait only,
//! so an S3-compatible store can replace the directory without touching the services.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tempfile::{NamedTempFile, TempDir, TempPath};

/// A file being received: hashed and counted while written, refused past a limit before it is
/// stored whole. It is a temporary file (owner-only): dropped before [`Ricezione::chiudi`] — on
/// an error, a refusal, a panic or a cancelled request — it is removed.
pub struct Ricezione {
    file: std::io::BufWriter<NamedTempFile>,
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
        self.file.write_all(parte)?;
        Ok(())
    }
    pub fn dimensione(&self) -> u64 {
        self.dimensione
    }
}

/// A received file, ready to be kept. Still a temporary file: unless [`Deposito::conserva`]
/// keeps it, dropping it removes it, so no path through the code can leak it.
pub struct Ricevuto {
    file: TempPath,
    pub sha256: String,
    pub dimensione: u64,
}

impl Ricevuto {
    /// Where the received bytes are until they are kept.
    pub fn percorso(&self) -> &Path {
        &self.file
    }
}

impl Ricezione {
    pub fn chiudi(self) -> Result<Ricevuto, ErroreRicezione> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        Ok(Ricevuto {
            file: file.into_temp_path(),
            sha256: hex::encode(self.hash.finalize()),
            dimensione: self.dimensione,
        })
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
    /// A fresh private local directory for work files, removed with everything in it when
    /// dropped (also on an error or a panic).
    fn lavoro(&self) -> std::io::Result<TempDir>;
    /// Removes what an interrupted process left behind (partial uploads, work directories)
    /// untouched for longer than `eta`; returns how many entries went.
    fn spazza(&self, eta: Duration) -> std::io::Result<usize>;
}

/// Creates a directory (and its missing parents) readable by the owner only (mode 0700).
pub fn crea_cartella_privata(p: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(p)
}

/// Makes a stored file readable by the owner only (mode 0600): files made by the engine or
/// copied in get the process's default mode.
fn privato(p: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Partial uploads, while they are received.
const IN_ARRIVO: &str = "in-arrivo";
/// Work directories of validations, differences and acceptances.
const LAVORO: &str = "lavoro";

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
        crea_cartella_privata(&p)?;
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
        let dir = self.cartella(IN_ARRIVO)?;
        // tempfile creates the file with mode 0600 and removes it when dropped.
        let file = tempfile::Builder::new().suffix(".part").tempfile_in(dir)?;
        Ok(Ricezione {
            file: std::io::BufWriter::with_capacity(256 * 1024, file),
            hash: Sha256::new(),
            dimensione: 0,
            limite,
        })
    }

    fn conserva(&self, r: Ricevuto) -> std::io::Result<()> {
        let dest = self.percorso_oggetto(&r.sha256)?;
        if dest.exists() {
            // Same bytes already kept: dropping `r` removes the copy.
            return Ok(());
        }
        if let Some(d) = dest.parent() {
            crea_cartella_privata(d)?;
        }
        // The temporary file already has mode 0600.
        r.file.persist(&dest).map_err(|e| e.error)?;
        Ok(())
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
            crea_cartella_privata(d)?;
        }
        if std::fs::rename(da, &dest).is_err() {
            std::fs::copy(da, &dest)?;
            std::fs::remove_file(da)?;
        }
        privato(&dest)
    }

    fn derivato(&self, nome: &str) -> std::io::Result<Option<PathBuf>> {
        let p = self.percorso_derivato(nome)?;
        Ok(p.exists().then_some(p))
    }

    fn lavoro(&self) -> std::io::Result<TempDir> {
        // tempfile creates the directory with mode 0700.
        tempfile::Builder::new()
            .prefix("lavoro-")
            .tempdir_in(self.cartella(LAVORO)?)
    }

    fn spazza(&self, eta: Duration) -> std::io::Result<usize> {
        let soglia = SystemTime::now()
            .checked_sub(eta)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut n = 0;
        for cartella in [IN_ARRIVO, LAVORO] {
            let dir = self.radice.join(cartella);
            let voci = match std::fs::read_dir(&dir) {
                Ok(v) => v,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for voce in voci {
                let voce = voce?;
                let meta = voce.metadata()?;
                // Recent entries may belong to a request or a job still running (on this
                // server or, with a shared directory, on another one).
                if meta.modified()? > soglia {
                    continue;
                }
                if meta.is_dir() {
                    std::fs::remove_dir_all(voce.path())?;
                } else {
                    std::fs::remove_file(voce.path())?;
                }
                n += 1;
            }
        }
        Ok(n)
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
        drop(r);
        assert_eq!(
            voci(&dir.path().join(IN_ARRIVO)),
            0,
            "file parziale rimasto"
        );
    }

    fn voci(p: &Path) -> usize {
        std::fs::read_dir(p).map(|d| d.count()).unwrap_or(0)
    }

    #[test]
    fn file_ricevuti_e_cartelle_di_lavoro_si_puliscono_da_soli() {
        let dir = tempfile::tempdir().unwrap();
        let d = DepositoFile::new(dir.path());
        // Received whole but never kept (a refused request): gone when dropped.
        let mut r = d.ricevi(100).unwrap();
        r.scrivi(b"ciao").unwrap();
        let f = r.chiudi().unwrap();
        assert!(f.percorso().exists());
        drop(f);
        assert_eq!(voci(&dir.path().join(IN_ARRIVO)), 0);
        // Also when the owner panics.
        let d2 = DepositoFile::new(dir.path());
        let _ = std::panic::catch_unwind(move || {
            let l = d2.lavoro().unwrap();
            std::fs::write(l.path().join("x.tsv"), b"1").unwrap();
            panic!("guasto");
        });
        assert_eq!(voci(&dir.path().join(LAVORO)), 0);
    }

    #[test]
    fn la_spazzata_toglie_solo_gli_avanzi_vecchi() {
        let dir = tempfile::tempdir().unwrap();
        let d = DepositoFile::new(dir.path());
        let vecchio = SystemTime::now() - Duration::from_secs(7200);
        // What a crash leaves: a partial upload and a work directory, two hours old.
        let parziale = dir.path().join(IN_ARRIVO).join("abc.part");
        std::fs::create_dir_all(parziale.parent().unwrap()).unwrap();
        std::fs::write(&parziale, b"mezzo").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&parziale)
            .unwrap()
            .set_modified(vecchio)
            .unwrap();
        let cartella = dir.path().join(LAVORO).join("lavoro-abc");
        std::fs::create_dir_all(&cartella).unwrap();
        std::fs::write(cartella.join("righe.tsv"), b"1").unwrap();
        std::fs::File::open(&cartella)
            .unwrap()
            .set_modified(vecchio)
            .unwrap();
        // A request in progress.
        let mut in_corso = d.ricevi(100).unwrap();
        in_corso.scrivi(b"ciao").unwrap();
        assert_eq!(d.spazza(Duration::from_secs(3600)).unwrap(), 2);
        assert!(!parziale.exists() && !cartella.exists());
        assert_eq!(voci(&dir.path().join(IN_ARRIVO)), 1);
        in_corso.chiudi().unwrap();
    }
}
