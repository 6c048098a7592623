//! The register as the pages and the API read it, for every domain: filters, the keyset
//! cursor, values shown in Italian, CSV and GeoJSON. Everything here is driven by the domain's
//! definition (`flussi::spec::registro`, reached through `servizi::registro::TavolaRegistro`), so
//! a new domain's register needs no code here.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::NaiveDate;
use flussi::scrivi_csv::ScrittoreCsv;
use flussi::spec::Tipo;
use flussi::spec::registro::{Filtro, Posizione};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use servizi::registro::{FiltroRegistro, TavolaRegistro, Versione};

use crate::formati;

/// The filters of a list as they arrive in the query string (empty = not set): `ente`, `q`,
/// `ordina`, `alla_data`, `cursore` and one parameter per filter of the table's definition,
/// named as the field. Other parameters are ignored.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Filtri(pub BTreeMap<String, String>);

impl Filtri {
    /// A parameter, trimmed ("" when absent).
    pub fn get(&self, k: &str) -> &str {
        self.0.get(k).map(|v| v.trim()).unwrap_or("")
    }
    pub fn con(mut self, k: &str, v: impl Into<String>) -> Self {
        self.0.insert(k.to_string(), v.into());
        self
    }
    pub fn senza(mut self, k: &str) -> Self {
        self.0.remove(k);
        self
    }

    /// The query string of these filters (only the ones set), without the cursor, in a stable
    /// order: entity, the table's filters as defined, search, sort, date.
    pub fn query(&self, t: &TavolaRegistro) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        let campi = t.def.filtri.iter().map(|f| f.campo());
        for k in ["ente"]
            .into_iter()
            .chain(campi)
            .chain(["q", "ordina", "alla_data"])
        {
            let v = self.get(k);
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// A date of the query string (`AAAA-MM-GG`); empty = none.
pub(crate) fn leggi_data(s: &str) -> Result<Option<NaiveDate>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            format!(
                "La data «{s}» non è valida: usi il formato AAAA-MM-GG (ad esempio 2024-12-31)."
            )
        })
}

/// A Comune's ISTAT code (5 digits get their leading zero back, as in the flows).
fn leggi_comune(s: &str) -> Result<String, String> {
    let ok = s.bytes().all(|b| b.is_ascii_digit()) && (s.len() == 5 || s.len() == 6);
    if !ok {
        return Err(format!(
            "Il codice ISTAT del Comune «{s}» non è valido: sono 6 cifre, ad esempio 072006."
        ));
    }
    Ok(if s.len() == 5 {
        format!("0{s}")
    } else {
        s.to_string()
    })
}

/// The spec field `campo` of table `tabella` of the same domain.
fn campo_spec<'a>(
    t: &'a TavolaRegistro,
    tabella: &str,
    campo: &str,
) -> Option<&'a flussi::spec::Campo> {
    t.dominio
        .tabella(tabella)?
        .campi
        .iter()
        .find(|c| c.nome == campo)
}

/// The table a filter's field belongs to (its own, or its parent's).
fn tabella_del_filtro(t: &TavolaRegistro, f: Filtro) -> &'static str {
    match (f, t.def.genitore) {
        (Filtro::Genitore(_), Some(g)) => g.tabella,
        _ => t.tabella.nome,
    }
}

/// A filter's value, checked against its field's type (an enumeration's values are
/// case-insensitive and stored upper case; a Comune gets its leading zero back).
fn leggi_valore(t: &TavolaRegistro, f: Filtro, v: &str) -> Result<String, String> {
    let campo = f.campo();
    match campo_spec(t, tabella_del_filtro(t, f), campo).map(|c| &c.tipo) {
        Some(Tipo::Comune) => leggi_comune(v),
        Some(Tipo::Enum(ammessi)) => {
            let s = v.to_uppercase();
            if ammessi.contains(&s.as_str()) {
                Ok(s)
            } else {
                Err(format!(
                    "Il valore «{v}» non è ammesso per {campo}: valori possibili {}.",
                    ammessi.join(", ")
                ))
            }
        }
        _ => Ok(v.chars().take(100).collect()),
    }
}

