//! The Region's executive dashboard (`/area/cruscotto`, issue 11): the housing stock by
//! province, comune and entity; units by occupancy and the vacancy rate; dwellings by regime
//! and energy class; financing by programme, source and instrument; financed, disbursed and
//! paid; interventions by state with the delayed and stalled ones; the map of buildings
//! coloured by occupancy. Every figure is "as of a date" (`?alla_data=AAAA-MM-GG`, or
//! `?al=GG/MM/AAAA`), every chart is server-rendered SVG with its data table
//! ([`crate::grafici::barre`]), every category links to the register list behind it, and
//! every table downloads as CSV or XLSX (`/area/cruscotto/{tabella}.csv|.xlsx`).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use dominio::Importo;
use minijinja::context;
use serde::Deserialize;
use servizi::ErroreServizio;
use servizi::cruscotto::{Conteggio, Cruscotto, RigaFinanza, RigaStock};
use servizi::interventi::Situazione;

use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::estrattori::{Path, Query};
use crate::grafici::barre::{Barra, GraficoBarre};
use crate::modelli::pagina;
use crate::rotte::{Rotte, get};

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/area/cruscotto", get(cruscotto))
        .route("/area/cruscotto/{file}", get(esporta))
}

/// `alla_data` (`AAAA-MM-GG`, the date input) or `al` (`GG/MM/AAAA`): the day of a dashboard
/// (this one and the public one, `/dati`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Giorno {
    alla_data: String,
    al: String,
}

pub(crate) fn leggi_giorno(g: &Giorno, oggi: NaiveDate) -> Result<Option<NaiveDate>, ErrorePagina> {
    let (s, formato) = if !g.alla_data.trim().is_empty() {
        (g.alla_data.trim(), "%Y-%m-%d")
    } else {
        (g.al.trim(), "%d/%m/%Y")
    };
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, formato).map_err(|_| {
        ErrorePagina::RichiestaNonValida(format!(
            "La data «{s}» non è valida: usi il formato GG/MM/AAAA (ad esempio 31/12/2025)."
        ))
    })?;
    // A day after today (the platform's clock, Europe/Rome) is refused: nothing is accepted
    // for it yet, and its figures would repeat today's register under another date (with
    // delays counted for a day not yet come). Today asked explicitly is today's page.
    if d > oggi {
        return Err(ErrorePagina::RichiestaNonValida(format!(
            "La data {} è futura: le cifre si possono consultare fino a oggi, {}.",
            crate::formati::giorno(d),
            crate::formati::giorno(oggi)
        )));
    }
    Ok(Some(d).filter(|d| *d < oggi))
}

fn intero(n: i64) -> String {
    crate::formati::intero(n)
}

fn euro(c: i64) -> String {
    Importo::da_centesimi(c).italiano()
}

/// A drill-down link: a list with its filters and the dashboard's day.
fn link(base: &str, filtri: &[(&str, &str)], alla: Option<NaiveDate>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filtri {
        s.append_pair(k, v);
    }
    if let Some(d) = alla {
        s.append_pair("alla_data", &d.format("%Y-%m-%d").to_string());
    }
    let q = s.finish();
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{q}")
    }
}

fn barre_conteggi(
    v: &[Conteggio],
    base: &str,
    campo: &str,
    extra: &[(&str, &str)],
    alla: Option<NaiveDate>,
) -> Vec<Barra> {
    v.iter()
        .map(|c| Barra {
            etichetta: c.etichetta.clone(),
            valori: vec![c.numero],
            link: (c.codice != servizi::cruscotto::NON_INDICATO).then(|| {
                let mut f = extra.to_vec();
                f.push((campo, c.codice.as_str()));
                link(base, &f, alla)
            }),
            soppressa: false,
        })
        .collect()
}

fn barre_finanza(
    v: &[RigaFinanza],
    link_di: impl Fn(&RigaFinanza) -> Option<String>,
) -> Vec<Barra> {
    v.iter()
        .map(|f| Barra {
            etichetta: f.etichetta.clone(),
            valori: vec![
                f.finanziato.centesimi(),
                f.erogato.centesimi(),
                f.pagato.centesimi(),
            ],
            link: link_di(f),
            soppressa: false,
        })
        .collect()
}

