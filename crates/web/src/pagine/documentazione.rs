//! Public documentation of the flows, generated from the same definitions the validator uses:
//! one page per domain, the downloads (templates, Table Schema descriptor, samples), and the
//! public validator (a file is validated in memory and forgotten: nothing is stored).

use std::sync::Arc;

use crate::estrattori::{Multipart, Path};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use flussi::lettori::dati::Dati;
use flussi::spec::{self, CODICI_COMUNI, Obbligo, Tipo};
use minijinja::context;
use serde::Serialize;
use servizi::ErroreServizio;

use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::modelli::pagina;

#[derive(rust_embed::RustEmbed)]
#[folder = "../flussi/tests/dati/"]
struct Campioni;

#[derive(Serialize)]
struct CampoDoc {
    nome: &'static str,
    tipo: String,
    obbligo: &'static str,
    regole: String,
    descrizione: &'static str,
    valori: Vec<&'static str>,
}

#[derive(Serialize)]
struct TabellaDoc {
    nome: &'static str,
    obbligatoria: bool,
    chiave: Vec<&'static str>,
    descrizione: &'static str,
    campi: Vec<CampoDoc>,
}

#[derive(Serialize)]
struct CodiceDoc {
    codice: &'static str,
    gravita: &'static str,
    significato: &'static str,
}

fn dominio(nome: &str) -> Result<&'static spec::Dominio, ErrorePagina> {
    spec::dominio(nome).ok_or_else(|| ErroreServizio::NonTrovato.into())
}

fn campioni_di(d: &str) -> Vec<String> {
    let mut v: Vec<String> = Campioni::iter()
        .filter(|n| n.starts_with(d) && !n.ends_with(".json"))
        .map(|n| n.to_string())
        .collect();
    v.sort();
    v
}

pub async fn indice(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let domini: Vec<_> = spec::DOMINI
        .iter()
        .filter_map(|n| spec::dominio(n))
        .map(|d| context! { nome => d.nome, titolo => d.titolo, descrizione => d.descrizione })
        .collect();
    pagina(&st, &cx, "documentazione.html", context! { domini })
}

pub async fn dominio_pagina(
    State(st): State<Stato>,
    cx: Contesto,
    Path(nome): Path<String>,
) -> Result<Html<String>, ErrorePagina> {
    let d = dominio(&nome)?;
    let tabelle: Vec<TabellaDoc> = d
        .tabelle
        .iter()
        .map(|t| TabellaDoc {
            nome: t.nome,
            obbligatoria: t.obbligatoria,
            chiave: t.chiave.to_vec(),
            descrizione: t.descrizione,
            campi: t
                .campi
                .iter()
                .map(|c| CampoDoc {
                    nome: c.nome,
                    tipo: c.tipo.nome(),
                    obbligo: match c.obbligo {
                        Obbligo::Si => "sì",
                        Obbligo::No => "no",
                        Obbligo::Condizionato(q) => q,
                    },
                    regole: flussi::esporta::regola(c),
                    descrizione: c.descrizione,
                    valori: if let Tipo::Enum(v) = &c.tipo {
                        v.to_vec()
                    } else {
                        vec![]
                    },
                })
                .collect(),
        })
        .collect();
    let comuni: Vec<CodiceDoc> = CODICI_COMUNI
        .iter()
        .map(|(c, g, s)| CodiceDoc {
            codice: c,
            gravita: g.as_str(),
            significato: s,
        })
        .collect();
    let controlli: Vec<CodiceDoc> = d
        .controlli
        .iter()
        .map(|c| CodiceDoc {
            codice: c.codice,
            gravita: c.gravita.as_str(),
            significato: c.regola,
        })
        .collect();
    pagina(
        &st,
        &cx,
        "documentazione_dominio.html",
        context! { d => context! { nome => d.nome, titolo => d.titolo, descrizione => d.descrizione }, tabelle, comuni, controlli, campioni => campioni_di(d.nome) },
    )
}

fn allegato(byte: Vec<u8>, tipo: &'static str, nome: &str) -> Response {
    let mut r = byte.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(tipo));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{nome}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `/documentazione/{dominio}/{file}`: templates, descriptor and samples.
pub async fn scarica(Path((nome, file)): Path<(String, String)>) -> Result<Response, ErrorePagina> {
    let d = dominio(&nome)?;
    let interno = |e: flussi::esporta::ErroreModello| {
        ErrorePagina::from(ErroreServizio::Interno(e.to_string()))
    };
    Ok(match file.as_str() {
        "modello.xlsx" => allegato(
            flussi::esporta::modello_xlsx(d).map_err(interno)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("push-{}-modello.xlsx", d.nome),
        ),
        "modello-csv.zip" => allegato(
            flussi::esporta::modello_csv_zip(d).map_err(interno)?,
            "application/zip",
            &format!("push-{}-modello-csv.zip", d.nome),
        ),
        "datapackage.json" => {
            let j = flussi::esporta::tableschema(d, dominio::orologio::oggi());
            allegato(
                serde_json::to_vec_pretty(&j).unwrap_or_default(),
                "application/json",
                &format!("push-{}-datapackage.json", d.nome),
            )
        }
        altro if altro.starts_with(d.nome) && !altro.ends_with(".json") => {
            let f = Campioni::get(altro).ok_or(ErroreServizio::NonTrovato)?;
            let tipo = if altro.ends_with(".zip") {
                "application/zip"
            } else if altro.ends_with(".csv") {
                "text/csv; charset=utf-8"
            } else {
                "application/octet-stream"
            };
            allegato(f.data.into_owned(), tipo, altro)
        }
        _ => return Err(ErroreServizio::NonTrovato.into()),
    })
}

