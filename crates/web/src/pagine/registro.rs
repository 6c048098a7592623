//! The shared registers in the reserved area, one implementation for every domain: the list of
//! a register table with filters, search, sort, keyset paging and time travel ("Registro alla
//! data"), and the page of a record with its data, its history (the flow behind each version),
//! its versions compared, its parent and children. Everything comes from the domain's
//! definition (`flussi::spec::registro`); views specific to a domain (the building map and the
//! cadastral note of `patrimonio`) plug in from [`super::registro_patrimonio`]. Exports are in
//! [`super::registro_esporta`].

use std::collections::HashMap;

use crate::estrattori::{Path, Query};
use crate::rotte::{Rotte, get};
use axum::extract::State;
use axum::response::Html;
use chrono::NaiveDate;
use dominio::Soggetto;
use flussi::spec::Tipo;
use flussi::spec::registro::{Cerca, Filtro, Posizione};
use minijinja::{Value as Mj, context};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use servizi::ErroreServizio;
use servizi::registro::{FiltroRegistro, TavolaRegistro, Versione, tavola_di, tavole_registro};

use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;
use crate::formati;
use crate::modelli::pagina;
use crate::registro::{
    Filtri, codifica_cursore, coordinate, cursore_dopo, descrizione, filtro_da, leggi_data, mostra,
    url_dettaglio, valore,
};

/// Rows per page of the lists in the web interface.
const RIGHE_PAGINA: usize = 50;
/// Rows fetched per query by exports and the map.
pub(crate) const BLOCCO: usize = 10_000;
/// Most child records listed on a record's page (the list page has them all).
const MAX_FIGLI: usize = 500;

pub fn rotte() -> Rotte {
    Rotte::new()
        .route("/area/registro/{tabella}", get(elenco))
        .route("/area/registro/{tabella}/{ente}/{codice}", get(scheda))
        .merge(super::registro_esporta::rotte())
        .merge(super::registro_patrimonio::rotte())
}

/// A register table named in a path (404 when it is none).
pub(crate) fn tavola(nome: &str) -> Result<&'static TavolaRegistro, ErroreServizio> {
    tavola_di(nome).ok_or(ErroreServizio::NonTrovato)
}

// ---------------------------------------------------------------------------------------------
// Names and labels
// ---------------------------------------------------------------------------------------------

/// Entity and Comune names, from the entity registry.
pub(crate) struct Nomi {
    pub enti: Vec<(String, String)>,
    pub comuni: Vec<(String, String)>,
    pub per_codice: HashMap<String, String>,
}

pub(crate) async fn nomi(st: &Stato) -> Result<Nomi, ErrorePagina> {
    let mut tutti = st.p.registro(&servizi::enti::FiltroEnti::default()).await?;
    tutti.sort_by(|a, b| a.denominazione.cmp(&b.denominazione));
    let comuni = tutti
        .iter()
        .filter(|e| e.tipo == "COMUNE")
        .map(|e| (e.codice.clone(), e.denominazione.clone()))
        .collect();
    let per_codice = tutti
        .iter()
        .map(|e| (e.codice.clone(), e.denominazione.clone()))
        .collect();
    let enti = tutti
        .into_iter()
        .filter(|e| e.tipo != "REGIONE")
        .map(|e| (e.codice, e.denominazione))
        .collect();
    Ok(Nomi {
        enti,
        comuni,
        per_codice,
    })
}

/// The label of a field of table `tabella` of `t`'s domain.
fn etichetta(t: &TavolaRegistro, campo: &str) -> String {
    t.dominio.etichetta_campo(campo)
}

/// Whether a field of a table holds a Comune's ISTAT code (shown with the Comune's name).
fn e_comune(t: &TavolaRegistro, tabella: &str, campo: &str) -> bool {
    t.dominio
        .tabella(tabella)
        .and_then(|x| x.campi.iter().find(|c| c.nome == campo))
        .is_some_and(|c| matches!(c.tipo, Tipo::Comune))
}

/// The label of the key column: the key field's, or «Codice» for composite keys.
fn etichetta_chiave(t: &TavolaRegistro) -> String {
    match t.tabella.chiave {
        [k] => etichetta(t, k),
        _ => "Codice".into(),
    }
}