fn serie_finanza() -> Vec<String> {
    vec!["Finanziato".into(), "Erogato".into(), "Pagato".into()]
}

/// The charts of the dashboard, in the page's order (id, html).
fn grafici(c: &Cruscotto, alla: Option<NaiveDate>) -> Vec<(&'static str, String)> {
    let n = &intero as &dyn Fn(i64) -> String;
    let e = &euro as &dyn Fn(i64) -> String;
    let mut g = Vec::new();
    g.push((
        "province",
        GraficoBarre {
            id: "grafico-province",
            titolo: "Patrimonio per provincia",
            categoria: "Provincia",
            serie: vec!["Fabbricati".into(), "Unità immobiliari".into()],
            barre: c
                .per_provincia
                .iter()
                .map(|p| Barra {
                    etichetta: p.nome.clone(),
                    valori: vec![p.fabbricati, p.unita],
                    link: Some(format!("#comuni-{}", p.codice)),
                    soppressa: false,
                })
                .collect(),
            formato: n,
        }
        .html(),
    ));
    g.push((
        "enti",
        GraficoBarre {
            id: "grafico-enti",
            titolo: "Unità immobiliari per ente",
            categoria: "Ente",
            serie: vec!["Fabbricati".into(), "Unità immobiliari".into()],
            barre: c
                .per_ente
                .iter()
                .map(|r| Barra {
                    etichetta: r.nome.clone(),
                    valori: vec![r.fabbricati, r.unita],
                    link: Some(link("/area/registro/unita", &[("ente", &r.codice)], alla)),
                    soppressa: false,
                })
                .collect(),
            formato: n,
        }
        .html(),
    ));
    g.push((
        "occupazione",
        GraficoBarre {
            id: "grafico-occupazione",
            titolo: "Unità immobiliari per stato di occupazione",
            categoria: "Stato di occupazione",
            serie: vec!["Unità immobiliari".into()],
            barre: barre_conteggi(
                &c.per_stato_occupazione,
                "/area/registro/unita",
                "stato_occupazione",
                &[],
                alla,
            ),
            formato: n,
        }
        .html(),
    ));
    g.push((
        "regime",
        GraficoBarre {
            id: "grafico-regime",
            titolo: "Alloggi per regime",
            categoria: "Regime",
            serie: vec!["Alloggi".into()],
            barre: barre_conteggi(
                &c.alloggi_per_regime,
                "/area/registro/unita",
                "regime",
                &[("tipologia", "ALLOGGIO")],
                alla,
            ),
            formato: n,
        }
        .html(),
    ));
    g.push((
        "classe",
        GraficoBarre {
            id: "grafico-classe",
            titolo: "Alloggi per classe energetica",
            categoria: "Classe energetica",
            serie: vec!["Alloggi".into()],
            barre: barre_conteggi(
                &c.alloggi_per_classe,
                "/area/registro/unita",
                "classe_energetica",
                &[("tipologia", "ALLOGGIO")],
                alla,
            ),
            formato: n,
        }
        .html(),
    ));
    g.push((
        "finanza",
        GraficoBarre {
            id: "grafico-finanza",
            titolo: "Finanziato, erogato e pagato",
            categoria: "Importo",
            serie: vec!["Euro".into()],
            barre: [
                ("Finanziato", c.finanza.finanziato),
                ("Erogato", c.finanza.erogato),
                ("Pagato", c.finanza.pagato),
            ]
            .into_iter()
            .map(|(t, v)| Barra {
                etichetta: t.into(),
                valori: vec![v.centesimi()],
                link: Some(link("/area/programmi", &[], alla)),
                soppressa: false,
            })
            .collect(),
            formato: e,
        }
        .html(),
    ));
    g.push((
        "programmi",
        GraficoBarre {
            id: "grafico-programmi",
            titolo: "Finanziamenti per programma",
            categoria: "Programma",
            serie: serie_finanza(),
            barre: barre_finanza(&c.per_programma, |f| {
                Some(link(
                    "/area/interventi",
                    &[("codice_programma", &f.codice)],
                    alla,
                ))
            }),
            formato: e,
        }
        .html(),
    ));
    for (id, titolo, categoria, v) in [
        ("fonti", "Finanziamenti per fonte", "Fonte", &c.per_fonte),
        (
            "strumenti",
            "Finanziamenti per strumento",
            "Strumento",
            &c.per_strumento,
        ),
    ] {
        g.push((
            id,
            GraficoBarre {
                id: &format!("grafico-{id}"),
                titolo,
                categoria,
                serie: serie_finanza(),
                barre: barre_finanza(v, |_| Some(link("/area/programmi", &[], alla))),
                formato: e,
            }
            .html(),
        ));
    }
    g.push((
        "interventi",
        GraficoBarre {
            id: "grafico-interventi",
            titolo: "Interventi per stato",
            categoria: "Stato",
            serie: vec!["Interventi".into()],
            barre: barre_conteggi(
                &c.interventi_per_stato,
                "/area/interventi",
                "stato",
                &[],
                alla,
            ),
            formato: n,
        }
        .html(),
    ));
    g
}

