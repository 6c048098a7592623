//! XLSX workbooks (README §4, `validazione.md` §2): one sheet per table, first row = field
//! names; typed cells (numbers, dates, booleans) read by the same value rules; a formula counts
//! by its cached result, a formula without one is a `tipo` error; hidden sheets are ignored with
//! a `tabella_sconosciuta` warning; the same data gives the same issues as a ZIP of CSV.
//!
//! Workbooks are written with `rust_xlsxwriter` (and, for a formula with no cached result,
//! patched afterwards: no writer leaves one out on purpose).

mod aiuto_flussi;

use std::io::{Cursor, Read, Write};

use aiuto_flussi::*;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

/// A cell of a workbook fixture.
#[derive(Clone, Debug)]
enum C {
    Vuota,
    T(String),
    N(f64),
    D(NaiveDate),
    B(bool),
    /// A formula with its cached result.
    F(&'static str, &'static str),
    /// A formula with no cached result.
    FSenza(&'static str),
}

fn tc(s: &str) -> C {
    C::T(s.to_string())
}

struct Foglio {
    nome: String,
    nascosto: bool,
    righe: Vec<Vec<C>>,
}

impl Foglio {
    fn new(nome: &str, righe: Vec<Vec<C>>) -> Foglio {
        Foglio {
            nome: nome.to_string(),
            nascosto: false,
            righe,
        }
    }
    fn nascosto(mut self) -> Foglio {
        self.nascosto = true;
        self
    }
}

/// Marker of the formulas whose cached result is removed after writing.
const SENZA_RISULTATO: &str = "<v>__SENZA_RISULTATO__</v>";

fn cartella(fogli: &[Foglio]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let data = Format::new().set_num_format("dd/mm/yyyy");
    for f in fogli {
        let ws = wb.add_worksheet();
        ws.set_name(&f.nome).unwrap();
        if f.nascosto {
            ws.set_hidden(true);
        }
        for (r, riga) in f.righe.iter().enumerate() {
            let r = r as u32;
            for (c, cella) in riga.iter().enumerate() {
                let c = c as u16;
                match cella {
                    C::Vuota => {}
                    C::T(s) => {
                        ws.write_string(r, c, s).unwrap();
                    }
                    C::N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    C::D(d) => {
                        let x = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .unwrap();
                        ws.write_datetime_with_format(r, c, &x, &data).unwrap();
                    }
                    C::B(b) => {
                        ws.write_boolean(r, c, *b).unwrap();
                    }
                    C::F(f, risultato) => {
                        ws.write_formula(r, c, Formula::new(*f).set_result(*risultato))
                            .unwrap();
                    }
                    C::FSenza(f) => {
                        ws.write_formula(r, c, Formula::new(*f).set_result("__SENZA_RISULTATO__"))
                            .unwrap();
                    }
                }
            }
        }
    }
    let byte = wb.save_to_buffer().unwrap();
    senza_risultati(&byte)
}

/// Removes the cached result of the marked formulas (`<c r="A1" t="str"><f>…</f><v>marker</v>
/// </c>` → `<c r="A1"><f>…</f></c>`).
fn senza_risultati(xlsx: &[u8]) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for i in 0..z.len() {
        let mut m = z.by_index(i).unwrap();
        let nome = m.name().unwrap().to_string();
        let mut v = Vec::new();
        m.read_to_end(&mut v).unwrap();
        if nome.starts_with("xl/worksheets/") {
            let mut s = String::from_utf8(v).unwrap();
            while let Some(i) = s.find(SENZA_RISULTATO) {
                let inizio = s[..i].rfind("<c ").unwrap();
                s.replace_range(i..i + SENZA_RISULTATO.len(), "");
                let apertura = inizio + s[inizio..].find('>').unwrap();
                let tag = s[inizio..apertura].replace(" t=\"str\"", "");
                s.replace_range(inizio..apertura, &tag);
            }
            v = s.into_bytes();
        }
        w.start_file(nome, o).unwrap();
        w.write_all(&v).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A table as a sheet: text cells, or typed cells as a spreadsheet user would get them.
fn foglio(dominio: &str, t: &Tabella, tipizza: bool) -> Foglio {
    let spec = flussi::spec::dominio(dominio).unwrap().tabella(&t.nome);
    let mut righe = vec![t.colonne.iter().map(|c| tc(c)).collect::<Vec<_>>()];
    for r in &t.righe {
        righe.push(
            t.colonne
                .iter()
                .zip(r)
                .map(|(col, v)| {
                    let tipo = spec.and_then(|s| s.indice(col).map(|i| &s.campi[i].tipo));
                    cella(v, if tipizza { tipo } else { None })
                })
                .collect(),
        );
    }
    Foglio::new(&t.nome, righe)
}

/// The cell a spreadsheet holds for a text typed by a person: numbers become numeric cells (a
/// comune's leading zero is lost), dates date cells, SI/NO stay text unless boolean.
fn cella(v: &str, tipo: Option<&flussi::spec::Tipo>) -> C {
    use flussi::spec::Tipo;
    if v.trim().is_empty() {
        return C::Vuota;
    }
    let numero = || v.replace(',', ".").parse::<f64>().ok();
    match tipo {
        Some(Tipo::Intero | Tipo::Numero { .. } | Tipo::Denaro) => {
            numero().map(C::N).unwrap_or_else(|| tc(v))
        }
        Some(Tipo::Data) => {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y"));
            d.map(C::D).unwrap_or_else(|_| tc(v))
        }
        Some(Tipo::Booleano) => match v.to_ascii_uppercase().as_str() {
            "SI" | "S" => C::B(true),
            "NO" | "N" => C::B(false),
            _ => tc(v),
        },
        Some(Tipo::Comune) | Some(Tipo::Modello(_)) | Some(Tipo::Codice)
            if v.bytes().all(|b| b.is_ascii_digit()) && v.len() < 15 =>
        {
            C::N(v.parse().unwrap())
        }
        _ => tc(v),
    }
}

fn cartella_da(dominio: &str, tabelle: &[Tabella], tipizza: bool) -> Vec<u8> {
    let fogli: Vec<Foglio> = tabelle
        .iter()
        .map(|t| foglio(dominio, t, tipizza))
        .collect();
    cartella(&fogli)
}

fn chiavi_di(r: &flussi::Report) -> Vec<Chiave> {
    r.segnalazioni
        .iter()
        .map(|s| (s.tabella.clone(), s.riga, s.campo.clone(), s.codice.clone()))
        .collect()
}

// =============================================================================================

#[test]
fn xlsx_valido_senza_segnalazioni() {
    let t = patrimonio(&[&[]], &[&[]]);
    let r = valida(
        "flusso.xlsx",
        cartella_da("patrimonio", &t, false),
        "patrimonio",
    );
    esattamente(&r, &[]);
    assert_eq!(
        r.tabelle
            .iter()
            .map(|(t, i)| (t.as_str(), i.righe))
            .collect::<Vec<_>>(),
        [("fabbricati", 1), ("unita", 1)]
    );
}

#[test]
fn xlsx_celle_di_testo_come_zip() {
    let t = patrimonio_insidioso();
    let zip = valida_tabelle("patrimonio", &t, &opzioni());
    let x = valida(
        "flusso.xlsx",
        cartella_da("patrimonio", &t, false),
        "patrimonio",
    );
    invarianti(&x);
    assert_eq!(chiavi_di(&x), chiavi_di(&zip));
    assert_eq!(voci(&x), voci(&zip));
}

#[test]
fn xlsx_celle_tipizzate_come_zip() {
    // Numbers, dates and booleans as typed cells, 72006 as a number without its zero.
    let t = patrimonio_insidioso();
    let zip = valida_tabelle("patrimonio", &t, &opzioni());
    let x = valida(
        "flusso.xlsx",
        cartella_da("patrimonio", &t, true),
        "patrimonio",
    );
    invarianti(&x);
    assert_eq!(chiavi_di(&x), chiavi_di(&zip));
    let t = contabilita_insidiosa();
    let o = opzioni_con_riferimenti(&["PRU-2010"], &["F1"]);
    let zip = valida_tabelle("contabilita", &t, &o);
    let x = valida_con(
        "flusso.xlsx",
        cartella_da("contabilita", &t, true),
        "contabilita",
        &o,
    );
    invarianti(&x);
    assert_eq!(chiavi_di(&x), chiavi_di(&zip));
}

#[test]
fn xlsx_valori_delle_celle_tipizzate() {
    let t = patrimonio(&[&[]], &[&[]]);
    let mut f = foglio("patrimonio", &t[0], true);
    let mut u = foglio("patrimonio", &t[1], true);
    let col = |t: &Tabella, c: &str| t.colonne.iter().position(|x| x == c).unwrap();
    // A Comune as a number (leading zero lost), a boolean cell, a sheet number.
    f.righe[1][col(&t[0], "comune_istat")] = C::N(72006.0);
    f.righe[1][col(&t[0], "ascensore")] = C::B(true);
    f.righe[1][col(&t[0], "foglio")] = C::N(41.0);
    // A fractional number in an integer field; a future date cell; a date cell where a
    // number is expected.
    u.righe[1][col(&t[1], "numero_occupanti")] = C::N(2.5);
    u.righe[1][col(&t[1], "data_assegnazione")] =
        C::D(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
    u.righe[1][col(&t[1], "canone_mensile")] = C::D(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
    u.righe[1][col(&t[1], "subalterno")] = C::N(1.0);
    let r = valida("flusso.xlsx", cartella(&[f, u]), "patrimonio");
    esattamente(
        &r,
        &[
            e(
                "unita",
                2,
                "data_assegnazione",
                Some("2027-01-01"),
                "data_futura",
            ),
            e("unita", 2, "canone_mensile", Some("2020-01-01"), "tipo"),
            e("unita", 2, "numero_occupanti", Some("2.5"), "tipo"),
        ],
    );
}

#[test]
fn xlsx_formula_con_risultato_conta_il_risultato() {
    let t = patrimonio(&[&[]], &[&[]]);
    let mut u = foglio("patrimonio", &t[1], false);
    let col = |c: &str| t[1].colonne.iter().position(|x| x == c).unwrap();
    u.righe[1][col("canone_mensile")] = C::F("100+20.5", "120.5");
    u.righe[1][col("superficie_utile_mq")] = C::F("10*2", "20");
    u.righe[1][col("tipologia")] = C::F("\"ALLOG\"&\"GIO\"", "ALLOGGIO");
    let r = valida(
        "flusso.xlsx",
        cartella(&[foglio("patrimonio", &t[0], false), u]),
        "patrimonio",
    );
    // 20 m² (the cached result) is an anomalous dwelling; the rest is valid.
    esattamente(
        &r,
        &[a(
            "unita",
            2,
            "superficie_utile_mq",
            Some("20"),
            "valore_anomalo",
        )],
    );
}

#[test]
fn xlsx_formula_senza_risultato_e_tipo() {
    let t = patrimonio(&[&[]], &[&[]]);
    let mut u = foglio("patrimonio", &t[1], false);
    let col = |c: &str| t[1].colonne.iter().position(|x| x == c).unwrap();
    u.righe[1][col("canone_mensile")] = C::FSenza("100+20.5");
    let x = cartella(&[foglio("patrimonio", &t[0], false), u]);
    let r = valida("flusso.xlsx", x, "patrimonio");
    invarianti(&r);
    let tipo: Vec<_> = voci_di(&r, "tipo")
        .into_iter()
        .map(|v| (v.0, v.1, v.2, v.5))
        .collect();
    assert_eq!(
        tipo,
        [(
            Some("unita".to_string()),
            Some(2),
            Some("canone_mensile".to_string()),
            "errore".to_string()
        )]
    );
    assert_eq!(r.segnalazioni.len(), 1, "{:?}", voci(&r));
}

#[test]
fn xlsx_cella_con_errore_e_tipo() {
    let t = patrimonio(&[&[]], &[&[]]);
    let mut u = foglio("patrimonio", &t[1], false);
    let col = |c: &str| t[1].colonne.iter().position(|x| x == c).unwrap();
    u.righe[1][col("rendita_catastale")] = C::F("1/0", "#DIV/0!");
    let r = valida(
        "flusso.xlsx",
        cartella(&[foglio("patrimonio", &t[0], false), u]),
        "patrimonio",
    );
    assert_eq!(
        chiavi_di(&r),
        [(
            Some("unita".to_string()),
            Some(2),
            Some("rendita_catastale".to_string()),
            "tipo".to_string()
        )]
    );
}

#[test]
fn xlsx_foglio_nascosto_ignorato_con_avviso() {
    let t = patrimonio(&[&[]], &[&[]]);
    // A hidden `complessi` full of errors: ignored, with a warning.
    let c = Tabella::della_spec("patrimonio", "complessi")
        .riga_da(COMPLESSO, &[("comune_istat", "999999")]);
    // (Not as the first sheet: the active sheet cannot be hidden.)
    let fogli = vec![
        foglio("patrimonio", &t[0], false),
        foglio("patrimonio", &t[1], false),
        foglio("patrimonio", &c, false).nascosto(),
        Foglio::new("appunti", vec![vec![tc("nota")], vec![tc("da rivedere")]]).nascosto(),
    ];
    let r = valida("flusso.xlsx", cartella(&fogli), "patrimonio");
    invarianti(&r);
    let mut trovate = voci(&r);
    trovate.sort();
    assert_eq!(
        trovate,
        [
            v(
                Some("appunti"),
                None,
                None,
                None,
                "tabella_sconosciuta",
                "avviso"
            ),
            v(
                Some("complessi"),
                None,
                None,
                None,
                "tabella_sconosciuta",
                "avviso"
            ),
        ]
    );
    assert!(r.valido);
    assert!(r.tabelle.iter().all(|(t, _)| t != "complessi"));
}

#[test]
fn xlsx_fogli_sconosciuti_e_nomi_senza_maiuscole() {
    let t = patrimonio(&[&[]], &[&[]]);
    let mut f = foglio("patrimonio", &t[0], false);
    f.nome = "FABBRICATI".into();
    let mut u = foglio("patrimonio", &t[1], false);
    u.nome = "Unita".into();
    u.righe[0][0] = tc(" Codice_Unita ");
    let altro = Foglio::new("Foglio3", vec![]);
    let r = valida("flusso.xlsx", cartella(&[f, u, altro]), "patrimonio");
    esattamente(
        &r,
        &[v(
            Some("Foglio3"),
            None,
            None,
            None,
            "tabella_sconosciuta",
            "avviso",
        )],
    );
}

#[test]
fn xlsx_intestazioni_mancanti_duplicate_sconosciute() {
    let t = patrimonio(&[&[]], &[&[]]);
    let f = foglio("patrimonio", &t[0].clone().senza("indirizzo"), false);
    let mut u = foglio("patrimonio", &t[1], false);
    u.righe[0].push(tc("foglio"));
    u.righe[1].push(C::N(41.0));
    u.righe[0].push(tc("nominativo"));
    u.righe[1].push(tc("Rossi"));
    let r = valida("flusso.xlsx", cartella(&[f, u]), "patrimonio");
    solo_di(
        &r,
        "campo_mancante",
        &[v(
            Some("fabbricati"),
            None,
            Some("indirizzo"),
            None,
            "campo_mancante",
            "errore",
        )],
    );
    solo_di(
        &r,
        "campo_duplicato",
        &[v(
            Some("unita"),
            None,
            Some("foglio"),
            None,
            "campo_duplicato",
            "errore",
        )],
    );
    solo_di(
        &r,
        "campo_sconosciuto",
        &[v(
            Some("unita"),
            None,
            Some("nominativo"),
            None,
            "campo_sconosciuto",
            "avviso",
        )],
    );
}

#[test]
fn xlsx_righe_vuote_non_cambiano_la_numerazione() {
    // Rows 3 and 4 empty: the unit in row 5 keeps its spreadsheet number.
    let t = patrimonio(
        &[&[]],
        &[&[], &[("codice_unita", "U2"), ("subalterno", "2a")]],
    );
    let mut u = foglio("patrimonio", &t[1], false);
    let ultima = u.righe.pop().unwrap();
    u.righe.push(vec![]);
    u.righe.push(vec![C::Vuota, C::Vuota]);
    u.righe.push(ultima);
    let r = valida(
        "flusso.xlsx",
        cartella(&[foglio("patrimonio", &t[0], false), u]),
        "patrimonio",
    );
    esattamente(&r, &[e("unita", 5, "subalterno", Some("2a"), "formato")]);
    assert_eq!(r.tabelle[1].1.righe, 2);
}

#[test]
fn xlsx_tabella_vuota_e_mancante() {
    let t = patrimonio(&[], &[&[]]);
    let r = valida(
        "flusso.xlsx",
        cartella(&[foglio("patrimonio", &t[0], false)]),
        "patrimonio",
    );
    esattamente(
        &r,
        &[
            v(
                Some("fabbricati"),
                None,
                None,
                None,
                "tabella_vuota",
                "errore",
            ),
            v(
                Some("unita"),
                None,
                None,
                None,
                "tabella_mancante",
                "errore",
            ),
        ],
    );
}

#[test]
fn xlsx_modello_vuoto_della_piattaforma() {
    // The blank template of `push spec --formato xlsx`: only the mandatory tables are
    // reported as empty; its LEGGIMI sheet is not a table.
    for (dominio, vuote) in [
        ("patrimonio", vec!["fabbricati", "unita"]),
        ("contabilita", vec!["interventi"]),
        ("programmi", vec!["programmi"]),
    ] {
        let d = flussi::spec::dominio(dominio).unwrap();
        let x = flussi::esporta::modello_xlsx(d).unwrap();
        let r = valida("modello.xlsx", x, dominio);
        let attese: Vec<Voce> = vuote
            .iter()
            .map(|t| v(Some(t), None, None, None, "tabella_vuota", "errore"))
            .collect();
        let mut trovate = voci(&r);
        trovate.retain(|v| v.4 != "controllo_non_eseguito");
        assert_eq!(trovate, attese, "{dominio}");
    }
}

#[test]
fn xlsx_intestazione_troppo_larga() {
    let mut intestazione: Vec<C> = Tabella::della_spec("programmi", "programmi")
        .colonne
        .iter()
        .map(|c| tc(c))
        .collect();
    intestazione.extend((0..10_000).map(|i| tc(&format!("colonna_{i}"))));
    let x = cartella(&[Foglio::new("programmi", vec![intestazione])]);
    let r = valida("programmi.xlsx", x, "programmi");
    solo_di(
        &r,
        "limite_superato",
        &[v(
            Some("programmi"),
            None,
            None,
            None,
            "limite_superato",
            "errore",
        )],
    );
}

#[test]
fn xlsx_riconosciuto_dal_contenuto_e_xlsm() {
    let t = patrimonio(&[&[]], &[&[("subalterno", "x")]]);
    let x = cartella_da("patrimonio", &t, false);
    for nome in ["flusso", "flusso.bin", "flusso.XLSM", "Flusso.XLSX"] {
        let r = valida(nome, x.clone(), "patrimonio");
        esattamente(&r, &[e("unita", 2, "subalterno", Some("x"), "formato")]);
    }
}

#[test]
fn xlsx_danneggiato_e_file_illeggibile() {
    // Not a ZIP at all.
    let r = valida(
        "flusso.xlsx",
        b"questo non e' un file excel".to_vec(),
        "patrimonio",
    );
    esattamente(
        &r,
        &[v(None, None, None, None, "file_illeggibile", "errore")],
    );
}

#[test]
fn xlsx_troncato_e_file_illeggibile() {
    let x = cartella_da("patrimonio", &patrimonio(&[&[]], &[&[]]), false);
    let r = valida("flusso.xlsx", x[..x.len() / 2].to_vec(), "patrimonio");
    esattamente(
        &r,
        &[v(None, None, None, None, "file_illeggibile", "errore")],
    );
}

#[test]
fn xlsx_firmato_p7m() {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::cms::{CMSOptions, CmsContentInfo};
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509, X509NameBuilder};
    let k = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_text("CN", "Maria Bianchi").unwrap();
    let n = n.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(9).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&n).unwrap();
    b.set_issuer_name(&n).unwrap();
    b.set_pubkey(&k).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.sign(&k, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    let x = cartella_da(
        "patrimonio",
        &patrimonio(&[&[]], &[&[("subalterno", "x")]]),
        false,
    );
    let p7m = CmsContentInfo::sign(Some(&cert), Some(&k), None, Some(&x), CMSOptions::BINARY)
        .unwrap()
        .to_der()
        .unwrap();
    let r = valida("flusso.xlsx.p7m", p7m, "patrimonio");
    esattamente(&r, &[e("unita", 2, "subalterno", Some("x"), "formato")]);
    assert_eq!(
        r.firma.as_ref().and_then(|f| f.firmatario.as_deref()),
        Some("Maria Bianchi")
    );
}
