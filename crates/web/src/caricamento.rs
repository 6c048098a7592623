//! Receiving an uploaded flow: the body (raw, or the `file` part of a multipart form) is
//! streamed to the store's temporary place, hashed and counted on the way, and refused as soon
//! as it passes the size limit, so a too-large file is never stored whole.
//!
//! A multipart form is hostile input as a whole: every other part is read up to a small bound
//! (never whole into memory), a second `file` part is refused, and a form that needs a CSRF
//! token must present a valid one *before* its file, so nothing is written for a forged
//! request. What was received lives in a temporary file that removes itself unless the
//! platform keeps it.

use axum::extract::Multipart;
use futures_util::StreamExt;
use servizi::Piattaforma;
use servizi::deposito::{ErroreRicezione, Ricevuto};

/// Largest non-file part of a multipart upload (the form has a token and an entity code).
pub const LIMITE_CAMPO: usize = 64 * 1024;
/// Most non-file parts in a multipart upload.
pub const MAX_CAMPI: usize = 20;

/// Why a file was not received.
#[derive(Debug)]
pub enum Rifiuto {
    TroppoGrande(u64),
    Vuoto,
    Interrotto(String),
    /// A non-file part over [`LIMITE_CAMPO`].
    CampoTroppoGrande,
    /// More than [`MAX_CAMPI`] non-file parts.
    TroppiCampi,
    /// A second `file` part.
    PiuFile,
    /// The form's CSRF token was missing, came after the file, or was not valid.
    Csrf,
}

impl Rifiuto {
    pub fn messaggio(&self) -> String {
        match self {
            Rifiuto::TroppoGrande(l) => format!(
                "Il file supera la dimensione massima di {} MB: non è stato conservato. Se il flusso è davvero così grande, lo comprima in un file ZIP.",
                l / (1024 * 1024)
            ),
            Rifiuto::Vuoto => "Il file è vuoto o non è stato scelto.".into(),
            Rifiuto::Interrotto(_) => "Il caricamento si è interrotto: riprovi.".into(),
            Rifiuto::CampoTroppoGrande => format!(
                "Un campo del modulo supera {} KB: il modulo non è stato accettato.",
                LIMITE_CAMPO / 1024
            ),
            Rifiuto::TroppiCampi => format!(
                "Il modulo ha più di {MAX_CAMPI} campi: non è stato accettato."
            ),
            Rifiuto::PiuFile => {
                "Si può caricare un solo file per volta: il modulo ne conteneva più di uno e nessuno è stato conservato.".into()
            }
            Rifiuto::Csrf => {
                "Il modulo è scaduto o non proviene da questo sito: ricarichi la pagina e riprovi."
                    .into()
            }
        }
    }