/// The register filter of a list (or an Italian message saying what is wrong). The subject's
/// scope (`ente`) is decided by the service.
pub fn filtro_da(t: &TavolaRegistro, f: &Filtri, limite: usize) -> Result<FiltroRegistro, String> {
    let mut filtro = FiltroRegistro {
        ente: Some(f.get("ente").to_string()).filter(|e| !e.is_empty()),
        alla_data: leggi_data(f.get("alla_data"))?,
        limite: limite as i64,
        ..Default::default()
    };
    for x in t.def.filtri {
        let v = f.get(x.campo());
        if v.is_empty() {
            continue;
        }
        let coppia = (x.campo().to_string(), leggi_valore(t, *x, v)?);
        match x {
            Filtro::Campo(_) => filtro.uguale.push(coppia),
            Filtro::Genitore(_) => filtro.genitore.push(coppia),
        }
    }
    let q = f.get("q").trim();
    if !q.is_empty() {
        let minimo = servizi::registro::RICERCA_MINIMA;
        if q.chars().count() < minimo {
            return Err(format!(
                "La ricerca «{q}» è troppo breve: scriva almeno {minimo} caratteri (una parte del codice, dell'indirizzo o dei dati catastali)."
            ));
        }
        filtro.cerca = Some(q.chars().take(100).collect());
    }
    let ordina = f.get("ordina");
    if !ordina.is_empty() && ordina != "chiave" {
        if !t.def.ordinabili.contains(&ordina) {
            return Err(format!("L'ordinamento «{ordina}» non è disponibile."));
        }
        filtro.ordina = Some(ordina.to_string());
    }
    let c = f.get("cursore");
    if !c.is_empty() {
        filtro.dopo = Some(decodifica_cursore(c).ok_or_else(|| {
            "Il cursore della pagina non è valido: riparta dalla prima pagina.".to_string()
        })?);
    }
    Ok(filtro)
}

/// The opaque, URL-safe cursor of a keyset position.
pub fn codifica_cursore(c: &(String, String, String)) -> String {
    let j = json!([c.0, c.1, c.2]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j)
}

/// The keyset position of a cursor, or `None` when it is not one of ours.
pub fn decodifica_cursore(s: &str) -> Option<(String, String, String)> {
    if s.len() > 2000 {
        return None;
    }
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    let (v, e, c): (String, String, String) = serde_json::from_slice(&b).ok()?;
    Some((v, e, c))
}

/// The keyset position after a row, for the sort order `ordina`.
pub fn cursore_dopo(
    t: &TavolaRegistro,
    ordina: Option<&str>,
    v: &Versione,
) -> (String, String, String) {
    let valore = match ordina {
        Some(c) if c != "chiave" => valore(t, v, c).unwrap_or_default().to_string(),
        _ => String::new(),
    };
    (valore, v.ente.clone(), v.chiave.clone())
}

/// One path segment, percent-encoded (codes may hold `/`, composite keys `|`).
pub(crate) fn segmento(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page of a record; with a date, the page of the register as it was that day (so
/// opening a row of "Registro alla data" keeps the date).
pub(crate) fn url_dettaglio(
    tabella: &str,
    ente: &str,
    chiave: &str,
    alla_data: Option<NaiveDate>,
) -> String {
    let mut u = format!(
        "/area/registro/{tabella}/{}/{}",
        segmento(ente),
        segmento(chiave)
    );
    if let Some(d) = alla_data {
        u.push_str(&format!("?alla_data={}", d.format("%Y-%m-%d")));
    }
    u
}

/// The value of a field of a version.
pub(crate) fn valore<'a>(t: &TavolaRegistro, v: &'a Versione, campo: &str) -> Option<&'a str> {
    t.tavola
        .indice(campo)
        .and_then(|i| v.campi.get(i))
        .and_then(|x| x.as_deref())
}