/// The tables of the same domain, for the tabs above a list.
fn schede(t: &TavolaRegistro) -> Vec<Mj> {
    t.dominio
        .registro
        .iter()
        .flat_map(|r| &r.tabelle)
        .map(|r| {
            context! {
                tabella => r.tabella, etichetta => r.etichetta,
                attiva => r.tabella == t.tabella.nome,
            }
        })
        .collect()
}

/// Views a domain adds beside its lists (the building map): (label, path).
fn viste(t: &TavolaRegistro) -> Vec<(&'static str, &'static str)> {
    super::registro_patrimonio::viste(t)
}

// ---------------------------------------------------------------------------------------------
// A version for the templates
// ---------------------------------------------------------------------------------------------

/// A version for the templates: the shown values by field name (and `<campo>_nome` for a
/// Comune's name), plus `ente`, `chiave`, `url` (keeping the register's date, if any),
/// `url_genitore`, validity and flow.
fn vista(
    t: &TavolaRegistro,
    v: &Versione,
    comuni: &HashMap<String, String>,
    alla_data: Option<NaiveDate>,
) -> Map<String, Value> {
    let nome = t.tabella.nome;
    let mut m = Map::new();
    for (c, x) in t.tavola.campi().iter().zip(&v.campi) {
        m.insert(
            (*c).to_string(),
            Value::String(mostra(t, nome, c, x.as_deref())),
        );
        if let Some(x) = x
            && e_comune(t, nome, c)
        {
            m.insert(
                format!("{c}_nome"),
                Value::String(comuni.get(x).cloned().unwrap_or_default()),
            );
        }
    }
    m.insert("ente".into(), Value::String(v.ente.clone()));
    m.insert("chiave".into(), Value::String(v.chiave.clone()));
    m.insert(
        "url".into(),
        Value::String(url_dettaglio(nome, &v.ente, &v.chiave, alla_data)),
    );
    if let Some(g) = t.def.genitore
        && let Some(k) = valore(t, v, g.campo)
    {
        m.insert(
            "url_genitore".into(),
            Value::String(url_dettaglio(g.tabella, &v.ente, k, alla_data)),
        );
        m.insert("codice_genitore".into(), Value::String(k.to_string()));
    }
    m.insert("descrizione".into(), Value::String(descrizione(t, v)));
    m.insert(
        "valido_dal".into(),
        Value::String(formati::giorno(v.valido_dal)),
    );
    m.insert(
        "valido_al".into(),
        Value::String(v.valido_al.map(formati::giorno).unwrap_or_default()),
    );
    m.insert("flusso".into(), json!(v.flusso_dal));
    m
}

/// The columns of a list: the definition's listed fields (those in `senza` left out).
fn colonne(t: &TavolaRegistro, senza: Option<&str>) -> Vec<&'static str> {
    t.def
        .elencati
        .iter()
        .copied()
        .filter(|c| Some(*c) != senza)
        .collect()
}