    /// The HTTP status of the refusal.
    pub fn stato(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Rifiuto::TroppoGrande(_) | Rifiuto::CampoTroppoGrande => StatusCode::PAYLOAD_TOO_LARGE,
            Rifiuto::TroppiCampi | Rifiuto::PiuFile => StatusCode::BAD_REQUEST,
            Rifiuto::Csrf => StatusCode::FORBIDDEN,
            Rifiuto::Vuoto | Rifiuto::Interrotto(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

fn limite(p: &Piattaforma) -> u64 {
    p.config.limite_caricamento_mb * 1024 * 1024
}

fn da_ricezione(e: ErroreRicezione) -> Rifiuto {
    match e {
        ErroreRicezione::TroppoGrande(l) => Rifiuto::TroppoGrande(l),
        ErroreRicezione::Io(e) => Rifiuto::Interrotto(e.to_string()),
    }
}

fn interrotto(e: impl std::fmt::Display) -> Rifiuto {
    Rifiuto::Interrotto(e.to_string())
}

/// Receives a raw request body.
pub async fn ricevi_corpo(p: &Piattaforma, body: axum::body::Body) -> Result<Ricevuto, Rifiuto> {
    let mut r = p.deposito.ricevi(limite(p)).map_err(interrotto)?;
    let mut flusso = body.into_data_stream();
    while let Some(parte) = flusso.next().await {
        let parte = parte.map_err(interrotto)?;
        r.scrivi(&parte).map_err(da_ricezione)?;
    }
    if r.dimensione() == 0 {
        return Err(Rifiuto::Vuoto);
    }
    r.chiudi().map_err(da_ricezione)
}

/// The fields of a multipart upload: the file, its name, and the other (small) text fields.
pub struct Modulo {
    pub file: Option<(Ricevuto, String)>,
    pub campi: Vec<(String, String)>,
}

impl Modulo {
    pub fn campo(&self, nome: &str) -> Option<&str> {
        self.campi
            .iter()
            .find(|(k, _)| k == nome)
            .map(|(_, v)| v.as_str())
    }
}

/// How a multipart upload proves it comes from this site's form.
pub enum Provenienza<'a> {
    /// An API call: the bearer token was checked before the body was read.
    Api,
    /// A page's form: its `_csrf` part must come before the file and pass this check.
    Modulo(&'a (dyn Fn(&str) -> bool + Sync)),
}

/// Reads a non-file part, refusing it past [`LIMITE_CAMPO`] bytes without holding more.
pub async fn leggi_campo(
    campo: &mut axum::extract::multipart::Field<'_>,
) -> Result<String, Rifiuto> {
    let mut byte = Vec::new();
    while let Some(parte) = campo.chunk().await.map_err(interrotto)? {
        if byte.len() + parte.len() > LIMITE_CAMPO {
            return Err(Rifiuto::CampoTroppoGrande);
        }
        byte.extend_from_slice(&parte);
    }
    Ok(String::from_utf8_lossy(&byte).into_owned())
}

/// Receives a multipart form whose part `file` is the flow.
pub async fn ricevi_modulo(
    p: &Piattaforma,
    mut m: Multipart,
    provenienza: Provenienza<'_>,
) -> Result<Modulo, Rifiuto> {
    let mut out = Modulo {
        file: None,
        campi: Vec::new(),
    };
    let mut csrf_ok = matches!(provenienza, Provenienza::Api);
    let mut file_visto = false;
    while let Some(mut campo) = m.next_field().await.map_err(interrotto)? {
        let nome = campo.name().unwrap_or_default().to_string();
        if nome == "file" {
            if !csrf_ok {
                return Err(Rifiuto::Csrf);
            }
            if file_visto {
                // Dropping `out` removes the first file too.
                return Err(Rifiuto::PiuFile);
            }
            file_visto = true;
            let nome_file = campo.file_name().unwrap_or_default().to_string();
            let mut r = p.deposito.ricevi(limite(p)).map_err(interrotto)?;
            while let Some(parte) = campo.chunk().await.map_err(interrotto)? {
                r.scrivi(&parte).map_err(da_ricezione)?;
            }
            if r.dimensione() > 0 {
                out.file = Some((r.chiudi().map_err(da_ricezione)?, nome_file));
            }
            continue;
        }
        if out.campi.len() >= MAX_CAMPI {
            return Err(Rifiuto::TroppiCampi);
        }
        let v = leggi_campo(&mut campo).await?;
        if nome == "_csrf"
            && let Provenienza::Modulo(valido) = &provenienza
        {
            csrf_ok = valido(&v);
            if !csrf_ok {
                return Err(Rifiuto::Csrf);
            }
        }
        out.campi.push((nome, v));
    }
    if !csrf_ok {
        return Err(Rifiuto::Csrf);
    }
    Ok(out)
}

/// A file name for a raw upload: the query's `nome`, the `Content-Disposition` filename, or
/// one made from the `Content-Type` (the name tells the engine the container).
pub fn nome_da_intestazioni(nome: Option<&str>, headers: &axum::http::HeaderMap) -> String {
    if let Some(n) = nome.map(str::trim).filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    if let Some(n) = headers
        .get(axum::http::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("filename=").nth(1))
        .map(|n| n.split(';').next().unwrap_or(n).trim().trim_matches('"'))
        .filter(|n| !n.is_empty())
    {
        return n.to_string();
    }
    let tipo = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let est = if tipo.contains("spreadsheetml") {
        "xlsx"
    } else if tipo.contains("zip") {
        "zip"
    } else if tipo.contains("json") {
        "json"
    } else if tipo.contains("csv") || tipo.starts_with("text/") {
        "csv"
    } else if tipo.contains("pkcs7") {
        "zip.p7m"
    } else {
        "zip"
    };
    format!("flusso.{est}")
}