/// `GET /area/cruscotto`: the dashboard (Region staff).
async fn cruscotto(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<Giorno>,
) -> Result<Html<String>, ErrorePagina> {
    let alla = leggi_giorno(&q, st.p.orologio.oggi())?;
    let c = st.p.cruscotto(cx.soggetto(), alla).await?;
    let grafici: Vec<(String, String)> = grafici(&c, alla)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    // Comuni grouped by province (the province's chart links to its group).
    let mut comuni: Vec<(String, String, Vec<&RigaStock>)> = c
        .per_provincia
        .iter()
        .map(|p| (p.codice.clone(), p.nome.clone(), Vec::new()))
        .collect();
    for r in &c.per_comune {
        let sigla = flussi::riferimento::comune(&r.codice)
            .map(|x| x.sigla_provincia.as_str())
            .unwrap_or(servizi::cruscotto::NON_INDICATO);
        if let Some(g) = comuni.iter_mut().find(|g| g.0 == sigla) {
            g.2.push(r);
        }
    }
    let comuni: Vec<_> = comuni
        .into_iter()
        .map(|(codice, nome, righe)| {
            let righe: Vec<_> = righe
                .into_iter()
                .map(|r| {
                    context! {
                        nome => r.nome, codice => r.codice, complessi => r.complessi,
                        fabbricati => r.fabbricati, unita => r.unita,
                        link => link("/area/registro/unita", &[("comune_istat", &r.codice)], alla),
                    }
                })
                .collect();
            context! { codice, nome, righe }
        })
        .collect();
    let giorno = alla.map(|d| d.format("%Y-%m-%d").to_string());
    // Two states: the occupancy chart links each to its list.
    let sfitte_link = "#grafico-occupazione";
    let mappa_url = link("/area/registro/mappa.json", &[], alla);
    // The delayed and stalled interventions on the dashboard's day: the list filtered by the
    // same rule as the figure, so it has as many rows as the figure says.
    let ritardo_link = link(
        "/area/interventi",
        &[("situazione", Situazione::InRitardo.codice())],
        alla,
    );
    let fermi_link = link(
        "/area/interventi",
        &[("situazione", Situazione::Fermo.codice())],
        alla,
    );
    pagina(
        &st,
        &cx,
        "cruscotto.html",
        context! {
            c, grafici, comuni, giorno,
            giorno_it => c.alla_data.format("%d/%m/%Y").to_string(),
            oggi => alla.is_none(),
            suffisso => giorno.as_ref().map(|g| format!("?alla_data={g}")).unwrap_or_default(),
            tasso_sfitto => c.tasso_sfitto.italiano(),
            sfitte_link, mappa_url, ritardo_link, fermi_link,
            soglia_fermo => st.p.config.soglia_fermo_giorni,
        },
    )
}

/// What a downloaded column holds, which decides how the spreadsheet shows it: the CSV keeps
/// the canonical text of each cell (counts, `1234.56`, `33.33`), the XLSX writes numbers with
/// the number format of their kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Genere {
    /// Names and codes (a comune's code keeps its leading zeros).
    Testo,
    Intero,
    /// Euro with two decimals.
    Euro,
    /// A percentage as its number (`33.33` for 33,33 %).
    Percentuale,
}

