//! Receiving an uploaded flow: the body (raw, or the `file` part of a multipart form) is
//! streamed to the store's temporary place, hashed and counted on the way, and refused as soon
//! as it passes the size limit, so a too-large file is never stored whole.

use axum::extract::Multipart;
use futures_util::StreamExt;
use servizi::Piattaforma;
use servizi::deposito::{ErroreRicezione, Ricevuto};

/// Why a file was not received.
#[derive(Debug)]
pub enum Rifiuto {
    TroppoGrande(u64),
    Vuoto,
    Interrotto(String),
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

/// Receives a raw request body.
pub async fn ricevi_corpo(p: &Piattaforma, body: axum::body::Body) -> Result<Ricevuto, Rifiuto> {
    let mut r = p
        .deposito
        .ricevi(limite(p))
        .map_err(|e| Rifiuto::Interrotto(e.to_string()))?;
    let mut flusso = body.into_data_stream();
    while let Some(parte) = flusso.next().await {
        let parte = parte.map_err(|e| Rifiuto::Interrotto(e.to_string()))?;
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

/// Receives a multipart form whose part `file` is the flow.
pub async fn ricevi_modulo(p: &Piattaforma, mut m: Multipart) -> Result<Modulo, Rifiuto> {
    let mut out = Modulo {
        file: None,
        campi: Vec::new(),
    };
    while let Some(mut campo) = m
        .next_field()
        .await
        .map_err(|e| Rifiuto::Interrotto(e.to_string()))?
    {
        let nome = campo.name().unwrap_or_default().to_string();
        if nome == "file" {
            let nome_file = campo.file_name().unwrap_or_default().to_string();
            let mut r = p
                .deposito
                .ricevi(limite(p))
                .map_err(|e| Rifiuto::Interrotto(e.to_string()))?;
            while let Some(parte) = campo
                .chunk()
                .await
                .map_err(|e| Rifiuto::Interrotto(e.to_string()))?
            {
                r.scrivi(&parte).map_err(da_ricezione)?;
            }
            if r.dimensione() > 0 {
                out.file = Some((r.chiudi().map_err(da_ricezione)?, nome_file));
            }
        } else if out.campi.len() < 20 {
            let v = campo
                .text()
                .await
                .map_err(|e| Rifiuto::Interrotto(e.to_string()))?;
            out.campi.push((nome, v.chars().take(2000).collect()));
        }
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