/// The WGS84 point (lon, lat) of a version of a table located by its own coordinates.
pub fn coordinate(t: &TavolaRegistro, v: &Versione) -> Option<(f64, f64)> {
    let Some(Posizione::Coordinate {
        latitudine,
        longitudine,
    }) = t.def.posizione
    else {
        return None;
    };
    let n = |c: &str| {
        valore(t, v, c)
            .and_then(|s| s.trim().replace(',', ".").parse::<f64>().ok())
            .filter(|x| x.is_finite())
    };
    let (lat, lon) = (n(latitudine)?, n(longitudine)?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lon, lat))
}

/// A record in one line: its code and descriptive fields («F001 – Via Roma 3»).
pub(crate) fn descrizione(t: &TavolaRegistro, v: &Versione) -> String {
    let parti: Vec<String> = t
        .def
        .descrittivi
        .iter()
        .filter_map(|c| valore(t, v, c).map(|x| mostra(t, t.tabella.nome, c, Some(x))))
        .collect();
    if parti.is_empty() {
        v.chiave.clone()
    } else {
        format!("{} – {}", v.chiave, parti.join(" "))
    }
}

/// A value as shown on a page (enumerations and yes/no readable; dates, numbers and money in
/// Italian form through [`formati`]). Coordinates keep their decimal point: they are also
/// links to maps and are written that way in GIS tools.
pub(crate) fn mostra(t: &TavolaRegistro, tabella: &str, campo: &str, v: Option<&str>) -> String {
    let Some(v) = v else {
        return String::new();
    };
    let coordinata = matches!(t.dominio.registro_di(tabella).and_then(|r| r.posizione),
        Some(Posizione::Coordinate { latitudine, longitudine }) if campo == latitudine || campo == longitudine);
    match campo_spec(t, tabella, campo).map(|c| &c.tipo) {
        Some(Tipo::Enum(_) | Tipo::Booleano) => t.dominio.etichetta_valore(tabella, campo, v),
        Some(Tipo::Data) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(formati::giorno)
            .unwrap_or_else(|_| v.to_string()),
        Some(Tipo::Denaro) => formati::euro(v).unwrap_or_else(|| v.to_string()),
        Some(Tipo::Numero { .. }) if !coordinata => {
            formati::decimale(v, 0).unwrap_or_else(|| v.to_string())
        }
        _ => v.to_string(),
    }
}

/// The CSV header: `ente`, the spec's field names, and (when asked) the validity.
pub fn csv_intestazione(t: &TavolaRegistro, validita: bool) -> String {
    let mut celle = vec!["ente"];
    celle.extend_from_slice(t.tavola.campi());
    if validita {
        celle.extend(["valido_dal", "valido_al"]);
    }
    let mut w = ScrittoreCsv::in_memoria();
    // Writing into memory cannot fail.
    let _ = w.riga(celle);
    w.testo().unwrap_or_default()
}

/// CSV rows of versions (fields in the table's order), through the platform's one CSV writer:
/// register values come from files sent by others, and a formula among them must reach the
/// spreadsheet as text.
pub fn csv_righe(out: &mut String, righe: &[Versione], validita: bool) {
    let mut w = ScrittoreCsv::in_memoria();
    for v in righe {
        let mut celle: Vec<String> = Vec::with_capacity(v.campi.len() + 3);
        celle.push(v.ente.clone());
        celle.extend(v.campi.iter().map(|c| c.clone().unwrap_or_default()));
        if validita {
            celle.push(v.valido_dal.to_string());
            celle.push(v.valido_al.map(|d| d.to_string()).unwrap_or_default());
        }
        // Writing into memory cannot fail.
        let _ = w.riga(&celle);
    }
    out.push_str(&w.testo().unwrap_or_default());
}

/// A GeoJSON feature of a version: properties `ente` and the fields (strings or null),
/// geometry the point (lon, lat) or null.
pub fn geojson_feature(t: &TavolaRegistro, v: &Versione, punto: Option<(f64, f64)>) -> Value {
    let mut p = Map::new();
    p.insert("ente".into(), Value::String(v.ente.clone()));
    for (c, x) in t.tavola.campi().iter().zip(&v.campi) {
        p.insert(
            (*c).to_string(),
            x.as_ref().map_or(Value::Null, |s| Value::String(s.clone())),
        );
    }
    let geometria = match punto {
        Some((lon, lat)) => json!({ "type": "Point", "coordinates": [lon, lat] }),
        None => Value::Null,
    };
    json!({ "type": "Feature", "geometry": geometria, "properties": p })
}

