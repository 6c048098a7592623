//! Exports of a register list, for every domain: CSV and XLSX of any table, GeoJSON of the
//! located ones (with their own coordinates, or their parent's: a unit is where its building
//! is). The body is streamed: the register is walked 10 000 rows at a time ([`Sfoglia`]), so
//! memory stays flat at a million rows.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use flussi::spec::Tipo;
use flussi::spec::registro::Posizione;
use servizi::ErroreServizio;
use servizi::registro::{FiltroRegistro, TavolaRegistro, Versione, tavola_di};

use super::registro::{BLOCCO, Sfoglia, tavola};
use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::estrattori::{Path, Query};
use crate::registro::{
    Filtri, GEOJSON_CODA, GEOJSON_TESTA, coordinate, csv_intestazione, csv_righe, filtro_da,
    geojson_feature, valore,
};
use crate::rotte::{Rotte, get};

/// Most data rows of an XLSX export (Excel's sheets stop at 1 048 576 rows).
pub const MAX_RIGHE_XLSX: u32 = 1_000_000;

pub fn rotte() -> Rotte {
    Rotte::new()
        .route(
            "/area/registro/{tabella}/esporta.csv",
            get(|st, cx, p, q| esporta(st, cx, p, q, Formato::Csv)),
        )
        .route(
            "/area/registro/{tabella}/esporta.xlsx",
            get(|st, cx, p, q| esporta(st, cx, p, q, Formato::Xlsx)),
        )
        .route(
            "/area/registro/{tabella}/esporta.geojson",
            get(|st, cx, p, q| esporta(st, cx, p, q, Formato::GeoJson)),
        )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Formato {
    Csv,
    Xlsx,
    GeoJson,
}

type Pezzo = Result<Bytes, std::io::Error>;

/// A response body fed by a channel (the producer runs in its own task).
fn corpo(rx: tokio::sync::mpsc::Receiver<Pezzo>) -> Body {
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|x| (x, rx))
    }))
}

fn allegato(tipo: &'static str, nome: &str, corpo: Body) -> Response {
    let mut r = corpo.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(tipo));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{nome}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