/// A list row: key, link, entity, the listed cells (value, link to the parent, Comune name),
/// whether it has coordinates, validity.
fn riga(
    t: &TavolaRegistro,
    v: &Versione,
    colonne: &[&'static str],
    nomi: &Nomi,
    comuni: &HashMap<String, String>,
    alla_data: Option<NaiveDate>,
) -> Mj {
    let nome = t.tabella.nome;
    let celle: Vec<Mj> = colonne
        .iter()
        .map(|c| {
            let grezzo = valore(t, v, c);
            let mut testo = mostra(t, nome, c, grezzo);
            if e_comune(t, nome, c)
                && let Some(n) = grezzo.and_then(|x| comuni.get(x))
            {
                testo = n.clone();
            }
            let url = match (t.def.genitore, grezzo) {
                (Some(g), Some(k)) if g.campo == *c => {
                    Some(url_dettaglio(g.tabella, &v.ente, k, alla_data))
                }
                _ => None,
            };
            context! { valore => testo, url }
        })
        .collect();
    context! {
        chiave => v.chiave,
        url => url_dettaglio(nome, &v.ente, &v.chiave, alla_data),
        ente => v.ente,
        ente_nome => nomi.per_codice.get(&v.ente),
        celle,
        coordinate => coordinate(t, v).is_some(),
        valido_dal => formati::giorno(v.valido_dal),
    }
}

// ---------------------------------------------------------------------------------------------
// Walking the register page by page
// ---------------------------------------------------------------------------------------------

/// Walks a register list `BLOCCO` rows at a time with the keyset cursor.
pub(crate) struct Sfoglia {
    st: Stato,
    s: Soggetto,
    t: &'static TavolaRegistro,
    filtro: FiltroRegistro,
    finito: bool,
}

impl Sfoglia {
    pub(crate) fn new(
        st: Stato,
        s: Soggetto,
        t: &'static TavolaRegistro,
        mut filtro: FiltroRegistro,
    ) -> Self {
        filtro.limite = BLOCCO as i64;
        filtro.dopo = None;
        Self {
            st,
            s,
            t,
            filtro,
            finito: false,
        }
    }

    /// The next page, or `None` at the end.
    pub(crate) async fn prossima(&mut self) -> Result<Option<Vec<Versione>>, ErroreServizio> {
        if self.finito {
            return Ok(None);
        }
        let (t, v) = self
            .st
            .p
            .elenco_registro(&self.s, self.t.tabella.nome, self.filtro.clone())
            .await?;
        if v.len() < BLOCCO {
            self.finito = true;
        }
        if let Some(u) = v.last() {
            self.filtro.dopo = Some(cursore_dopo(t, self.filtro.ordina.as_deref(), u));
        }
        Ok((!v.is_empty()).then_some(v))
    }
}

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

/// The filter form of a list (and of the map): entity choices, one control per filter of the
/// definition, search help, sort orders.
pub(crate) fn contesto_filtri(cx: &Contesto, t: &TavolaRegistro, f: &Filtri, nomi: &Nomi) -> Mj {
    let s = cx.soggetto();
    let vede_tutti = s.is_regione();
    let enti: Vec<(String, String)> = if vede_tutti {
        nomi.enti.clone()
    } else {
        s.enti()
            .iter()
            .map(|e| {
                let c = e.as_str().to_string();
                let n = nomi
                    .per_codice
                    .get(&c)
                    .cloned()
                    .unwrap_or_else(|| c.clone());
                (c, n)
            })
            .collect()
    };
    let del_genitore = |etichetta: String| match t
        .def
        .genitore
        .and_then(|g| t.dominio.registro_di(g.tabella))
    {
        Some(g) => format!("{etichetta} del {}", g.singolare.to_lowercase()),
        None => etichetta,
    };
    let campi: Vec<Mj> = t
        .def
        .filtri
        .iter()
        .map(|x| {
            let c = x.campo();
            let tabella = match (x, t.def.genitore) {
                (Filtro::Genitore(_), Some(g)) => g.tabella,
                _ => t.tabella.nome,
            };
            let tipo = t
                .dominio
                .tabella(tabella)
                .and_then(|tb| tb.campi.iter().find(|k| k.nome == c))
                .map(|k| &k.tipo);
            let (controllo, valori, mut etichetta): (&str, Vec<(String, String)>, String) =
                match tipo {
                    Some(Tipo::Comune) => ("elenco", nomi.comuni.clone(), "Comune".into()),
                    Some(Tipo::Enum(v)) => (
                        "elenco",
                        v.iter()
                            .map(|x| (x.to_string(), t.dominio.etichetta_valore(tabella, c, x)))
                            .collect(),
                        etichetta(t, c),
                    ),
                    _ => ("testo", Vec::new(), etichetta(t, c)),
                };
            if matches!(x, Filtro::Genitore(_)) {
                etichetta = del_genitore(etichetta);
            }
            let scelto = match tipo {
                Some(Tipo::Enum(_)) => f.get(c).to_uppercase(),
                _ => f.get(c).to_string(),
            };
            context! { campo => c, etichetta, controllo, valori, scelto }
        })
        .collect();
    let mut cercati = vec!["codice".to_string()];
    for c in t.def.cercati {
        cercati.push(match c {
            Cerca::Campo(c) => etichetta(t, c).to_lowercase(),
            Cerca::Unione(v) => v
                .iter()
                .map(|c| etichetta(t, c).to_lowercase())
                .collect::<Vec<_>>()
                .join("/"),
            Cerca::Genitore(c) => del_genitore(etichetta(t, c).to_lowercase()),
        });
    }
    cercati.dedup();
    let mut ordinamenti = vec![("chiave".to_string(), etichetta_chiave(t))];
    ordinamenti.extend(
        t.def
            .ordinabili
            .iter()
            .map(|c| (c.to_string(), etichetta(t, c))),
    );
    let alla_data = leggi_data(f.get("alla_data"))
        .ok()
        .flatten()
        .map(formati::giorno);
    context! {
        vede_tutti,
        enti,
        campi_filtro => campi,
        aiuto_ricerca => cercati.join(", "),
        ordinamenti,
        f => f,
        alla_data_it => alla_data,
        query => f.query(t),
        query_oggi => f.clone().senza("alla_data").query(t),
    }
}

/// `GET /area/registro/{tabella}`: a page of a register table.
pub async fn elenco(
    State(st): State<Stato>,
    cx: Contesto,
    Path(tabella): Path<String>,
    Query(f): Query<Filtri>,
) -> Result<Html<String>, ErrorePagina> {
    let t = tavola(&tabella)?;
    let filtro = filtro_da(t, &f, RIGHE_PAGINA + 1).map_err(ErrorePagina::RichiestaNonValida)?;
    let ordina = filtro.ordina.clone();
    let alla_data = filtro.alla_data;
    let (t, mut v) =
        st.p.elenco_registro(cx.soggetto(), t.tabella.nome, filtro)
            .await?;
    let successiva = if v.len() > RIGHE_PAGINA {
        v.truncate(RIGHE_PAGINA);
        v.last().map(|u| {
            let c = codifica_cursore(&cursore_dopo(t, ordina.as_deref(), u));
            let q = f.query(t);
            if q.is_empty() {
                format!("?cursore={c}")
            } else {
                format!("?{q}&cursore={c}")
            }
        })
    } else {
        None
    };
    let nomi = nomi(&st).await?;
    let comuni: HashMap<String, String> = nomi.comuni.iter().cloned().collect();
    let cols = colonne(t, None);
    let righe: Vec<Mj> = v
        .iter()
        .map(|x| riga(t, x, &cols, &nomi, &comuni, alla_data))
        .collect();
    let filtri = contesto_filtri(&cx, t, &f, &nomi);
    pagina(
        &st,
        &cx,
        "registro_elenco.html",
        context! {
            tabella => t.tabella.nome,
            dominio => t.dominio.nome,
            titolo => t.dominio.titolo,
            etichetta => t.def.etichetta,
            schede => schede(t),
            viste => viste(t),
            colonna_chiave => etichetta_chiave(t),
            colonne => cols.iter().map(|c| etichetta(t, c)).collect::<Vec<_>>(),
            con_coordinate => matches!(t.def.posizione, Some(Posizione::Coordinate { .. })),
            geojson => t.def.posizione.is_some(),
            geojson_genitore => matches!(t.def.posizione, Some(Posizione::DelGenitore)),
            righe,
            successiva,
            pagina_successiva => !f.get("cursore").is_empty(),
            ..filtri
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The page of a record
// ---------------------------------------------------------------------------------------------

/// Map configuration for `mappa.js`: the tile URL (may be empty), its attribution, the points
/// `[lat, lon, label, url]`.
pub(crate) fn dati_mappa(st: &Stato, punti: &[(f64, f64, String, String)]) -> String {
    dati_mappa_con(st, punti, &[], "")
}

/// The map's data with each point's occupancy (`mappa.js` colours it; empty = one colour)
/// and a sentence saying what is shown (the page's live region).
pub(crate) fn dati_mappa_con(
    st: &Stato,
    punti: &[(f64, f64, String, String)],
    occupazione: &[&str],
    descrizione: &str,
) -> String {
    let tile = st.p.config.tile_url.trim().to_string();
    let attribuzione = if tile.is_empty() {
        String::new()
    } else if tile.contains("openstreetmap") {
        "© contributori di <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a>"
            .to_string()
    } else {
        let host = url::Url::parse(&tile.replace(['{', '}'], ""))
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        format!("Mappa di base: {host}")
    };
    let p: Vec<Value> = punti
        .iter()
        .enumerate()
        .map(|(i, (lon, lat, etichetta, url))| match occupazione.get(i) {
            Some(o) => json!([lat, lon, etichetta, url, o]),
            None => json!([lat, lon, etichetta, url]),
        })
        .collect();
    json!({ "tile_url": tile, "attribuzione": attribuzione, "punti": p, "descrizione": descrizione })
        .to_string()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AllaData {
    alla_data: String,
}

/// The version valid on `d` (or the current one).
fn valida_il(storia: &[Versione], d: Option<NaiveDate>) -> Option<&Versione> {
    storia.iter().rev().find(|v| match d {
        Some(d) => v.valido_dal <= d && v.valido_al.is_none_or(|a| a > d),
        None => v.valido_al.is_none(),
    })
}

/// The fields that differ between two versions: (label, before, after), shown values.
fn differenze(
    t: &TavolaRegistro,
    prima: &Versione,
    dopo: &Versione,
) -> Vec<(String, String, String)> {
    t.tavola
        .campi()
        .iter()
        .enumerate()
        .filter(|(i, _)| prima.campi.get(*i) != dopo.campi.get(*i))
        .map(|(i, c)| {
            let m = |v: &Versione| {
                mostra(
                    t,
                    t.tabella.nome,
                    c,
                    v.campi.get(i).and_then(|x| x.as_deref()),
                )
            };
            (etichetta(t, c), m(prima), m(dopo))
        })
        .collect()
}

/// The history for the templates, newest first: validity, flow, changed fields.
fn vista_storia(t: &TavolaRegistro, storia: &[Versione]) -> Vec<Mj> {
    let mut out: Vec<Mj> = storia
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let modifiche = if i == 0 {
                Vec::new()
            } else {
                differenze(t, &storia[i - 1], v)
            };
            context! {
                numero => i + 1,
                valido_dal => formati::giorno(v.valido_dal),
                valido_al => v.valido_al.map(formati::giorno),
                flusso => v.flusso_dal,
                prima => i == 0,
                modifiche,
            }
        })
        .collect();
    out.reverse();
    out
}

/// The fields of a version as (name, label, shown value, Comune's name, description).
fn scheda_dati(t: &TavolaRegistro, v: &Versione, comuni: &HashMap<String, String>) -> Vec<Mj> {
    t.tabella
        .campi
        .iter()
        .zip(&v.campi)
        .map(|(c, x)| {
            let comune = x
                .as_deref()
                .filter(|_| e_comune(t, t.tabella.nome, c.nome))
                .and_then(|x| comuni.get(x));
            context! {
                campo => c.nome,
                etichetta => etichetta(t, c.nome),
                valore => mostra(t, t.tabella.nome, c.nome, x.as_deref()),
                comune,
                descrizione => c.descrizione,
            }
        })
        .collect()
}

/// The comparison table: one row per field, one column per version (oldest first); a cell is
/// marked when it differs from the version before.
fn confronto(t: &TavolaRegistro, storia: &[Versione]) -> Vec<Mj> {
    t.tavola
        .campi()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let celle: Vec<Mj> = storia
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    let x = v.campi.get(i).cloned().flatten();
                    let cambiato = k > 0 && storia[k - 1].campi.get(i).cloned().flatten() != x;
                    context! { valore => mostra(t, t.tabella.nome, c, x.as_deref()), cambiato }
                })
                .collect();
            let mai_cambiato = celle.len() > 1
                && storia
                    .windows(2)
                    .all(|w| w[0].campi.get(i) == w[1].campi.get(i));
            context! { etichetta => etichetta(t, c), celle, mai_cambiato }
        })
        .collect()
}