pub(crate) const GEOJSON_TESTA: &str = "{\"type\":\"FeatureCollection\",\"features\":[\n";
pub(crate) const GEOJSON_CODA: &str = "\n]}\n";

#[cfg(test)]
pub(crate) mod test {
    use super::*;
    use servizi::registro::tavola_di;

    pub(crate) fn versione(t: &TavolaRegistro, valori: &[(&str, &str)]) -> Versione {
        let mut campi = vec![None; t.tavola.campi().len()];
        for (c, v) in valori {
            campi[t.tavola.indice(c).expect("campo")] = Some((*v).to_string());
        }
        Versione {
            id: 1,
            ente: "072006".into(),
            chiave: "F/1".into(),
            valido_dal: NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(),
            valido_al: None,
            flusso_dal: 7,
            flusso_al: None,
            campi,
        }
    }

    fn filtri(v: &[(&str, &str)]) -> Filtri {
        Filtri(
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// A filter named like a list parameter (`q`, `ordina`…) could not be set.
    #[test]
    fn nessun_filtro_ha_il_nome_di_un_parametro() {
        const FISSI: &[&str] = &[
            "ente",
            "q",
            "ordina",
            "alla_data",
            "cursore",
            "limit",
            "cursor",
        ];
        for t in servizi::registro::tavole_registro() {
            assert!(
                !t.def.filtri.iter().any(|f| FISSI.contains(&f.campo())),
                "{}",
                t.tabella.nome
            );
        }
    }

    #[test]
    fn cursore_andata_e_ritorno() {
        let c = (
            "Via Roma, 3 «è»".to_string(),
            "ARCA-JON".to_string(),
            "U/1?&=".to_string(),
        );
        let s = codifica_cursore(&c);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(decodifica_cursore(&s), Some(c));
        assert_eq!(decodifica_cursore("non un cursore!"), None);
        assert_eq!(decodifica_cursore("e30"), None); // `{}`
    }

    #[test]
    fn cursore_segue_l_ordinamento() {
        let t = tavola_di("fabbricati").unwrap();
        let v = versione(t, &[("indirizzo", "Via Roma")]);
        assert_eq!(
            cursore_dopo(t, Some("indirizzo"), &v),
            ("Via Roma".into(), "072006".into(), "F/1".into())
        );
        assert_eq!(cursore_dopo(t, None, &v).0, "");
        assert_eq!(cursore_dopo(t, Some("comune_istat"), &v).0, "");
    }

    #[test]
    fn filtri_validati() {
        let fb = tavola_di("fabbricati").unwrap();
        let f = filtri(&[
            ("comune_istat", "72006"),
            ("stato_conservazione", "buono"),
            ("alla_data", "2024-02-29"),
            ("ordina", "indirizzo"),
            ("sconosciuto", "x"),
        ]);
        let r = filtro_da(fb, &f, 10).unwrap();
        assert_eq!(r.alla_data, NaiveDate::from_ymd_opt(2024, 2, 29));
        assert!(r.uguale.contains(&("comune_istat".into(), "072006".into())));
        assert!(
            r.uguale
                .contains(&("stato_conservazione".into(), "BUONO".into()))
        );
        assert_eq!(
            f.query(fb),
            "comune_istat=72006&stato_conservazione=buono&ordina=indirizzo&alla_data=2024-02-29"
        );
        let u = tavola_di("unita").unwrap();
        assert_eq!(
            filtro_da(u, &filtri(&[("comune_istat", "72006")]), 10)
                .unwrap()
                .genitore,
            vec![("comune_istat".to_string(), "072006".to_string())]
        );
        for sbagliato in [
            [("alla_data", "31/12/2024")],
            [("stato_conservazione", "OTTIMO")],
            [("ordina", "cf_proprietario; DROP")],
            [("cursore", "xyz")],
            [("comune_istat", "Bari")],
        ] {
            assert!(
                filtro_da(fb, &filtri(&sbagliato), 10).is_err(),
                "{sbagliato:?}"
            );
        }
        // Another domain's table, from its definition alone.
        let i = tavola_di("interventi").unwrap();
        let r = filtro_da(i, &filtri(&[("stato", "lavori_in_corso")]), 10).unwrap();
        assert_eq!(r.uguale, vec![("stato".into(), "LAVORI_IN_CORSO".into())]);
    }

    #[test]
    fn csv_neutralizza_le_formule() {
        let t = tavola_di("fabbricati").unwrap();
        let v = versione(
            t,
            &[
                ("codice_fabbricato", "=HYPERLINK(\"http://x\")"),
                ("indirizzo", "-2+3+cmd|' /C calc'!A0"),
            ],
        );
        let mut out = String::new();
        csv_righe(&mut out, &[v], false);
        assert!(out.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "{out}");
        assert!(out.contains(",'-2+3+cmd|' /C calc'!A0"), "{out}");
    }

    #[test]
    fn csv_con_virgolette() {
        let t = tavola_di("fabbricati").unwrap();
        let v = versione(
            t,
            &[
                ("codice_fabbricato", "F/1"),
                ("indirizzo", "Via \"Nuova\", 3"),
            ],
        );
        let testa = csv_intestazione(t, true);
        assert!(testa.starts_with("ente,codice_fabbricato,"));
        assert!(testa.ends_with(",valido_dal,valido_al\r\n"));
        let mut out = String::new();
        csv_righe(&mut out, &[v], true);
        assert!(out.starts_with("072006,F/1,"));
        assert!(out.contains(",\"Via \"\"Nuova\"\", 3\","));
        assert!(out.ends_with(",2024-01-31,\r\n"));
        assert_eq!(
            out.matches(',').count() - 1,
            testa.matches(',').count(),
            "one comma inside quotes"
        );
    }

    #[test]
    fn geojson_punto_lon_lat() {
        let t = tavola_di("fabbricati").unwrap();
        let v = versione(t, &[("latitudine", "41.1171"), ("longitudine", "16.8719")]);
        let p = coordinate(t, &v);
        assert_eq!(p, Some((16.8719, 41.1171)));
        let f = geojson_feature(t, &v, p);
        assert_eq!(f["geometry"]["coordinates"], json!([16.8719, 41.1171]));
        assert_eq!(f["properties"]["ente"], "072006");
        assert_eq!(f["properties"]["latitudine"], "41.1171");
        assert_eq!(f["properties"]["cap"], Value::Null);
        let senza = versione(t, &[("latitudine", "41.1")]);
        assert_eq!(coordinate(t, &senza), None);
        assert_eq!(geojson_feature(t, &senza, None)["geometry"], Value::Null);
        let tutto = format!("{GEOJSON_TESTA}{f}{GEOJSON_CODA}");
        let letto: Value = serde_json::from_str(&tutto).unwrap();
        assert_eq!(letto["type"], "FeatureCollection");
    }

    #[test]
    fn valori_mostrati() {
        let t = tavola_di("fabbricati").unwrap();
        assert_eq!(segmento("F/1 a"), "F%2F1%20a");
        assert_eq!(
            mostra(t, "fabbricati", "latitudine", Some("41.1171")),
            "41.1171"
        );
        assert_eq!(mostra(t, "fabbricati", "ascensore", Some("SI")), "Sì");
        assert_eq!(
            mostra(
                t,
                "unita",
                "stato_occupazione",
                Some("SFITTO_DA_RISTRUTTURARE")
            ),
            "Sfitto da ristrutturare"
        );
        assert_eq!(
            mostra(t, "unita", "canone_mensile", Some("181.00")),
            "181,00 €"
        );
        let v = versione(t, &[("indirizzo", "Via Roma"), ("numero_civico", "3")]);
        assert_eq!(descrizione(t, &v), "F/1 – Via Roma 3");
    }
}
