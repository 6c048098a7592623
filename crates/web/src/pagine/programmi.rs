//! The views of the second shared database beside the generic register pages: programmes with
//! their totals (by source and instrument), interventions with the computed columns and
//! filters (programme, comune, state, type), one intervention with its SAL, disbursements,
//! payments, linked buildings, timeline chart and history, and the Region's list of
//! cross-entity conflicts (cadastral units and CUP).

use axum::extract::State;
use axum::response::Html;
use chrono::NaiveDate;
use dominio::Importo;
use minijinja::context;
use serde::{Deserialize, Serialize};
use servizi::ErroreServizio;
use servizi::interventi::Situazione;

use crate::Stato;
use crate::api_programmi::{ParametriInterventi, codifica_cursore, filtro, leggi_data};
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::estrattori::{Path, Query};
use crate::grafici::tempo::{GraficoTempo, Marcatore, Serie, Stile};
use crate::modelli::pagina;

pub fn rotte() -> crate::rotte::Rotte {
    use crate::rotte::{Rotte, get};
    Rotte::new()
        .route("/area/programmi", get(programmi))
        .route("/area/interventi", get(interventi))
        .route("/area/interventi/{ente}/{cup}", get(intervento))
        .route("/area/conflitti", get(conflitti))
}

const PER_PAGINA: i64 = 50;

fn euro(c: i64) -> String {
    Importo::da_centesimi(c).italiano()
}

/// Axis labels: thousands or millions of euro, short.
fn euro_asse(c: i64) -> String {
    let e = c / 100;
    if e >= 1_000_000 {
        let decimi = e / 100_000;
        if decimi % 10 == 0 {
            format!("{} mln €", decimi / 10)
        } else {
            format!("{},{} mln €", decimi / 10, decimi % 10)
        }
    } else if e >= 1_000 {
        format!("{} mila €", e / 1_000)
    } else {
        format!("{e} €")
    }
}

/// A stored code made readable by the domain's labels.
fn etichetta(tabella: &str, campo: &str, v: &str) -> String {
    flussi::spec::contabilita::dominio().etichetta_valore(tabella, campo, v)
}

#[derive(Deserialize, Default)]
pub struct ParametriProgrammi {
    alla_data: Option<String>,
}

/// `GET /area/programmi`: the programmes with their totals.
async fn programmi(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<ParametriProgrammi>,
) -> Result<Html<String>, ErrorePagina> {
    let alla_data = leggi_data(q.alla_data.as_deref()).map_err(|_| {
        ErroreServizio::Dominio(dominio::ErroreDominio::valore(
            "alla_data",
            "La data deve essere nella forma AAAA-MM-GG.",
        ))
    })?;
    let r = st.p.riepilogo_programmi(cx.soggetto(), alla_data).await?;
    let d = flussi::spec::programmi::dominio();
    let leggi = |t: &str, c: &str, v: &str| d.etichetta_valore(t, c, v);
    let per_fonte: Vec<_> = r
        .per_fonte
        .iter()
        .map(|(k, t)| (leggi("programmi", "fonte", k), t.clone()))
        .collect();
    let per_strumento: Vec<_> = r
        .per_strumento
        .iter()
        .map(|(k, t)| (leggi("programmi", "strumento", k), t.clone()))
        .collect();
    let righe: Vec<_> = r
        .programmi
        .iter()
        .map(|p| {
            let s = |k: &str| p.campi.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            context! {
                codice => p.codice_programma,
                denominazione => s("denominazione"),
                strumento => leggi("programmi", "strumento", s("strumento")),
                fonte => leggi("programmi", "fonte", s("fonte")),
                atto => s("atto"),
                data_atto => s("data_atto"),
                importo => s("importo_programma"),
                interventi => p.interventi,
                finanziato => p.finanziato.testo(),
                erogato => p.erogato.testo(),
                pagato => p.pagato.testo(),
            }
        })
        .collect();
    pagina(
        &st,
        &cx,
        "programmi.html",
        context! {
            righe, per_fonte, per_strumento, totale => r.totale,
            alla_data => alla_data.map(|d| d.to_string()),
            regione => cx.soggetto().is_regione(),
        },
    )
}

/// A row of the interventions list, ready to show.
#[derive(Serialize)]
struct RigaIntervento {
    url: String,
    ente: String,
    cup: String,
    titolo: String,
    codice_programma: String,
    comune: String,
    tipo: String,
    stato: String,
    finanziato: String,
    erogato: String,
    pagato: String,
    fisico: String,
    finanziario: String,
    ritardo: Option<i64>,
    fermo: bool,
}