pub async fn validatore(
    State(st): State<Stato>,
    cx: Contesto,
) -> Result<Html<String>, ErrorePagina> {
    pagina(
        &st,
        &cx,
        "validatore.html",
        context! { domini => spec::DOMINI },
    )
}

/// Largest file the public validator accepts.
pub const LIMITE_VALIDATORE: usize = 50 * 1024 * 1024;

/// Validates an uploaded file in memory; nothing is written anywhere.
pub async fn valida(
    State(st): State<Stato>,
    cx: Contesto,
    client: crate::freno::IndirizzoClient,
    Multipart(mut m): Multipart,
) -> Result<Response, ErrorePagina> {
    // Before the body is read: the place is held while the file arrives and is validated.
    let posto = st.freno.entra(client.0).map_err(ErrorePagina::Frenato)?;
    let mut csrf = String::new();
    let (mut nome_dominio, mut ente, mut formato) =
        (String::new(), String::new(), String::from("pagina"));
    let mut file: Option<(String, Vec<u8>)> = None;
    let non_valida = |m: &str| ErrorePagina::RichiestaNonValida(m.to_string());
    while let Some(mut campo) = m
        .next_field()
        .await
        .map_err(|_| non_valida("Il caricamento non è riuscito o il file supera i 50 MB."))?
    {
        // The small fields are read up to their bound, never whole.
        let nome_campo = campo.name().unwrap_or_default().to_string();
        let mut testo = async || {
            crate::caricamento::leggi_campo(&mut campo)
                .await
                .map_err(|r| non_valida(&r.messaggio()))
        };
        match nome_campo.as_str() {
            "_csrf" => csrf = testo().await?,
            "dominio" => nome_dominio = testo().await?,
            "ente" => ente = testo().await?,
            "formato" => formato = testo().await?,
            "file" => {
                // The upload's rule: one file per form, never the last one silently.
                if file.is_some() {
                    return Err(non_valida(
                        &crate::caricamento::Rifiuto::PiuFile.messaggio(),
                    ));
                }
                let nome = campo.file_name().unwrap_or("file").to_string();
                let byte = campo.bytes().await.map_err(|_| {
                    non_valida("Il caricamento non è riuscito o il file supera i 50 MB.")
                })?;
                file = Some((nome, byte.to_vec()));
            }
            _ => {}
        }
    }
    if !cx.csrf_valido(&st, &csrf) {
        return Err(ErrorePagina::Csrf);
    }
    let d = spec::dominio(&nome_dominio).ok_or_else(|| non_valida("Scelga il tipo di flusso."))?;
    let (nome_file, byte) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| non_valida("Scelga il file da controllare."))?;
    let mut opzioni = flussi::Opzioni::new(st.p.orologio.oggi());
    opzioni.limiti.max_byte = LIMITE_VALIDATORE as u64;
    opzioni.limiti.scadenza = Some(std::time::Instant::now() + std::time::Duration::from_secs(120));
    if !ente.trim().is_empty() {
        opzioni.dichiarante = Some(
            flussi::Dichiarante::da_codice(&ente)
                .ok_or_else(|| non_valida("Il codice dell'ente non è valido."))?,
        );
    }
    // CPU-bound: off the async runtime.
    let nome_c = nome_file.clone();
    let ancore = st.p.config.firme_ancore.clone();
    let report = tokio::task::spawn_blocking(move || {
        // Held by the work itself: a client that goes away does not free the place while its
        // file is still being validated.
        let _posto = posto;
        flussi::valida_file(
            &nome_c,
            Dati::Byte(Arc::new(byte)),
            d,
            &opzioni,
            ancore.as_deref(),
        )
    })
    .await
    .map_err(|e| ErroreServizio::Interno(e.to_string()))?;
    Ok(match formato.as_str() {
        "json" => allegato(
            report.json().into_bytes(),
            "application/json",
            "rapporto.json",
        ),
        "csv" => allegato(
            report.csv().into_bytes(),
            "text/csv; charset=utf-8",
            "rapporto.csv",
        ),
        _ => {
            let status = StatusCode::OK;
            let mostrate: Vec<_> = report.segnalazioni.iter().take(1000).collect();
            let html = pagina(
                &st,
                &cx,
                "validatore_esito.html",
                context! { report => &report, mostrate, nome_file, altre => report.segnalazioni.len().saturating_sub(1000) },
            )?;
            (status, html).into_response()
        }
    })
}
