//! Flows in the web interface: the referent's upload (file picker and drag-and-drop), the flow
//! page with live progress and the report (issues paged and filtered, rows in error with their
//! values, downloads), submission with confirmation of the warnings and the receipt; the
//! Region's review queue, the difference against the register, acceptance and rejection.

use crate::estrattori::{Multipart, Path, Query};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use dominio::politica::{Azione, autorizza};
use dominio::{CodiceEnte, DominioFlusso, ErroreDominio, StatoFlusso};
use minijinja::context;
use serde::Deserialize;
use servizi::ErroreServizio;

use crate::Stato;
use crate::caricamento;
use crate::contesto::{Contesto, Modulo};
use crate::errore::ErrorePagina;
use crate::modelli::pagina;

const PER_PAGINA: i64 = 50;

/// What the subject can upload: `(entity, domain)` pairs, by the one policy (an entity's
/// domains by area, the programmes by the Region's administrators).
fn caricabili(cx: &Contesto) -> Vec<(CodiceEnte, DominioFlusso)> {
    let s = cx.soggetto();
    let mut enti = s.enti();
    if s.is_regione_admin()
        && let Ok(r) = CodiceEnte::parse("REGIONE")
    {
        enti.push(r);
    }
    let mut v = Vec::new();
    for e in enti {
        for d in [
            DominioFlusso::Patrimonio,
            DominioFlusso::Contabilita,
            DominioFlusso::Programmi,
        ] {
            if autorizza(s, &Azione::OperareFlusso(&e, d)).is_ok() {
                v.push((e.clone(), d));
            }
        }
    }
    v
}

/// The entities for which the subject can upload `patrimonio` flows (the sample files).
fn enti_caricamento(cx: &Contesto) -> Vec<String> {
    caricabili(cx)
        .into_iter()
        .filter(|(_, d)| *d == DominioFlusso::Patrimonio)
        .map(|(e, _)| e.as_str().to_string())
        .collect()
}

#[derive(Deserialize, Default)]
pub struct FiltriElenco {
    ente: Option<String>,
    stato: Option<String>,
    prima_di: Option<i64>,
}

async fn mostra_elenco(
    st: &Stato,
    cx: &Contesto,
    q: &FiltriElenco,
    errore: Option<String>,
) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let ente = q.ente.clone().filter(|e| !e.is_empty());
    let stato = q.stato.clone().filter(|e| !e.is_empty());
    let stato_filtro = stato
        .as_deref()
        .map(StatoFlusso::parse)
        .transpose()
        .map_err(ErroreServizio::from)?;
    let ente_filtro = ente
        .as_deref()
        .map(CodiceEnte::parse)
        .transpose()
        .map_err(ErroreServizio::from)?;
    let flussi =
        st.p.elenco_flussi(
            s,
            servizi::flussi::FiltroFlussi {
                ente: ente_filtro,
                dominio: None,
                stato: stato_filtro,
                prima_di: q.prima_di,
                limite: PER_PAGINA + 1,
            },
        )
        .await?;
    let altro = flussi.len() as i64 > PER_PAGINA;
    let flussi: Vec<_> = flussi.into_iter().take(PER_PAGINA as usize).collect();
    let successivo = if altro {
        flussi.last().map(|f| f.id)
    } else {
        None
    };
    let enti_per_caricare = enti_caricamento(cx);
    let mut nomi = Vec::new();
    for e in &enti_per_caricare {
        let x = st.p.ente(e).await?;
        nomi.push((x.codice, x.denominazione));
    }
    // The upload form's choices: «Patrimonio – Comune di Andria», value `110001|patrimonio`.
    let mut scelte = Vec::new();
    for (e, d) in caricabili(cx) {
        let x = st.p.ente(e.as_str()).await?;
        scelte.push((
            format!("{}|{}", e.as_str(), d.as_str()),
            format!("{} – {}", d.etichetta(), x.denominazione),
        ));
    }
    pagina(
        st,
        cx,
        "flussi.html",
        context! {
            flussi, successivo, errore, enti_caricamento => nomi, scelte_caricamento => scelte,
            filtro_ente => ente, filtro_stato => stato,
            stati => StatoFlusso::TUTTI.iter().map(|s| (s.as_str(), s.etichetta())).collect::<Vec<_>>(),
            limite_mb => st.p.config.limite_caricamento_mb,
        },
    )
}