/// The children of a record on a day: per child table, its first records and the link to
/// the full list.
async fn figli(
    st: &Stato,
    cx: &Contesto,
    t: &TavolaRegistro,
    ente: &str,
    codice: &str,
    data: Option<NaiveDate>,
    nomi: &Nomi,
) -> Result<Vec<Mj>, ErrorePagina> {
    let comuni: HashMap<String, String> = nomi.comuni.iter().cloned().collect();
    let mut out = Vec::new();
    for f in tavole_registro() {
        let Some(g) = f.def.genitore else { continue };
        if f.dominio.nome != t.dominio.nome || g.tabella != t.tabella.nome {
            continue;
        }
        let filtro = FiltroRegistro {
            ente: Some(ente.to_string()),
            uguale: vec![(g.campo.to_string(), codice.to_string())],
            alla_data: data,
            limite: (MAX_FIGLI + 1) as i64,
            ..Default::default()
        };
        let (f, mut v) =
            st.p.elenco_registro(cx.soggetto(), f.tabella.nome, filtro)
                .await?;
        let altri = v.len() > MAX_FIGLI;
        v.truncate(MAX_FIGLI);
        let cols = colonne(f, Some(g.campo));
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        qs.append_pair("ente", ente).append_pair(g.campo, codice);
        if let Some(d) = data {
            qs.append_pair("alla_data", &d.to_string());
        }
        out.push(context! {
            tabella => f.tabella.nome,
            etichetta => f.def.etichetta,
            colonna_chiave => etichetta_chiave(f),
            colonne => cols.iter().map(|c| etichetta(f, c)).collect::<Vec<_>>(),
            righe => v.iter().map(|x| riga(f, x, &cols, nomi, &comuni, data)).collect::<Vec<_>>(),
            altri,
            massimo => MAX_FIGLI,
            url_elenco => format!("/area/registro/{}?{}", f.tabella.nome, qs.finish()),
        });
    }
    Ok(out)
}