/// A downloaded table: its columns (name and kind) and rows of canonical text.
type Tabella = (Vec<(&'static str, Genere)>, Vec<Vec<String>>);

/// The tables a dashboard downloads, by name.
fn tabella(c: &Cruscotto, nome: &str) -> Option<Tabella> {
    use Genere::{Euro, Intero, Percentuale, Testo};
    let stock = |v: &[RigaStock], prima: &'static str| -> Tabella {
        (
            vec![
                (prima, Testo),
                ("codice", Testo),
                ("complessi", Intero),
                ("fabbricati", Intero),
                ("unita", Intero),
            ],
            v.iter()
                .map(|r| {
                    vec![
                        r.nome.clone(),
                        r.codice.clone(),
                        r.complessi.to_string(),
                        r.fabbricati.to_string(),
                        r.unita.to_string(),
                    ]
                })
                .collect(),
        )
    };
    let conti = |v: &[Conteggio], prima: &'static str| -> Tabella {
        (
            vec![
                (prima, Testo),
                ("codice", Testo),
                ("numero", Intero),
                ("quota_percentuale", Percentuale),
            ],
            v.iter()
                .map(|r| {
                    vec![
                        r.etichetta.clone(),
                        r.codice.clone(),
                        r.numero.to_string(),
                        percentuale(r.quota),
                    ]
                })
                .collect(),
        )
    };
    let finanza = |v: &[RigaFinanza], prima: &'static str| -> Tabella {
        (
            vec![
                (prima, Testo),
                ("codice", Testo),
                ("interventi", Intero),
                ("finanziato", Euro),
                ("erogato", Euro),
                ("pagato", Euro),
            ],
            v.iter()
                .map(|r| {
                    vec![
                        r.etichetta.clone(),
                        r.codice.clone(),
                        r.interventi.to_string(),
                        r.finanziato.testo(),
                        r.erogato.testo(),
                        r.pagato.testo(),
                    ]
                })
                .collect(),
        )
    };
    Some(match nome {
        "sintesi" => sintesi(c),
        "province" => stock(&c.per_provincia, "provincia"),
        "comuni" => stock(&c.per_comune, "comune"),
        "enti" => stock(&c.per_ente, "ente"),
        "occupazione" => conti(&c.per_stato_occupazione, "stato_occupazione"),
        "regime" => conti(&c.alloggi_per_regime, "regime"),
        "classe" => conti(&c.alloggi_per_classe, "classe_energetica"),
        "interventi" => conti(&c.interventi_per_stato, "stato"),
        "programmi" => finanza(&c.per_programma, "programma"),
        "fonti" => finanza(&c.per_fonte, "fonte"),
        "strumenti" => finanza(&c.per_strumento, "strumento"),
        "finanza" => finanza(std::slice::from_ref(&c.finanza), "totale"),
        _ => return None,
    })
}

/// `33.33` for 33,33 % (the canonical text of a percentage).
fn percentuale(p: dominio::denaro::Percentuale) -> String {
    let segno = if p.centesimi() < 0 { "-" } else { "" };
    let a = p.centesimi().unsigned_abs();
    format!("{segno}{}.{:02}", a / 100, a % 100)
}

/// The summary's figures: one row each, its value in the column of its kind (counts, euro,
/// percentage), so that every column of the sheet has one number format.
fn sintesi(c: &Cruscotto) -> Tabella {
    use Genere::{Euro, Intero, Percentuale, Testo};
    let colonne = vec![
        ("voce", Testo),
        ("codice", Testo),
        ("numero", Intero),
        ("importo", Euro),
        ("percentuale", Percentuale),
    ];
    let n = |voce: &str, codice: &str, v: i64| {
        vec![
            voce.to_string(),
            codice.to_string(),
            v.to_string(),
            String::new(),
            String::new(),
        ]
    };
    let e = |voce: &str, codice: &str, v: Importo| {
        vec![
            voce.to_string(),
            codice.to_string(),
            String::new(),
            v.testo(),
            String::new(),
        ]
    };
    let righe = vec![
        n("Complessi", "complessi", c.totale.complessi),
        n("Fabbricati", "fabbricati", c.totale.fabbricati),
        n("Unità immobiliari", "unita", c.totale.unita),
        n(
            "Unità sfitte (assegnabili e da ristrutturare)",
            "sfitte",
            c.sfitte,
        ),
        vec![
            "Tasso di sfitto".into(),
            "tasso_sfitto".into(),
            String::new(),
            String::new(),
            percentuale(c.tasso_sfitto),
        ],
        n("Alloggi", "alloggi", c.alloggi),
        n("Interventi", "interventi", c.interventi),
        n("Interventi in ritardo", "in_ritardo", c.in_ritardo),
        n("Cantieri fermi", "fermi", c.fermi),
        e("Finanziato", "finanziato", c.finanza.finanziato),
        e("Erogato", "erogato", c.finanza.erogato),
        e("Pagato", "pagato", c.finanza.pagato),
    ];
    (colonne, righe)
}