fn riga(v: &servizi::interventi::VoceIntervento) -> RigaIntervento {
    let s = |k: &str| {
        v.campi
            .get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let comune = s("comune_istat");
    let nome_comune = flussi::riferimento::comune(&comune)
        .map(|c| c.nome.clone())
        .unwrap_or(comune);
    RigaIntervento {
        url: format!("/area/interventi/{}/{}", v.ente, v.cup),
        ente: v.ente.clone(),
        cup: v.cup.clone(),
        titolo: s("titolo"),
        codice_programma: s("codice_programma"),
        comune: nome_comune,
        tipo: etichetta("interventi", "tipo_intervento", &s("tipo_intervento")),
        stato: etichetta("interventi", "stato", &s("stato")),
        finanziato: s("importo_finanziato"),
        erogato: v.calcolati.importo_erogato.testo(),
        pagato: v.calcolati.importo_pagato.testo(),
        fisico: crate::formati::decimale(&v.calcolati.avanzamento_fisico.to_string(), 0)
            .unwrap_or_default(),
        finanziario: v.calcolati.avanzamento_finanziario.italiano(),
        ritardo: v.calcolati.ritardo_giorni,
        fermo: v.calcolati.fermo,
    }
}

/// The list page's parameters: the API's, and the situation behind a dashboard figure.
#[derive(Deserialize, Default)]
pub struct ParametriElenco {
    #[serde(flatten)]
    base: ParametriInterventi,
    situazione: Option<String>,
}

/// `GET /area/interventi`: the list with filters and the computed columns;
/// `?situazione=in_ritardo|fermo` keeps the delayed interventions or the stalled sites on the
/// list's day (the dashboard's figures link here).
async fn interventi(
    State(st): State<Stato>,
    cx: Contesto,
    Query(p): Query<ParametriElenco>,
) -> Result<Html<String>, ErrorePagina> {
    let q = p.base;
    let f = filtro(&q, PER_PAGINA + 1).map_err(|_| {
        ErroreServizio::Dominio(dominio::ErroreDominio::valore(
            "filtri",
            "I filtri non sono validi: la data va scritta AAAA-MM-GG.",
        ))
    })?;
    let situazione = match p.situazione.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(x) => Some(Situazione::parse(x).ok_or_else(|| {
            ErrorePagina::RichiestaNonValida(
                "La situazione richiesta non esiste: scelga «In ritardo» o «Cantiere fermo»."
                    .into(),
            )
        })?),
    };
    let mut v = match situazione {
        Some(x) => st.p.elenco_interventi_in(cx.soggetto(), f, x).await?,
        None => st.p.elenco_interventi(cx.soggetto(), f).await?,
    };
    let altre = v.len() as i64 > PER_PAGINA;
    v.truncate(PER_PAGINA as usize);
    let successivo = if altre {
        v.last().map(|u| codifica_cursore(&u.ente, &u.cup))
    } else {
        None
    };
    let righe: Vec<RigaIntervento> = v.iter().map(riga).collect();
    let d = flussi::spec::contabilita::dominio();
    let valori = |campo: &str| -> Vec<(String, String)> {
        d.tabella("interventi")
            .and_then(|t| t.campi.iter().find(|c| c.nome == campo))
            .map(|c| match c.tipo {
                flussi::spec::Tipo::Enum(v) => v
                    .iter()
                    .map(|x| (x.to_string(), d.etichetta_valore("interventi", campo, x)))
                    .collect(),
                _ => vec![],
            })
            .unwrap_or_default()
    };
    // The programme codes offered in the filter: the Region's list.
    let programmi: Vec<(String, String)> =
        st.p.riepilogo_programmi(cx.soggetto(), None)
            .await
            .map(|r| {
                r.programmi
                    .into_iter()
                    .map(|p| {
                        let nome = p
                            .campi
                            .get("denominazione")
                            .and_then(|x| x.as_str())
                            .unwrap_or_default()
                            .to_string();
                        (p.codice_programma, nome)
                    })
                    .collect()
            })
            .unwrap_or_default();
    let mut query_successiva = url::form_urlencoded::Serializer::new(String::new());
    for (k, x) in [
        ("ente", &q.ente),
        ("codice_programma", &q.codice_programma),
        ("stato", &q.stato),
        ("comune_istat", &q.comune_istat),
        ("tipo_intervento", &q.tipo_intervento),
        ("alla_data", &q.alla_data),
    ] {
        if let Some(x) = x.as_deref().filter(|x| !x.is_empty()) {
            query_successiva.append_pair(k, x);
        }
    }
    if let Some(x) = situazione {
        query_successiva.append_pair("situazione", x.codice());
    }
    if let Some(c) = &successivo {
        query_successiva.append_pair("cursor", c);
    }
    let situazioni: Vec<(&str, &str)> = Situazione::TUTTE
        .iter()
        .map(|x| (x.codice(), x.etichetta()))
        .collect();
    pagina(
        &st,
        &cx,
        "interventi.html",
        context! {
            righe, successivo => successivo.map(|_| query_successiva.finish()),
            stati => valori("stato"), tipi => valori("tipo_intervento"), programmi, situazioni,
            f => context! {
                ente => q.ente, codice_programma => q.codice_programma, stato => q.stato,
                comune_istat => q.comune_istat, tipo_intervento => q.tipo_intervento,
                alla_data => q.alla_data,
                situazione => situazione.map(Situazione::codice),
                situazione_etichetta => situazione.map(Situazione::etichetta),
            },
            regione => cx.soggetto().is_regione(),
            soglia => st.p.config.soglia_fermo_giorni,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct ParametriScheda {
    alla_data: Option<String>,
}

fn importo_di(m: &serde_json::Map<String, serde_json::Value>, k: &str) -> i64 {
    m.get(k)
        .and_then(|v| v.as_str())
        .and_then(|s| Importo::parse(s).ok())
        .map_or(0, Importo::centesimi)
}

fn data_di(m: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<NaiveDate> {
    m.get(k)
        .and_then(|v| v.as_str())
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// `GET /area/interventi/{ente}/{cup}`: one intervention.
async fn intervento(
    State(st): State<Stato>,
    cx: Contesto,
    Path((ente, cup)): Path<(String, String)>,
    Query(q): Query<ParametriScheda>,
) -> Result<Html<String>, ErrorePagina> {
    let alla_data = leggi_data(q.alla_data.as_deref()).map_err(|_| ErroreServizio::NonTrovato)?;
    let scheda =
        st.p.scheda_intervento(cx.soggetto(), Some(&ente), &cup, alla_data)
            .await?;
    let v = &scheda.voce;
    let oggi = alla_data.unwrap_or_else(|| st.p.orologio.oggi());
    let serie = |nome: &str,
                 stile,
                 righe: &[serde_json::Map<String, serde_json::Value>],
                 data: &str,
                 importo: &str| Serie {
        nome: nome.into(),
        stile,
        eventi: righe
            .iter()
            .filter_map(|r| Some((data_di(r, data)?, importo_di(r, importo))))
            .collect(),
    };
    let mut marcatori = Vec::new();
    if let Some(d) = data_di(&v.campi, "data_inizio_lavori") {
        marcatori.push(Marcatore {
            nome: "Inizio lavori".into(),
            data: d,
            tratteggiato: false,
        });
    }
    if let Some(d) = data_di(&v.campi, "data_fine_prevista") {
        marcatori.push(Marcatore {
            nome: "Fine prevista".into(),
            data: d,
            tratteggiato: true,
        });
    }
    if let Some(d) = data_di(&v.campi, "data_fine_effettiva") {
        marcatori.push(Marcatore {
            nome: "Fine effettiva".into(),
            data: d,
            tratteggiato: false,
        });
    }
    let grafico = GraficoTempo {
        id: "cronologia".into(),
        titolo: format!("Andamento dell'intervento {}", v.cup),
        descrizione: "Importi cumulati nel tempo: lavori certificati dai SAL, fondi erogati all'ente e pagamenti dell'ente, con l'inizio e la fine dei lavori.".into(),
        serie: vec![
            serie("SAL (lavori certificati)", Stile::Continua, &scheda.sal, "data_sal", "importo_sal"),
            serie("Erogazioni", Stile::Tratteggiata, &scheda.erogazioni, "data_erogazione", "importo"),
            serie("Pagamenti", Stile::Punteggiata, &scheda.pagamenti, "data_mandato", "importo"),
        ],
        marcatori,
        fino_a: Some(
            data_di(&v.campi, "data_fine_effettiva")
                .map_or(oggi, |f| f.max(data_di(&v.campi, "data_collaudo").unwrap_or(f))),
        ),
        formato: euro,
        formato_asse: euro_asse,
    }
    .html();
    let d = flussi::spec::contabilita::dominio();
    let t = d
        .tabella("interventi")
        .ok_or_else(|| ErroreServizio::Interno("tabella interventi".into()))?;
    let campi: Vec<(String, String, String)> = t
        .campi
        .iter()
        .map(|c| {
            let valore = match v.campi.get(c.nome) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(x) => x.to_string(),
            };
            let mostrato = match c.tipo {
                flussi::spec::Tipo::Enum(_) => d.etichetta_valore("interventi", c.nome, &valore),
                _ => valore,
            };
            (c.nome.to_string(), d.etichetta_campo(c.nome), mostrato)
        })
        .collect();
    let tipo_di = |c: &str| {
        t.campi
            .iter()
            .find(|x| x.nome == c)
            .map(|x| match x.tipo {
                flussi::spec::Tipo::Denaro => "euro",
                flussi::spec::Tipo::Data => "data",
                _ => "",
            })
            .unwrap_or("")
    };
    let tipi: std::collections::BTreeMap<String, &str> = t
        .campi
        .iter()
        .map(|c| (c.nome.to_string(), tipo_di(c.nome)))
        .collect();
    let storia: Vec<_> = scheda
        .storia
        .iter()
        .map(|x| {
            context! {
                valido_dal => x.valido_dal.to_string(),
                valido_al => x.valido_al.map(|d| d.to_string()),
                flusso => x.flusso_dal,
                stato => x.campi.get(t.indice("stato").unwrap_or(0)).cloned().flatten()
                    .map(|s| d.etichetta_valore("interventi", "stato", &s)),
                importo => x.campi.get(t.indice("importo_finanziato").unwrap_or(0)).cloned().flatten(),
            }
        })
        .collect();
    let comune = v
        .campi
        .get("comune_istat")
        .and_then(|x| x.as_str())
        .and_then(flussi::riferimento::comune)
        .map(|c| c.nome.clone());
    let ente_nome = st.p.ente(&v.ente).await.map(|e| e.denominazione).ok();
    pagina(
        &st,
        &cx,
        "intervento.html",
        context! {
            v => context! {
                ente => v.ente, cup => v.cup, valido_dal => v.valido_dal.to_string(),
                calcolati => v.calcolati,
                titolo => v.campi.get("titolo").and_then(|x| x.as_str()),
            },
            ente_nome, comune, campi, tipi, grafico,
            sal => scheda.sal, erogazioni => etichettati("erogazioni", &scheda.erogazioni),
            pagamenti => etichettati("pagamenti", &scheda.pagamenti),
            fabbricati => scheda.fabbricati, storia,
            alla_data => alla_data.map(|d| d.to_string()),
            soglia => st.p.config.soglia_fermo_giorni,
        },
    )
}

/// Child rows with their enumerated values labelled (`ACCONTO` → «Acconto»).
fn etichettati(
    tabella: &str,
    righe: &[serde_json::Map<String, serde_json::Value>],
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    righe
        .iter()
        .map(|r| {
            let mut r = r.clone();
            for c in ["tipo", "causale"] {
                if let Some(serde_json::Value::String(x)) = r.get(c).cloned() {
                    r.insert(
                        format!("{c}_etichetta"),
                        serde_json::Value::String(etichetta(tabella, c, &x)),
                    );
                }
            }
            r
        })
        .collect()
}

/// `GET /area/conflitti`: the Region's cross-entity conflicts.
async fn conflitti(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let catasto = st.p.conflitti(s, "unita").await?;
    let cup = st.p.conflitti(s, "interventi").await?;
    let campo = |t: &str, v: &servizi::registro::Versione, c: &str| -> String {
        servizi::registro::tavola_di(t)
            .and_then(|x| x.tabella.indice(c))
            .and_then(|i| v.campi.get(i).cloned().flatten())
            .unwrap_or_default()
    };
    let unita: Vec<_> = catasto
        .iter()
        .map(|v| {
            context! {
                ente => v.ente, chiave => v.chiave,
                foglio => campo("unita", v, "foglio"), particella => campo("unita", v, "particella"),
                subalterno => campo("unita", v, "subalterno"),
                sezione => campo("unita", v, "sezione_urbana"),
                fabbricato => campo("unita", v, "codice_fabbricato"),
            }
        })
        .collect();
    let interventi: Vec<_> = cup
        .iter()
        .map(|v| {
            context! {
                ente => v.ente, cup => v.chiave, titolo => campo("interventi", v, "titolo"),
                url => format!("/area/interventi/{}/{}", v.ente, v.chiave),
            }
        })
        .collect();
    pagina(&st, &cx, "conflitti.html", context! { unita, interventi })
}