/// `GET /area/registro/{tabella}/{ente}/{codice}`: a record, as of today or of a date.
pub async fn scheda(
    State(st): State<Stato>,
    cx: Contesto,
    Path((tabella, ente, codice)): Path<(String, String, String)>,
    Query(q): Query<AllaData>,
) -> Result<Html<String>, ErrorePagina> {
    let t = tavola(&tabella)?;
    let data = leggi_data(&q.alla_data).map_err(ErrorePagina::RichiestaNonValida)?;
    let (t, storia) =
        st.p.storia_registro(cx.soggetto(), t.tabella.nome, &ente, &codice)
            .await?;
    let ente = storia[0].ente.clone();
    let attuale = valida_il(&storia, data);
    // Without a version valid on that day, show the last one known (marked as such).
    let mostrata = attuale.or(storia.last());
    let nomi = nomi(&st).await?;
    let comuni: HashMap<String, String> = nomi.comuni.iter().cloned().collect();
    let punti: Vec<(f64, f64, String, String)> = mostrata
        .and_then(|v| {
            coordinate(t, v).map(|(lon, lat)| (lon, lat, descrizione(t, v), String::new()))
        })
        .into_iter()
        .collect();
    let figli = figli(&st, &cx, t, &ente, &codice, data, &nomi).await?;
    let genitore = t.def.genitore.and_then(|g| {
        let r = t.dominio.registro_di(g.tabella)?;
        Some(context! { singolare => r.singolare, tabella => g.tabella })
    });
    let versioni: Vec<Mj> = storia
        .iter()
        .enumerate()
        .map(|(i, v)| {
            context! {
                numero => i + 1,
                valido_dal => formati::giorno(v.valido_dal),
                valido_al => v.valido_al.map(formati::giorno),
                flusso => v.flusso_dal,
            }
        })
        .collect();
    let extra = mostrata.and_then(|v| super::registro_patrimonio::scheda(t, v, &comuni));
    pagina(
        &st,
        &cx,
        "registro_scheda.html",
        context! {
            tabella => t.tabella.nome,
            etichetta => t.def.etichetta,
            singolare => t.def.singolare,
            con_articolo => t.def.con_articolo,
            genitore,
            ente,
            ente_nome => nomi.per_codice.get(&ente),
            codice,
            alla_data => data.map(|d| d.to_string()),
            alla_data_it => data.map(formati::giorno),
            valida => attuale.is_some(),
            versione => mostrata.map(|v| vista(t, v, &comuni, data)),
            dati => mostrata.map(|v| scheda_dati(t, v, &comuni)),
            coordinate => mostrata.and_then(|v| coordinate(t, v)).map(|(lon, lat)| context! { lat, lon }),
            localizzabile => matches!(t.def.posizione, Some(Posizione::Coordinate { .. })),
            mappa => (!punti.is_empty()).then(|| dati_mappa(&st, &punti)),
            figli,
            storia => vista_storia(t, &storia),
            versioni,
            confronto => confronto(t, &storia),
            extra,
        },
    )
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::registro::Filtri;
    use crate::registro::test::versione;

    /// The generic templates render for every register table of every domain (the list with
    /// its filter form, the record page with its history and comparison), values escaped.
    #[test]
    fn modelli_si_compongono_per_ogni_tabella() {
        let env = crate::modelli::ambiente();
        let comuni: HashMap<String, String> = [("072006".to_string(), "Bari".to_string())].into();
        let nomi = Nomi {
            enti: vec![("072006".into(), "Comune di Bari".into())],
            comuni: vec![("072006".into(), "Bari".into())],
            per_codice: [("072006".to_string(), "Comune di Bari".to_string())].into(),
        };
        let shell =
            context! { utente => context! { nome => "Prova" }, csrf => "x", percorso => "/area" };
        for t in tavole_registro() {
            let nome = t.tabella.nome;
            let valori: Vec<(&str, &str)> = t
                .tavola
                .campi()
                .iter()
                .map(|c| {
                    (
                        *c,
                        if *c == "comune_istat" {
                            "072006"
                        } else {
                            "<b>X</b>"
                        },
                    )
                })
                .collect();
            let mut a = versione(t, &valori);
            a.valido_al = NaiveDate::from_ymd_opt(2024, 6, 30);
            let mut b = a.clone();
            b.valido_dal = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
            b.valido_al = None;
            b.campi[0] = Some("Y".into());
            let storia = vec![a, b.clone()];
            let cols = colonne(t, None);
            let elenco = context! {
                tabella => nome, dominio => t.dominio.nome, titolo => t.dominio.titolo,
                etichetta => t.def.etichetta, schede => schede(t), viste => viste(t),
                colonna_chiave => etichetta_chiave(t),
                colonne => cols.iter().map(|c| etichetta(t, c)).collect::<Vec<_>>(),
                con_coordinate => true, geojson => true, geojson_genitore => false,
                righe => vec![riga(t, &b, &cols, &nomi, &comuni, None)],
                successiva => "?cursore=abc", pagina_successiva => true,
                vede_tutti => true,
                enti => nomi.enti.clone(),
                campi_filtro => vec![context! { campo => "x", etichetta => "X", controllo => "elenco", valori => vec![("A", "a")], scelto => "A" }, context! { campo => "y", etichetta => "Y", controllo => "testo", valori => Vec::<(String, String)>::new(), scelto => "" }],
                aiuto_ricerca => "codice",
                ordinamenti => vec![("chiave", "Codice")],
                f => Filtri::default().con("alla_data", "2024-07-01"),
                alla_data_it => "01/07/2024", query => "alla_data=2024-07-01", query_oggi => "",
                ..shell.clone()
            };
            let scheda = context! {
                tabella => nome, etichetta => t.def.etichetta, singolare => t.def.singolare,
                con_articolo => t.def.con_articolo,
                genitore => context! { singolare => "Padre", tabella => "padri" },
                ente => "072006", ente_nome => "Comune di Bari", codice => "F/1",
                alla_data => "2024-07-01", alla_data_it => "01/07/2024", valida => false,
                versione => vista(t, &b, &comuni, None), dati => scheda_dati(t, &b, &comuni),
                coordinate => context! { lat => 41.1, lon => 16.8 }, localizzabile => true,
                mappa => "{\"punti\":[]}",
                figli => vec![context! { tabella => "f", etichetta => "Figli", colonna_chiave => "Codice", colonne => vec!["A"], righe => vec![riga(t, &b, &cols, &nomi, &comuni, None)], altri => true, massimo => 500, url_elenco => "/area/registro/f?ente=1" }],
                storia => vista_storia(t, &storia),
                versioni => vec![context! { numero => 1, valido_dal => "01/01/2024", flusso => 3 }],
                confronto => confronto(t, &storia),
                extra => context! { catasto => context! { foglio => "1", comune => "072006", url => "https://x" } },
                ..shell.clone()
            };
            for (modello, ctx) in [
                ("registro_elenco.html", elenco),
                ("registro_scheda.html", scheda),
            ] {
                let html = env
                    .get_template(modello)
                    .unwrap_or_else(|e| panic!("{modello}: {e}"))
                    .render(ctx)
                    .unwrap_or_else(|e| panic!("{nome} {modello}: {e:#}"));
                assert!(!html.contains("<b>X"), "{nome} {modello}: escaped");
                assert!(html.contains("</html>"), "{nome} {modello}");
            }
        }
    }
}