/// `GET /area/flussi`: the flows (own, or all for the Region) and the upload form.
pub async fn elenco(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<FiltriElenco>,
) -> Result<Html<String>, ErrorePagina> {
    autorizza(cx.soggetto(), &Azione::AreaRiservata).map_err(ErroreServizio::from)?;
    mostra_elenco(&st, &cx, &q, None).await
}

/// `POST /area/flussi` (multipart): uploads a file, then shows its page. The form's CSRF
/// token is checked as it arrives, before the file part is stored.
pub async fn carica(
    State(st): State<Stato>,
    cx: Contesto,
    Multipart(m): Multipart,
) -> Result<Response, ErrorePagina> {
    autorizza(cx.soggetto(), &Azione::AreaRiservata).map_err(ErroreServizio::from)?;
    let csrf = |t: &str| cx.csrf_valido(&st, t);
    let esito = caricamento::ricevi_modulo(&st.p, m, caricamento::Provenienza::Modulo(&csrf)).await;
    let rifiuta = |status: StatusCode, msg: String| {
        let (st, cx) = (st.clone(), cx.clone());
        async move {
            Ok::<_, ErrorePagina>(
                (
                    status,
                    mostra_elenco(&st, &cx, &FiltriElenco::default(), Some(msg)).await?,
                )
                    .into_response(),
            )
        }
    };
    let m = match esito {
        Ok(m) => m,
        Err(caricamento::Rifiuto::Csrf) => return Err(ErrorePagina::Csrf),
        Err(r) => return rifiuta(r.stato(), r.messaggio()).await,
    };
    // The flow chosen: `scelta` (`ente|dominio`), or the fields `ente` and `dominio`, or the
    // only thing the subject can upload.
    let (ente_scelto, dominio_scelto) = match m.campo("scelta").and_then(|x| x.split_once('|')) {
        Some((e, d)) => (Some(e.to_string()), Some(d.to_string())),
        None => (
            m.campo("ente").map(str::to_string),
            m.campo("dominio").map(str::to_string),
        ),
    };
    let ente_scelto = ente_scelto.filter(|e| !e.trim().is_empty());
    let dominio_scelto = dominio_scelto.filter(|d| !d.trim().is_empty());
    let candidati: Vec<(CodiceEnte, DominioFlusso)> = caricabili(&cx)
        .into_iter()
        .filter(|(e, _)| ente_scelto.as_deref().is_none_or(|x| x == e.as_str()))
        .filter(|(_, d)| dominio_scelto.as_deref().is_none_or(|x| x == d.as_str()))
        .collect();
    // An entity named with the form's old field alone means its asset register.
    let candidati = if candidati.len() > 1 && dominio_scelto.is_none() && ente_scelto.is_some() {
        candidati
            .into_iter()
            .filter(|(_, d)| *d == DominioFlusso::Patrimonio)
            .collect()
    } else {
        candidati
    };
    let Some((file, nome)) = m.file else {
        return rifiuta(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Scelga il file del flusso da caricare.".into(),
        )
        .await;
    };
    let (ente, dominio) = match (candidati.as_slice(), &ente_scelto, &dominio_scelto) {
        ([(e, d)], _, _) => (e.clone(), *d),
        // Named, but not among the subject's: the policy says why (404 or 403).
        ([], Some(e), d) => {
            let e = CodiceEnte::parse(e).map_err(ErroreServizio::from)?;
            let d = DominioFlusso::parse(d.as_deref().unwrap_or("patrimonio"))
                .map_err(ErroreServizio::from)?;
            (e, d)
        }
        _ => {
            return rifiuta(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Scelga l'ente e il tipo di flusso che carica.".into(),
            )
            .await;
        }
    };
    let c =
        st.p.carica_flusso(cx.soggetto(), &ente, dominio, &nome, file)
            .await;
    match c {
        Ok(c) => {
            let esito = if c.nuovo { "caricato" } else { "gia_caricato" };
            Ok(super::vai(&format!(
                "/area/flussi/{}?esito={esito}",
                c.flusso.id
            )))
        }
        Err(ErroreServizio::Dominio(e)) => {
            rifiuta(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct FiltriReport {
    tabella: Option<String>,
    codice: Option<String>,
    gravita: Option<String>,
    pagina: Option<i64>,
    pagina_righe: Option<i64>,
}

fn vuoto(s: &Option<String>) -> Option<String> {
    s.clone().filter(|x| !x.trim().is_empty())
}

/// `GET /area/flussi/{id}`: state, progress, report, difference, actions.
pub async fn dettaglio(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
    Query(q): Query<FiltriReport>,
) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let f = st.p.flusso_visibile(s, id).await?;
    let stato = f.stato;
    let ente = f.ente.clone();
    let dom = f.dominio;
    let puo_inviare = autorizza(s, &Azione::OperareFlusso(&ente, dom)).is_ok();
    let puo_esaminare = autorizza(s, &Azione::EsaminareFlusso(dom)).is_ok();
    let puo_ritirare = puo_inviare && stato.ritirabile();
    let filtro = servizi::flussi::FiltroSegnalazioni {
        tabella: vuoto(&q.tabella),
        codice: vuoto(&q.codice),
        gravita: vuoto(&q.gravita),
    };
    let pagina_n = q.pagina.unwrap_or(1).max(1);
    let (segnalazioni, totale_segnalazioni) =
        st.p.segnalazioni_flusso(s, id, &filtro, (pagina_n - 1) * PER_PAGINA, PER_PAGINA)
            .await?;
    // The entities named by the issues (only in the Region's view: the service leaves
    // `altro_ente` empty for anybody else).
    let mut nomi_enti = std::collections::BTreeMap::new();
    for c in segnalazioni.iter().filter_map(|x| x.altro_ente.as_deref()) {
        if !nomi_enti.contains_key(c) {
            let nome =
                st.p.ente(c)
                    .await
                    .map(|e| e.denominazione)
                    .unwrap_or_default();
            nomi_enti.insert(c.to_string(), nome);
        }
    }
    let pagina_righe = q.pagina_righe.unwrap_or(1).max(1);
    let (righe_errate, totale_righe_errate, campi_errati) =
        st.p.righe_errate_flusso(
            s,
            id,
            filtro.tabella.as_deref(),
            (pagina_righe - 1) * 20,
            20,
        )
        .await?;
    let righe_errate: Vec<_> = righe_errate
        .into_iter()
        .map(|r| {
            let valori: Vec<(String, serde_json::Value)> =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&r.valori)
                    .map(|m| m.into_iter().collect())
                    .unwrap_or_default();
            context! { tabella => r.tabella, riga => r.riga, valori }
        })
        .collect();
    // Which fields of the rows shown are in error (to highlight them).
    let campi_errati: Vec<String> = campi_errati
        .into_iter()
        .map(|(t, r, c)| format!("{t}|{r}|{c}"))
        .collect();
    let conteggi: Vec<(String, i64)> = match st.p.report_flusso(s, id).await? {
        Some(r) => serde_json::from_slice::<serde_json::Value>(&r)
            .ok()
            .and_then(|v| v.get("conteggi").cloned())
            .and_then(|c| serde_json::from_value::<std::collections::BTreeMap<String, i64>>(c).ok())
            .map(|m| m.into_iter().collect())
            .unwrap_or_default(),
        None => vec![],
    };
    let (_, differenze, differenze_aggiornate) = if matches!(
        stato,
        StatoFlusso::Valido | StatoFlusso::Inviato | StatoFlusso::Accettato
    ) {
        st.p.differenze_flusso(s, id).await?
    } else {
        (f.clone(), None, false)
    };
    // What a submission would remove, per table, and whether the referent must say why.
    let differenze_tabelle = differenze.as_deref().map(con_nomi).unwrap_or_default();
    let serve_motivazione = differenze
        .iter()
        .flatten()
        .any(|(_, c)| c.rimozione_da_motivare());
    let lavori = st.p.lavori_flusso(s, id).await?;
    // A validation given up ends the flow `non_valido` with its explanation in the report; a
    // flow still waiting with a failed job is one the platform could not even close.
    let in_attesa = matches!(stato, StatoFlusso::Caricato | StatoFlusso::InValidazione);
    let fallito = in_attesa
        && lavori
            .iter()
            .any(|l| l.tipo == "validazione" && l.stato == "fallito");
    let in_corso = in_attesa && !fallito;
    let ultima_pagina = (totale_segnalazioni + PER_PAGINA - 1) / PER_PAGINA;
    pagina(
        &st,
        &cx,
        "flusso.html",
        context! {
            f => &f, stato_etichetta => stato.etichetta(), percentuale => crate::api_flussi::percentuale(&f),
            in_corso, fallito, puo_inviare, puo_esaminare, puo_ritirare,
            segnalazioni, totale_segnalazioni, pagina => pagina_n, ultima_pagina,
            righe_errate, totale_righe_errate, pagina_righe, ultima_pagina_righe => (totale_righe_errate + 19) / 20,
            campi_errati, conteggi, differenze, differenze_aggiornate, nomi_enti,
            differenze_tabelle, serve_motivazione,
            filtro_tabella => filtro.tabella, filtro_codice => filtro.codice, filtro_gravita => filtro.gravita,
            tabelle => flussi::spec::dominio(f.dominio.as_str()).map(|d| d.tabelle.iter().map(|t| t.nome).collect::<Vec<_>>()).unwrap_or_default(),
        },
    )
}

#[derive(Deserialize)]
pub struct Esempio {
    ente: String,
}

/// `GET /area/flussi/esempio?ente=…`: a sample file to try the upload (development only).
pub async fn esempio(
    State(st): State<Stato>,
    cx: Contesto,
    Query(q): Query<Esempio>,
) -> Result<Response, ErrorePagina> {
    let ente = CodiceEnte::parse(&q.ente).map_err(|_| ErroreServizio::NonTrovato)?;
    let byte = st.p.esempio_patrimonio(cx.soggetto(), &ente).await?;
    let nome = format!(
        "attachment; filename=\"patrimonio-{}-esempio.zip\"",
        ente.as_str().to_lowercase()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, nome),
        ],
        byte,
    )
        .into_response())
}