async fn esporta(
    State(st): State<Stato>,
    cx: Contesto,
    Path(tabella): Path<String>,
    Query(f): Query<Filtri>,
    formato: Formato,
) -> Result<Response, ErrorePagina> {
    let t: &'static TavolaRegistro = tavola(&tabella)?;
    // GeoJSON only for located records.
    if formato == Formato::GeoJson && t.def.posizione.is_none() {
        return Err(ErroreServizio::NonTrovato.into());
    }
    let tabella = t.tabella.nome;
    let mut filtro = filtro_da(t, &f, BLOCCO).map_err(ErrorePagina::RichiestaNonValida)?;
    filtro.dopo = None;
    let data = filtro.alla_data;
    let mut sf = Sfoglia::new(st.clone(), cx.soggetto().clone(), t, filtro.clone());
    // The first page here, so that refusals and bad requests are proper error pages.
    let prima = sf.prossima().await?;
    let giorno = data
        .unwrap_or_else(|| st.p.orologio.oggi())
        .format("%Y-%m-%d");
    let base = format!("{tabella}_{giorno}");
    match formato {
        Formato::Csv => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Pezzo>(4);
            tokio::spawn(async move {
                // UTF-8 with BOM, so Excel reads the accents right.
                let testa = format!("\u{feff}{}", csv_intestazione(t, false));
                if tx.send(Ok(Bytes::from(testa))).await.is_err() {
                    return;
                }
                let mut pagina = prima;
                while let Some(v) = pagina {
                    let mut out = String::with_capacity(v.len() * 200);
                    csv_righe(&mut out, &v, false);
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return;
                    }
                    pagina = match sf.prossima().await {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(errore = %e, "esportazione CSV interrotta");
                            let _ = tx
                                .send(Err(std::io::Error::other("esportazione interrotta")))
                                .await;
                            return;
                        }
                    };
                }
            });
            Ok(allegato(
                "text/csv; charset=utf-8",
                &format!("{base}.csv"),
                corpo(rx),
            ))
        }
        Formato::GeoJson => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Pezzo>(4);
            let (st2, s2) = (st.clone(), cx.soggetto().clone());
            tokio::spawn(async move {
                if tx
                    .send(Ok(Bytes::from_static(GEOJSON_TESTA.as_bytes())))
                    .await
                    .is_err()
                {
                    return;
                }
                // Records located by their parent get its coordinates (same day): a unit is
                // where its building is.
                let mut punti_genitori: HashMap<(String, String), (f64, f64)> = HashMap::new();
                let genitore = t
                    .def
                    .genitore
                    .filter(|_| t.def.posizione == Some(Posizione::DelGenitore));
                if let Some(g) = genitore
                    && let Some(tg) = tavola_di(g.tabella)
                {
                    let fg = FiltroRegistro {
                        ente: filtro.ente.clone(),
                        alla_data: filtro.alla_data,
                        uguale: filtro.genitore.clone(),
                        ..Default::default()
                    };
                    let mut sg = Sfoglia::new(st2, s2, tg, fg);
                    loop {
                        match sg.prossima().await {
                            Ok(Some(v)) => {
                                for x in &v {
                                    if let Some(p) = coordinate(tg, x) {
                                        punti_genitori
                                            .insert((x.ente.clone(), x.chiave.clone()), p);
                                    }
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                tracing::warn!(errore = %e, "esportazione GeoJSON: genitori non letti");
                                break;
                            }
                        }
                    }
                }
                let mut primo = true;
                let mut pagina = prima;
                while let Some(v) = pagina {
                    let mut out = String::with_capacity(v.len() * 400);
                    for x in &v {
                        let punto = match genitore {
                            Some(g) => valore(t, x, g.campo).and_then(|k| {
                                punti_genitori
                                    .get(&(x.ente.clone(), k.to_string()))
                                    .copied()
                            }),
                            None => coordinate(t, x),
                        };
                        if !primo {
                            out.push_str(",\n");
                        }
                        primo = false;
                        out.push_str(&geojson_feature(t, x, punto).to_string());
                    }
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return;
                    }
                    pagina = match sf.prossima().await {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(errore = %e, "esportazione GeoJSON interrotta");
                            let _ = tx
                                .send(Err(std::io::Error::other("esportazione interrotta")))
                                .await;
                            return;
                        }
                    };
                }
                let _ = tx
                    .send(Ok(Bytes::from_static(GEOJSON_CODA.as_bytes())))
                    .await;
            });
            Ok(allegato(
                "application/geo+json",
                &format!("{base}.geojson"),
                corpo(rx),
            ))
        }
        Formato::Xlsx => {
            let handle = tokio::runtime::Handle::current();
            let file = tokio::task::spawn_blocking(move || scrivi_xlsx(&handle, sf, t, prima))
                .await
                .map_err(|e| ErroreServizio::Interno(format!("esportazione XLSX: {e}")))?
                .map_err(ErroreServizio::Interno)?;
            let f = file
                .reopen()
                .map_err(|e| ErroreServizio::Interno(format!("esportazione XLSX: {e}")))?;
            let lettore = tokio::fs::File::from_std(f);
            // The temporary file lives as long as the body streams it.
            let flusso = futures_util::stream::unfold(Some((lettore, file)), |stato| async move {
                use tokio::io::AsyncReadExt;
                let (mut l, file) = stato?;
                let mut buf = vec![0u8; 64 * 1024];
                match l.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), Some((l, file))))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            });
            Ok(allegato(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{base}.xlsx"),
                Body::from_stream(flusso),
            ))
        }
    }
}