/// `GET /area/cruscotto/{tabella}.csv|.xlsx`: one of the dashboard's tables, as of its day.
/// The CSV follows the register's exports (the one CSV writer, comma-separated, UTF-8 with a
/// BOM so that Excel reads the accents; money with a dot and two decimals, counts as
/// integers); the XLSX writes each column with its kind's number format.
async fn esporta(
    State(st): State<Stato>,
    cx: Contesto,
    Path(file): Path<String>,
    Query(q): Query<Giorno>,
) -> Result<Response, ErrorePagina> {
    let (nome, formato) = file
        .rsplit_once('.')
        .ok_or(ErrorePagina::Servizio(ErroreServizio::NonTrovato))?;
    if !matches!(formato, "csv" | "xlsx") {
        return Err(ErroreServizio::NonTrovato.into());
    }
    let alla = leggi_giorno(&q, st.p.orologio.oggi())?;
    let c = st.p.cruscotto(cx.soggetto(), alla).await?;
    let (colonne, righe) = tabella(&c, nome).ok_or(ErroreServizio::NonTrovato)?;
    let giorno = c.alla_data.format("%Y-%m-%d");
    let nome_file = format!("cruscotto-{nome}-{giorno}.{formato}");
    let (tipo, corpo) = if formato == "csv" {
        let mut w = flussi::scrivi_csv::ScrittoreCsv::in_memoria();
        let errore = |e: std::io::Error| ErroreServizio::Interno(e.to_string());
        w.riga(colonne.iter().map(|(n, _)| *n)).map_err(errore)?;
        for r in &righe {
            w.riga(r.iter()).map_err(errore)?;
        }
        (
            "text/csv; charset=utf-8",
            format!("\u{feff}{}", w.testo().map_err(errore)?).into_bytes(),
        )
    } else {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx(&colonne, &righe).map_err(ErroreServizio::Interno)?,
        )
    };
    let mut r = corpo.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(tipo));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{nome_file}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The XLSX number format of each kind: integers without decimals, euro with two and the
/// sign, percentages as such (the cell holds the fraction, 0.3333 for 33,33 %).
const FORMATO_INTERO: &str = "#,##0";
const FORMATO_EURO: &str = "#,##0.00 \"€\"";
const FORMATO_PERCENTUALE: &str = "0.00%";

/// A sheet with the header in bold and each column written as its [`Genere`] says; an empty
/// cell stays empty, a value that does not read as its kind is written as text.
fn xlsx(colonne: &[(&str, Genere)], righe: &[Vec<String>]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let grassetto = Format::new().set_bold();
    let intero = Format::new().set_num_format(FORMATO_INTERO);
    let euro = Format::new().set_num_format(FORMATO_EURO);
    let quota = Format::new().set_num_format(FORMATO_PERCENTUALE);
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    for (j, (h, _)) in colonne.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &grassetto)
            .map_err(e)?;
    }
    for (i, r) in righe.iter().enumerate() {
        let riga = (i + 1) as u32;
        for (j, v) in r.iter().enumerate() {
            let col = j as u16;
            if v.is_empty() {
                continue;
            }
            let genere = colonne.get(j).map_or(Genere::Testo, |c| c.1);
            let numero = match genere {
                Genere::Testo => None,
                Genere::Intero => v.parse::<i64>().ok().map(|n| (n as f64, &intero)),
                Genere::Euro => Importo::parse(v)
                    .ok()
                    .map(|x| (x.centesimi() as f64 / 100.0, &euro)),
                Genere::Percentuale => v.parse::<f64>().ok().map(|x| (x / 100.0, &quota)),
            };
            match numero {
                Some((x, formato)) => ws.write_number_with_format(riga, col, x, formato),
                None => ws.write_string(riga, col, v),
            }
            .map_err(e)?;
        }
    }
    wb.save_to_buffer().map_err(e)
}