/// `GET /area/flussi/{id}/report.{json,csv}`: the report as downloads.
pub async fn scarica_report(
    State(st): State<Stato>,
    cx: Contesto,
    Path((id, formato)): Path<(i64, String)>,
) -> Result<Response, ErrorePagina> {
    let r = crate::api_flussi::report_di(&st, cx.soggetto(), id).await?;
    let (corpo, tipo) = match formato.as_str() {
        "report.json" => (r, "application/json"),
        "report.csv" => {
            let rep: crate::api_flussi::ReportCsv = serde_json::from_slice(&r)
                .map_err(|e| ErroreServizio::Interno(format!("rapporto: {e}")))?;
            (rep.csv().into_bytes(), "text/csv; charset=utf-8")
        }
        _ => return Err(ErroreServizio::NonTrovato.into()),
    };
    let nome = format!(
        "attachment; filename=\"rapporto-flusso-{id}.{}\"",
        formato.trim_start_matches("report.")
    );
    Ok((
        [
            (header::CONTENT_TYPE, tipo.to_string()),
            (header::CONTENT_DISPOSITION, nome),
        ],
        corpo,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct Invio {
    #[serde(default)]
    conferma_avvisi: Option<String>,
    #[serde(default)]
    motivazione_rimozioni: Option<String>,
}

/// `POST /area/flussi/{id}/invio`
pub async fn invia(
    State(st): State<Stato>,
    Path(id): Path<i64>,
    Modulo(cx, m): Modulo<Invio>,
) -> Result<Response, ErrorePagina> {
    match st
        .p
        .invia_flusso(
            cx.soggetto(),
            id,
            m.conferma_avvisi.is_some(),
            m.motivazione_rimozioni.as_deref(),
        )
        .await
    {
        Ok(_) => Ok(super::vai(&format!(
            "/area/flussi/{id}/ricevuta?esito=inviato"
        ))),
        Err(ErroreServizio::Dominio(ErroreDominio::Valore { campo, .. })) => {
            let esito = if campo == "conferma_avvisi" {
                "conferma_avvisi"
            } else {
                "motivazione_rimozioni"
            };
            Ok(super::vai(&format!(
                "/area/flussi/{id}?esito={esito}#invio"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /area/flussi/{id}/ricevuta`: the receipt, printable.
pub async fn ricevuta(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Html<String>, ErrorePagina> {
    let f = st.p.flusso_visibile(cx.soggetto(), id).await?;
    if f.protocollo.is_none() {
        return Err(ErroreServizio::Conflitto(
            "Il flusso non è ancora stato inviato: la ricevuta non esiste.".into(),
        )
        .into());
    }
    let nomi = st.p.nomi_persone(f.inviato_da.as_deref()).await?;
    pagina(&st, &cx, "ricevuta.html", context! { f, nomi })
}

#[derive(Deserialize)]
pub struct Vuoto {}

/// `POST /area/flussi/{id}/ritiro`: the entity withdraws a flow not yet submitted.
pub async fn ritira(
    State(st): State<Stato>,
    Path(id): Path<i64>,
    Modulo(cx, _m): Modulo<Vuoto>,
) -> Result<Response, ErrorePagina> {
    st.p.ritira_flusso(cx.soggetto(), id).await?;
    Ok(super::vai(&format!("/area/flussi/{id}?esito=ritirato")))
}

/// `GET /area/flussi/{id}/originale`: the file as it was uploaded.
pub async fn originale(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Response, ErrorePagina> {
    let (f, p) = st.p.originale_flusso(cx.soggetto(), id).await?;
    Ok(crate::api_flussi::risposta_originale(&f, &p).await?)
}

/// `GET /area/flussi/{id}/accettazione`: the Region confirms the acceptance, seeing what it
/// adds, changes and removes per table (and the referent's reason for removals).
pub async fn conferma_accettazione(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
) -> Result<Html<String>, ErrorePagina> {
    let (f, differenze, differenze_aggiornate) = st.p.da_accettare(cx.soggetto(), id).await?;
    let differenze = differenze.map(|v| con_nomi(&v));
    pagina(
        &st,
        &cx,
        "accettazione.html",
        context! { f, differenze, differenze_aggiornate },
    )
}

#[derive(Deserialize)]
pub struct Accettazione {
    #[serde(default)]
    conferma: Option<String>,
}

/// `POST /area/flussi/{id}/accettazione`: accepts once the confirmation box is ticked.
pub async fn accetta(
    State(st): State<Stato>,
    Path(id): Path<i64>,
    Modulo(cx, m): Modulo<Accettazione>,
) -> Result<Response, ErrorePagina> {
    if m.conferma.is_none() {
        // Who may not accept learns it here, not from the confirmation page.
        st.p.da_accettare(cx.soggetto(), id).await?;
        return Ok(super::vai(&format!(
            "/area/flussi/{id}/accettazione?esito=conferma_mancante"
        )));
    }
    st.p.accetta_flusso(cx.soggetto(), id).await?;
    Ok(super::vai(&format!("/area/flussi/{id}?esito=accettato")))
}

/// A difference per table for the pages: the table's Italian name, the counts, whether its
/// removals need a reason.
fn con_nomi(v: &[(String, servizi::flussi::ConteggiDifferenza)]) -> Vec<minijinja::Value> {
    v.iter()
        .map(|(t, c)| {
            context! {
                tabella => t, nome => servizi::flussi::nome_tabella(t),
                aggiunti => c.aggiunti, modificati => c.modificati, rimossi => c.rimossi,
                attuali => c.attuali, da_motivare => c.rimozione_da_motivare(),
            }
        })
        .collect()
}

#[derive(Deserialize)]
pub struct Rifiuto {
    #[serde(default)]
    motivazione: String,
}

/// `POST /area/flussi/{id}/rifiuto`
pub async fn respingi(
    State(st): State<Stato>,
    Path(id): Path<i64>,
    Modulo(cx, m): Modulo<Rifiuto>,
) -> Result<Response, ErrorePagina> {
    match st
        .p
        .respingi_flusso(cx.soggetto(), id, &m.motivazione)
        .await
    {
        Ok(_) => Ok(super::vai(&format!("/area/flussi/{id}?esito=respinto"))),
        Err(ErroreServizio::Dominio(_)) => Ok(super::vai(&format!(
            "/area/flussi/{id}?esito=motivazione_mancante#esame"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `GET /area/esame`: the Region's queue of submitted flows.
pub async fn coda(State(st): State<Stato>, cx: Contesto) -> Result<Html<String>, ErrorePagina> {
    let flussi = st.p.coda_esame(cx.soggetto()).await?;
    pagina(&st, &cx, "esame.html", context! { flussi })
}

#[derive(Deserialize)]
pub struct FiltriDifferenze {
    tabella: Option<String>,
    tipo: Option<String>,
    pagina: Option<i64>,
}

/// `GET /area/flussi/{id}/differenze`: one kind of difference of one table, paged.
pub async fn differenze(
    State(st): State<Stato>,
    cx: Contesto,
    Path(id): Path<i64>,
    Query(q): Query<FiltriDifferenze>,
) -> Result<Html<String>, ErrorePagina> {
    let s = cx.soggetto();
    let (f, conteggi, aggiornate) = st.p.differenze_flusso(s, id).await?;
    // Without a table: the last one of the domain (the most detailed, e.g. units).
    let tabella = q.tabella.unwrap_or_else(|| {
        conteggi
            .as_ref()
            .and_then(|c| c.last())
            .map(|(t, _)| t.clone())
            .unwrap_or_default()
    });
    let tipo = q.tipo.unwrap_or_else(|| "modificato".into());
    if !["aggiunto", "modificato", "rimosso"].contains(&tipo.as_str()) {
        return Err(ErroreServizio::NonTrovato.into());
    }
    let pagina_n = q.pagina.unwrap_or(1).max(1);
    // Labels and shown values from the table's definition.
    let tavola = servizi::registro::tavola_di(&tabella);
    let voci =
        st.p.elenco_differenze(
            s,
            id,
            &tabella,
            &tipo,
            (pagina_n - 1) * PER_PAGINA,
            PER_PAGINA,
        )
        .await?;
    let voci: Vec<_> = voci
        .into_iter()
        .map(|d| {
            let campi: Vec<(String, Option<String>, Option<String>)> = d
                .campi
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default();
            // Shown as on the register pages: Italian field labels, readable values.
            let campi: Vec<_> = campi
                .into_iter()
                .map(|(c, a, b)| match tavola {
                    Some(t) => {
                        let m = |v: Option<String>| {
                            v.map(|v| crate::registro::mostra(t, &tabella, &c, Some(&v)))
                        };
                        (t.dominio.etichetta_campo(&c), m(a), m(b))
                    }
                    None => (c, a, b),
                })
                .collect();
            context! { chiave => d.chiave, campi }
        })
        .collect();
    let totale = conteggi
        .as_ref()
        .and_then(|c| c.iter().find(|(t, _)| *t == tabella))
        .map(|(_, c)| match tipo.as_str() {
            "aggiunto" => c.aggiunti,
            "modificato" => c.modificati,
            _ => c.rimossi,
        })
        .unwrap_or(0) as i64;
    pagina(
        &st,
        &cx,
        "differenze.html",
        context! {
            nomi_tabelle => servizi::registro::tavole_registro().iter().map(|t| (t.tabella.nome, t.def.etichetta)).collect::<std::collections::BTreeMap<_, _>>(),
            f, conteggi, aggiornate, tabella, tipo, voci, pagina => pagina_n,
            ultima_pagina => (totale.min(servizi::flussi::MAX_DIFFERENZE_ELENCATE as i64) + PER_PAGINA - 1) / PER_PAGINA,
            totale, limite_elenco => servizi::flussi::MAX_DIFFERENZE_ELENCATE,
        },
    )
}