/// Writes the XLSX export (constant memory) to a temporary file; runs on a blocking thread and
/// fetches the following pages through `handle`.
fn scrivi_xlsx(
    handle: &tokio::runtime::Handle,
    mut sf: Sfoglia,
    t: &TavolaRegistro,
    prima: Option<Vec<Versione>>,
) -> Result<tempfile::NamedTempFile, String> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let e = |x: rust_xlsxwriter::XlsxError| format!("esportazione XLSX: {x}");
    let mut libro = Workbook::new();
    let titolo = Format::new().set_bold();
    let formato_data = Format::new().set_num_format("dd/mm/yyyy");
    #[derive(Clone, Copy)]
    enum Cella {
        Testo,
        Numero,
        Data,
    }
    let tipi: Vec<Cella> = t
        .tabella
        .campi
        .iter()
        .map(|c| match &c.tipo {
            Tipo::Intero | Tipo::Numero { .. } | Tipo::Denaro => Cella::Numero,
            Tipo::Data => Cella::Data,
            _ => Cella::Testo,
        })
        .collect();
    let mut troncato = false;
    {
        let ws = libro.add_worksheet_with_constant_memory().map_err(e)?;
        ws.set_name(t.tabella.nome).map_err(e)?;
        ws.write_string_with_format(0, 0, "ente", &titolo)
            .map_err(e)?;
        for (i, c) in t.tavola.campi().iter().enumerate() {
            ws.write_string_with_format(0, (i + 1) as u16, *c, &titolo)
                .map_err(e)?;
        }
        let mut riga: u32 = 1;
        let mut pagina = prima;
        'pagine: while let Some(v) = pagina {
            for x in &v {
                if riga > MAX_RIGHE_XLSX {
                    troncato = true;
                    break 'pagine;
                }
                ws.write_string(riga, 0, &x.ente).map_err(e)?;
                for (i, (val, tipo)) in x.campi.iter().zip(&tipi).enumerate() {
                    let Some(val) = val.as_deref() else { continue };
                    let col = (i + 1) as u16;
                    match tipo {
                        Cella::Numero => match val.parse::<f64>() {
                            Ok(n) if n.is_finite() => ws.write_number(riga, col, n),
                            _ => ws.write_string(riga, col, val),
                        },
                        Cella::Data => match NaiveDate::parse_from_str(val, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| {
                                use chrono::Datelike;
                                ExcelDateTime::from_ymd(
                                    u16::try_from(d.year()).ok()?,
                                    d.month() as u8,
                                    d.day() as u8,
                                )
                                .ok()
                            }) {
                            Some(d) => ws.write_datetime_with_format(riga, col, &d, &formato_data),
                            None => ws.write_string(riga, col, val),
                        },
                        Cella::Testo => ws.write_string(riga, col, val),
                    }
                    .map_err(e)?;
                }
                riga += 1;
            }
            pagina = handle
                .block_on(sf.prossima())
                .map_err(|x| format!("esportazione XLSX: {x}"))?;
        }
    }
    if troncato {
        // Say it where it is seen first: a note sheet, active when the file opens.
        let nome = format!("{} (prime righe)", t.tabella.nome);
        libro
            .worksheet_from_index(0)
            .map_err(e)?
            .set_name(&nome)
            .map_err(e)?;
        let nota = libro.add_worksheet();
        nota.set_name("Nota").map_err(e)?;
        nota.write_string_with_format(0, 0, "Esportazione troncata", &titolo)
            .map_err(e)?;
        nota.write_string(
            1,
            0,
            format!(
                "Il foglio «{nome}» contiene solo le prime {MAX_RIGHE_XLSX} righe del registro filtrato. \
                 Restringa i filtri (ente, Comune, …) oppure scarichi il formato CSV, che non ha limiti di righe."
            ),
        )
        .map_err(e)?;
        nota.set_active(true);
    }
    let file = tempfile::NamedTempFile::new().map_err(|x| format!("esportazione XLSX: {x}"))?;
    libro.save(file.path()).map_err(e)?;
    Ok(file)
}
