//! Tests of the XLSX reader on real workbooks written with rust_xlsxwriter (some then edited at
//! the XML level to produce what rust_xlsxwriter cannot write).

use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use flussi::lettori::xlsx::LettoreXlsx;
use flussi::lettori::{Cella, Continua, ErroreLettura, Evento, InfoTabella, Limiti, Sorgente};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use zip::write::SimpleFileOptions;

type Righe = Vec<(u64, Vec<Cella>)>;

/// Reads a whole sheet: the header and the (number, cells) rows.
fn leggi(
    lettore: &mut LettoreXlsx,
    foglio: &str,
) -> Result<(Option<Vec<Cella>>, Righe), ErroreLettura> {
    let mut intestazione = None;
    let mut righe = Vec::new();
    lettore.leggi(foglio, &mut |e| {
        match e {
            Evento::Intestazione(c) => {
                assert!(intestazione.is_none(), "two headers");
                intestazione = Some(c.to_vec());
            }
            Evento::Riga { numero, celle } => righe.push((numero, celle.to_vec())),
            altro => panic!("unexpected event {altro:?}"),
        }
        Continua::Si
    })?;
    Ok((intestazione, righe))
}

fn leggi_byte(bytes: Vec<u8>, foglio: &str) -> Result<(Option<Vec<Cella>>, Righe), ErroreLettura> {
    let mut lettore = LettoreXlsx::da_byte(bytes, Limiti::default())?;
    leggi(&mut lettore, foglio)
}

fn testo(s: &str) -> Cella {
    Cella::Testo(s.into())
}

fn data(y: i32, m: u32, g: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, g)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date")
}

fn nomi(v: &[&str]) -> Vec<Cella> {
    v.iter().map(|s| testo(s)).collect()
}

/// Rewrites one member of a ZIP archive with `f`, copying the others.
fn riscrivi(bytes: &[u8], membro: &str, f: impl Fn(String) -> String) -> Vec<u8> {
    let mut archivio = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut uscita = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut trovato = false;
    for i in 0..archivio.len() {
        let mut voce = archivio.by_index(i).expect("member");
        let nome = voce.name().expect("name").to_string();
        let mut contenuto = Vec::new();
        voce.read_to_end(&mut contenuto).expect("read member");
        if nome == membro {
            trovato = true;
            contenuto = f(String::from_utf8(contenuto).expect("utf-8")).into_bytes();
        }
        uscita
            .start_file(nome, SimpleFileOptions::default())
            .expect("start");
        uscita.write_all(&contenuto).expect("write");
    }
    assert!(trovato, "no member {membro}");
    uscita.finish().expect("finish").into_inner()
}

/// A workbook with one sheet per `(name, rows)`; every row is a list of strings written as text.
fn libro_testo(fogli: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut libro = Workbook::new();
    for (nome, righe) in fogli {
        let foglio = libro.add_worksheet();
        foglio.set_name(*nome).expect("name");
        for (r, riga) in righe.iter().enumerate() {
            for (c, v) in riga.iter().enumerate() {
                foglio.write_string(r as u32, c as u16, *v).expect("write");
            }
        }
    }
    libro.save_to_buffer().expect("save")
}

#[test]
fn tipi_delle_celle() {
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    foglio.set_name("unita").expect("name");
    let data_fmt = Format::new().set_num_format("dd/mm/yyyy");
    let ora_fmt = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let intestazione = [
        "codice",
        "nome",
        "piano",
        "superficie",
        "data",
        "attivo",
        "somma",
        "divisione",
        "istante",
    ];
    for (c, h) in intestazione.iter().enumerate() {
        foglio.write_string(0, c as u16, *h).expect("header");
    }
    foglio.write_string(1, 0, "U1").expect("w");
    foglio
        .write_string(1, 1, "  Ufficio «centrale»  ")
        .expect("w");
    foglio.write_number(1, 2, 41).expect("w");
    foglio.write_number(1, 3, 12.75).expect("w");
    let d = ExcelDateTime::from_ymd(2024, 3, 15).expect("date");
    foglio
        .write_datetime_with_format(1, 4, &d, &data_fmt)
        .expect("w");
    foglio.write_boolean(1, 5, true).expect("w");
    foglio
        .write_formula(1, 6, Formula::new("=1+1").set_result("2"))
        .expect("w");
    foglio
        .write_formula(1, 7, Formula::new("=1/0").set_result("#DIV/0!"))
        .expect("w");
    let t = ExcelDateTime::parse_from_str("2024-02-29 13:45:30").expect("datetime");
    foglio
        .write_datetime_with_format(1, 8, &t, &ora_fmt)
        .expect("w");
    // Row 3: text that looks like a number stays text; a false boolean; a text formula result.
    foglio.write_string(2, 0, "007").expect("w");
    foglio.write_boolean(2, 5, false).expect("w");
    foglio
        .write_formula(2, 6, Formula::new("=\"a\"&\"b\"").set_result("ab"))
        .expect("w");
    foglio
        .write_formula(2, 7, Formula::new("=NA()").set_result("#N/A"))
        .expect("w");
    let bytes = libro.save_to_buffer().expect("save");

    let mut lettore = LettoreXlsx::da_byte(bytes, Limiti::default()).expect("open");
    assert_eq!(
        lettore.tabelle().expect("tables"),
        vec![InfoTabella {
            nome: "unita".into(),
            nascosta: false
        }]
    );
    let (h, righe) = leggi(&mut lettore, "unita").expect("read");
    assert_eq!(h, Some(nomi(&intestazione)));
    assert_eq!(righe.len(), 2);
    assert_eq!(righe[0].0, 2);
    assert_eq!(
        righe[0].1,
        vec![
            testo("U1"),
            testo("  Ufficio «centrale»  "),
            Cella::Numero(41.0),
            Cella::Numero(12.75),
            Cella::Data(data(2024, 3, 15)),
            Cella::Booleano(true),
            Cella::Numero(2.0),
            Cella::Errore("#DIV/0!".into()),
            Cella::Data(
                NaiveDate::from_ymd_opt(2024, 2, 29)
                    .and_then(|d| d.and_hms_opt(13, 45, 30))
                    .expect("dt")
            ),
        ]
    );
    assert_eq!(righe[1].0, 3);
    assert_eq!(
        righe[1].1,
        vec![
            testo("007"),
            Cella::Vuota,
            Cella::Vuota,
            Cella::Vuota,
            Cella::Vuota,
            Cella::Booleano(false),
            testo("ab"),
            Cella::Errore("#N/A".into()),
            Cella::Vuota,
        ]
    );
}

#[test]
fn formula_senza_valore_calcolato() {
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    foglio.write_string(0, 0, "a").expect("w");
    foglio.write_string(0, 1, "b").expect("w");
    foglio.write_string(0, 2, "c").expect("w");
    foglio.write_number(1, 0, 3).expect("w");
    // rust_xlsxwriter writes a cached 0 by default: the XML is edited below.
    foglio.write_formula(1, 1, "=A2*2").expect("w");
    foglio.write_formula(1, 2, "=A2*3").expect("w");
    foglio
        .write_formula(2, 1, Formula::new("=A2*4").set_result("12"))
        .expect("w");
    let bytes = libro.save_to_buffer().expect("save");
    let bytes = riscrivi(&bytes, "xl/worksheets/sheet1.xml", |xml| {
        assert!(xml.contains("<f>A2*2</f><v>0</v>"), "{xml}");
        // One formula without <v>, one with an empty <v>.
        xml.replace("<f>A2*2</f><v>0</v>", "<f>A2*2</f>")
            .replace("<f>A2*3</f><v>0</v>", "<f>A2*3</f><v></v>")
    });
    let (_, righe) = leggi_byte(bytes, "Sheet1").expect("read");
    let errore = Cella::Errore("formula senza valore calcolato".into());
    assert_eq!(
        righe[0],
        (2, vec![Cella::Numero(3.0), errore.clone(), errore])
    );
    assert_eq!(
        righe[1],
        (3, vec![Cella::Vuota, Cella::Numero(12.0), Cella::Vuota])
    );
}

#[test]
fn errore_non_formula_e_codici_moderni() {
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    for (c, h) in ["a", "b", "c"].iter().enumerate() {
        foglio.write_string(0, c as u16, *h).expect("w");
    }
    for r in 1..6u32 {
        foglio.write_number(r, 0, f64::from(r)).expect("w");
        foglio
            .write_formula(r, 1, Formula::new("=NA()").set_result("#N/A"))
            .expect("w");
        foglio.write_string(r, 2, format!("t{r}")).expect("w");
    }
    let bytes = libro.save_to_buffer().expect("save");
    // Row 3: a plain error cell (no formula); rows 4 and 6: error values calamine does not know.
    let modifica = |xml: String, senza_r: bool| {
        let xml = xml
            .replacen(
                "<c r=\"B3\" t=\"e\"><f>NA()</f><v>#N/A</v></c>",
                "<c r=\"B3\" t=\"e\"><v>#REF!</v></c>",
                1,
            )
            .replacen(
                "<f>NA()</f><v>#N/A</v></c><c r=\"C4\"",
                "<f>X()</f><v>#SPILL!</v></c><c r=\"C4\"",
                1,
            )
            .replacen(
                "<f>NA()</f><v>#N/A</v></c><c r=\"C6\"",
                "<f>Y()</f><v>#CALC!</v></c><c r=\"C6\"",
                1,
            );
        assert!(
            xml.contains("#SPILL!") && xml.contains("#CALC!") && xml.contains("#REF!"),
            "{xml}"
        );
        if senza_r {
            // Without cell references the positions come from the running column only.
            let mut out = String::new();
            let mut resto = xml.as_str();
            while let Some(i) = resto.find("<c r=\"") {
                out.push_str(&resto[..i + 2]);
                let dopo = &resto[i + 6..];
                let fine = dopo.find('"').expect("quote");
                resto = dopo[fine + 1..].trim_start();
                out.push(' ');
            }
            out.push_str(resto);
            out
        } else {
            xml
        }
    };
    for senza_r in [false, true] {
        let bytes = riscrivi(&bytes, "xl/worksheets/sheet1.xml", |xml| {
            modifica(xml, senza_r)
        });
        let (h, righe) = leggi_byte(bytes, "Sheet1").expect("read");
        assert_eq!(h, Some(nomi(&["a", "b", "c"])), "senza_r={senza_r}");
        let attese: Vec<(u64, Vec<Cella>)> = (2..7u64)
            .map(|n| {
                let b = match n {
                    3 => "#REF!",
                    4 => "#SPILL!",
                    6 => "#CALC!",
                    _ => "#N/A",
                };
                (
                    n,
                    vec![
                        Cella::Numero((n - 1) as f64),
                        Cella::Errore(b.into()),
                        testo(&format!("t{}", n - 1)),
                    ],
                )
            })
            .collect();
        assert_eq!(righe, attese, "senza_r={senza_r}");
    }
}

#[test]
fn fogli_nascosti_in_ordine() {
    let mut libro = Workbook::new();
    libro
        .add_worksheet()
        .set_name("unita")
        .expect("n")
        .write_string(0, 0, "a")
        .expect("w");
    libro
        .add_worksheet()
        .set_name("nascosto")
        .expect("n")
        .set_hidden(true)
        .write_string(0, 0, "a")
        .expect("w");
    libro
        .add_worksheet()
        .set_name("fabbricati")
        .expect("n")
        .write_string(0, 0, "a")
        .expect("w");
    libro
        .add_worksheet()
        .set_name("segreto")
        .expect("n")
        .set_very_hidden(true)
        .write_string(0, 0, "a")
        .expect("w");
    let bytes = libro.save_to_buffer().expect("save");
    let mut lettore = LettoreXlsx::da_byte(bytes, Limiti::default()).expect("open");
    let tab = |nome: &str, nascosta| InfoTabella {
        nome: nome.into(),
        nascosta,
    };
    assert_eq!(
        lettore.tabelle().expect("tables"),
        vec![
            tab("unita", false),
            tab("nascosto", true),
            tab("fabbricati", false),
            tab("segreto", true)
        ]
    );
    // A hidden sheet still reads.
    let (h, righe) = leggi(&mut lettore, "segreto").expect("read");
    assert_eq!(h, Some(nomi(&["a"])));
    assert!(righe.is_empty());
    assert!(matches!(
        leggi(&mut lettore, "manca"),
        Err(ErroreLettura::Illeggibile(_))
    ));
}

#[test]
fn righe_vuote_e_numerazione() {
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    let grassetto = Format::new().set_bold();
    for (c, h) in ["a", "b"].iter().enumerate() {
        foglio.write_string(0, c as u16, *h).expect("w");
    }
    foglio.write_string(1, 0, "r2").expect("w");
    foglio.write_string(2, 1, "r3").expect("w");
    // Row 4 missing, row 5 only formatted, row 6 only blanks (white space).
    foglio.write_blank(4, 0, &grassetto).expect("w");
    foglio.write_string(5, 0, "   ").expect("w");
    foglio.write_number(6, 0, 7).expect("w");
    // Trailing rows: formatted but empty.
    for r in 7..20 {
        foglio.write_blank(r, 1, &grassetto).expect("w");
    }
    // A second sheet whose header is on row 3.
    let secondo = libro.add_worksheet();
    secondo.write_blank(0, 0, &grassetto).expect("w");
    secondo.write_string(2, 1, "x").expect("w");
    secondo.write_string(3, 1, "1").expect("w");
    let bytes = libro.save_to_buffer().expect("save");
    let mut lettore = LettoreXlsx::da_byte(bytes, Limiti::default()).expect("open");
    let (h, righe) = leggi(&mut lettore, "Sheet1").expect("read");
    assert_eq!(h, Some(nomi(&["a", "b"])));
    assert_eq!(
        righe,
        vec![
            (2, vec![testo("r2"), Cella::Vuota]),
            (3, vec![Cella::Vuota, testo("r3")]),
            (7, vec![Cella::Numero(7.0), Cella::Vuota]),
        ]
    );
    // The header is the first non-blank row; its width ends at its last non-blank cell.
    let (h, righe) = leggi(&mut lettore, "Sheet2").expect("read");
    assert_eq!(h, Some(vec![Cella::Vuota, testo("x")]));
    assert_eq!(righe, vec![(4, vec![Cella::Vuota, testo("1")])]);
}

#[test]
fn foglio_vuoto_non_da_eventi() {
    let bytes = libro_testo(&[("vuoto", &[])]);
    assert_eq!(leggi_byte(bytes, "vuoto").expect("read"), (None, vec![]));
}

#[test]
fn celle_oltre_intestazione() {
    let bytes = libro_testo(&[(
        "t",
        &[
            &["a", "b", "  "],
            &["1", "2", "oltre"],
            &["", "", "solo oltre"],
            &["3", " "],
        ],
    )]);
    let (h, righe) = leggi_byte(bytes, "t").expect("read");
    assert_eq!(h, Some(nomi(&["a", "b"])));
    assert_eq!(
        righe,
        vec![
            (2, vec![testo("1"), testo("2")]),
            // Data only beyond the header: still a row (the engine reports its missing values).
            (3, vec![Cella::Vuota, Cella::Vuota]),
            // White space is kept as written (the engine trims).
            (4, vec![testo("3"), testo(" ")]),
        ]
    );
}

#[test]
fn visita_puo_fermare() {
    let righe: Vec<Vec<String>> = (0..50).map(|i| vec![format!("v{i}")]).collect();
    let righe_ref: Vec<Vec<&str>> = righe
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let mut tutte: Vec<&[&str]> = vec![&["a"]];
    tutte.extend(righe_ref.iter().map(|r| r.as_slice()));
    let bytes = libro_testo(&[("t", &tutte)]);
    let mut lettore = LettoreXlsx::da_byte(bytes, Limiti::default()).expect("open");
    let mut eventi = 0;
    lettore
        .leggi("t", &mut |_| {
            eventi += 1;
            if eventi == 5 {
                Continua::No
            } else {
                Continua::Si
            }
        })
        .expect("read");
    assert_eq!(eventi, 5);
    // Stopping at the header.
    let mut eventi = 0;
    lettore
        .leggi("t", &mut |_| {
            eventi += 1;
            Continua::No
        })
        .expect("read");
    assert_eq!(eventi, 1);
    // The sheet can be read again from the start.
    let (_, tutte_righe) = leggi(&mut lettore, "t").expect("read");
    assert_eq!(tutte_righe.len(), 50);
    assert_eq!(tutte_righe[49], (51, vec![testo("v49")]));
}

#[test]
fn da_file() {
    let bytes = libro_testo(&[("t", &[&["a"], &["1"]])]);
    let percorso = std::env::temp_dir().join(format!("dev-xlsx-{}.xlsx", std::process::id()));
    std::fs::write(&percorso, bytes).expect("write");
    let esito =
        LettoreXlsx::da_file(&percorso, Limiti::default()).and_then(|mut l| leggi(&mut l, "t"));
    let _ = std::fs::remove_file(&percorso);
    assert_eq!(
        esito.expect("read"),
        (Some(nomi(&["a"])), vec![(2, vec![testo("1")])])
    );
    assert!(matches!(
        LettoreXlsx::da_file(
            std::path::Path::new("/nonexistent/x.xlsx"),
            Limiti::default()
        ),
        Err(ErroreLettura::Illeggibile(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

fn limite(r: Result<impl std::fmt::Debug, ErroreLettura>) -> String {
    match r {
        Err(ErroreLettura::Limite(m)) => m,
        altro => panic!("expected Limite, got {altro:?}"),
    }
}

fn illeggibile(r: Result<impl std::fmt::Debug, ErroreLettura>) -> String {
    match r {
        Err(ErroreLettura::Illeggibile(m)) => m,
        altro => panic!("expected Illeggibile, got {altro:?}"),
    }
}

#[test]
fn intestazione_troppo_larga() {
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    foglio.set_name("unita").expect("n");
    for c in 0..10_000u16 {
        foglio.write_string(0, c, format!("c{c}")).expect("w");
    }
    foglio.write_string(1, 0, "x").expect("w");
    let bytes = libro.save_to_buffer().expect("save");
    let mut lettore = LettoreXlsx::da_byte(bytes, Limiti::default()).expect("open");
    let mut eventi = 0;
    let m = limite(lettore.leggi("unita", &mut |_| {
        eventi += 1;
        Continua::Si
    }));
    assert_eq!(m, "il foglio «unita» ha 10000 colonne: il massimo è 500");
    assert_eq!(eventi, 0);
}

#[test]
fn cella_troppo_lunga() {
    let lunga = "x".repeat(100);
    let bytes = libro_testo(&[("t", &[&["a", "b"], &["ok", &lunga]])]);
    let limiti = Limiti {
        max_cella: 50,
        ..Limiti::default()
    };
    let mut lettore = LettoreXlsx::da_byte(bytes, limiti).expect("open");
    let m = limite(leggi(&mut lettore, "t"));
    assert_eq!(
        m,
        "la cella B2 del foglio «t» contiene 100 byte: il massimo è 50"
    );
}

#[test]
fn file_troppo_grande() {
    let bytes = libro_testo(&[("t", &[&["a"]])]);
    let limiti = Limiti {
        max_byte: 1000,
        ..Limiti::default()
    };
    let m = limite(LettoreXlsx::da_byte(bytes, limiti));
    assert!(
        m.starts_with("il file è di ") && m.ends_with(": il massimo è 1000 byte"),
        "{m}"
    );
}

#[test]
fn stringhe_condivise_troppo_grandi() {
    let righe: Vec<String> = (0..200).map(|i| format!("stringa numero {i}")).collect();
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    for (r, s) in righe.iter().enumerate() {
        foglio.write_string(r as u32, 0, s).expect("w");
    }
    let bytes = libro.save_to_buffer().expect("save");
    let limiti = Limiti {
        max_stringhe_condivise: 1024,
        ..Limiti::default()
    };
    let m = limite(LettoreXlsx::da_byte(bytes.clone(), limiti));
    assert!(
        m.starts_with("le stringhe condivise del file xlsx ("),
        "{m}"
    );
    // An absurd uniqueCount (calamine would reserve room for it) is refused as corrupt.
    let falso = riscrivi(&bytes, "xl/sharedStrings.xml", |xml| {
        xml.replacen("uniqueCount=\"200\"", "uniqueCount=\"900000000000\"", 1)
    });
    let m = illeggibile(LettoreXlsx::da_byte(falso, Limiti::default()));
    assert!(m.contains("stringhe condivise"), "{m}");
}

/// The bound is on memory, not on the part's size: many tiny strings cost their slot and their
/// allocation (≥ 56 bytes each), far more than their XML. A part of 25 000 one-letter strings
/// (about 250 kB of XML, 25 kB of text) is refused under a 1 MB limit, while the same number of
/// bytes in a few long strings is read.
#[test]
fn stringhe_condivise_contate_in_memoria() {
    use flussi::lettori::xlsx::MisuraStringhe;
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    foglio.write_string(0, 0, "intestazione").expect("w");
    foglio.write_string(1, 0, "x").expect("w");
    let bytes = libro.save_to_buffer().expect("save");
    let n = 25_000u64;
    let molte = riscrivi(&bytes, "xl/sharedStrings.xml", |_| {
        let mut xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">"#
        );
        for i in 0..n {
            // Distinct one- and two-letter strings, as a hostile file would hold.
            xml.push_str(&format!("<si><t>{}</t></si>", i % 97));
        }
        xml.push_str("</sst>");
        xml
    });
    let limiti = Limiti {
        max_stringhe_condivise: 1024 * 1024,
        ..Limiti::default()
    };
    // 25 000 × (24-byte slot + 32-byte block) = 1.4 MB in memory, for ~60 kB of text.
    assert!(n * (MisuraStringhe::POSTO + MisuraStringhe::blocco(2)) > 1024 * 1024);
    let m = limite(LettoreXlsx::da_byte(molte, limiti.clone()));
    assert!(
        m.starts_with("le stringhe condivise del file xlsx (") && m.contains("il massimo è 1 MB"),
        "{m}"
    );

    // The same text in a few long strings is well within the bound and reads normally.
    let lunga = "y".repeat(30_000);
    let poche = riscrivi(&bytes, "xl/sharedStrings.xml", |_| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>intestazione</t></si><si><t>{lunga}</t></si></sst>"#
        )
    });
    let mut lettore = LettoreXlsx::da_byte(poche, limiti).expect("within the bound");
    let (_, righe) = leggi(&mut lettore, "Sheet1").expect("read");
    assert_eq!(righe[0].1, vec![Cella::Testo(lunga)]);
}

/// A fake xlsx whose sheet part is `n` zero bytes: compresses about 1000:1.
fn bomba(n: usize) -> Vec<u8> {
    let mut uscita = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opzioni = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    uscita
        .start_file("[Content_Types].xml", opzioni)
        .expect("start");
    uscita.write_all(b"<Types/>").expect("write");
    uscita
        .start_file("xl/worksheets/sheet1.xml", opzioni)
        .expect("start");
    let blocco = vec![0u8; 1024 * 1024];
    let mut scritti = 0;
    while scritti < n {
        let k = blocco.len().min(n - scritti);
        uscita.write_all(&blocco[..k]).expect("write");
        scritti += k;
    }
    uscita.finish().expect("finish").into_inner()
}

#[test]
fn zip_bomb() {
    let bytes = bomba(50 * 1024 * 1024);
    assert!(bytes.len() < 200 * 1024, "compressed to {}", bytes.len());
    let m = limite(LettoreXlsx::da_byte(bytes.clone(), Limiti::default()));
    assert!(
        m.starts_with(
            "la parte «xl/worksheets/sheet1.xml» del file xlsx ha un rapporto di compressione di "
        ),
        "{m}"
    );
    assert!(m.ends_with(":1: il massimo è 200:1"), "{m}");
    // The expanded size alone.
    let limiti = Limiti {
        max_espanso: 10 * 1024 * 1024,
        max_rapporto: u64::MAX,
        ..Limiti::default()
    };
    let m = limite(LettoreXlsx::da_byte(bytes, limiti));
    assert_eq!(
        m,
        "la parte «xl/worksheets/sheet1.xml» del file xlsx espansa occupa 50 MB: il massimo è 10 MB"
    );
}

#[test]
fn scadenza() {
    let bytes = libro_testo(&[("t", &[&["a"], &["1"]])]);
    let passata = Instant::now().checked_sub(Duration::from_secs(1));
    let m = limite(LettoreXlsx::da_byte(
        bytes.clone(),
        Limiti {
            scadenza: passata,
            ..Limiti::default()
        },
    ));
    assert_eq!(
        m,
        "la lettura del file ha superato il tempo massimo consentito"
    );
    // A deadline that passes while reading.
    let mut lettore = LettoreXlsx::da_byte(
        bytes,
        Limiti {
            scadenza: Some(Instant::now() + Duration::from_millis(300)),
            ..Limiti::default()
        },
    )
    .expect("open");
    std::thread::sleep(Duration::from_millis(400));
    let m = limite(leggi(&mut lettore, "t"));
    assert_eq!(
        m,
        "la lettura del file ha superato il tempo massimo consentito"
    );
}

// ---------------------------------------------------------------------------------------------
// Unreadable files
// ---------------------------------------------------------------------------------------------

#[test]
fn byte_casuali() {
    // A small xorshift generator: deterministic "random" bytes.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..10_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    illeggibile(LettoreXlsx::da_byte(bytes.clone(), Limiti::default()));
    // Random bytes behind a ZIP signature.
    let mut con_firma = b"PK\x03\x04".to_vec();
    con_firma.extend(&bytes);
    illeggibile(LettoreXlsx::da_byte(con_firma, Limiti::default()));
    illeggibile(LettoreXlsx::da_byte(Vec::new(), Limiti::default()));
    // An OLE compound file (password-protected xlsx or old .xls).
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend(&bytes);
    let m = illeggibile(LettoreXlsx::da_byte(ole, Limiti::default()));
    assert!(m.contains("password"), "{m}");
}

#[test]
fn xlsx_troncato() {
    let bytes = libro_testo(&[("t", &[&["a"], &["1"]])]);
    for taglio in [bytes.len() / 2, bytes.len() - 10, 100] {
        illeggibile(LettoreXlsx::da_byte(
            bytes[..taglio].to_vec(),
            Limiti::default(),
        ));
    }
}

#[test]
fn zip_che_non_e_xlsx() {
    let mut uscita = zip::ZipWriter::new(Cursor::new(Vec::new()));
    uscita
        .start_file("dati.csv", SimpleFileOptions::default())
        .expect("start");
    uscita.write_all(b"a;b\n1;2\n").expect("write");
    let bytes = uscita.finish().expect("finish").into_inner();
    illeggibile(LettoreXlsx::da_byte(bytes, Limiti::default()));
}

#[test]
fn foglio_danneggiato() {
    let bytes = libro_testo(&[("t", &[&["a"], &["1"], &["2"]])]);
    // Truncated sheet XML (the archive itself is valid).
    let rotto = riscrivi(&bytes, "xl/worksheets/sheet1.xml", |xml| {
        let i = xml.find("<row r=\"3\"").expect("row 3");
        xml[..i + 5].to_string()
    });
    let mut lettore = LettoreXlsx::da_byte(rotto, Limiti::default()).expect("open");
    let m = illeggibile(leggi(&mut lettore, "t"));
    assert_eq!(
        m,
        "il foglio «t» non è leggibile: il file xlsx è danneggiato o incompleto"
    );
    // An absurd cell reference makes calamine overflow (a panic in debug builds).
    let assurdo = riscrivi(&bytes, "xl/worksheets/sheet1.xml", |xml| {
        xml.replacen("r=\"A2\"", "r=\"ZZZZZZZZZZZZZZ2\"", 1)
    });
    if let Ok(mut lettore) = LettoreXlsx::da_byte(assurdo, Limiti::default()) {
        // Either refused or read: never a panic out of the reader.
        let esito = leggi(&mut lettore, "t");
        assert!(
            esito.is_ok() || matches!(esito, Err(ErroreLettura::Illeggibile(_))),
            "{esito:?}"
        );
    }
    // A huge row number.
    let assurdo = riscrivi(&bytes, "xl/worksheets/sheet1.xml", |xml| {
        xml.replace("r=\"3\"", "r=\"99999999999999\"")
            .replace("r=\"A3\"", "r=\"A99999999999999\"")
    });
    if let Ok(mut lettore) = LettoreXlsx::da_byte(assurdo, Limiti::default()) {
        let esito = leggi(&mut lettore, "t");
        assert!(
            esito.is_ok() || matches!(esito, Err(ErroreLettura::Illeggibile(_))),
            "{esito:?}"
        );
    }
}

/// Rewrites the declared expanded size of a member, in the central directory and in the local
/// header (a lying archive).
fn falsifica_dimensione(bytes: &mut [u8], membro: &str, dimensione: u32) {
    let nome = membro.as_bytes();
    let le16 = |b: &[u8], i: usize| usize::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let mut patch = 0;
    let mut i = 0;
    while i + 46 <= bytes.len() {
        if bytes[i..].starts_with(b"PK\x01\x02") {
            let n = le16(bytes, i + 28);
            if bytes.get(i + 46..i + 46 + n) == Some(nome) {
                bytes[i + 24..i + 28].copy_from_slice(&dimensione.to_le_bytes());
                patch += 1;
            }
        } else if bytes[i..].starts_with(b"PK\x03\x04") {
            let n = le16(bytes, i + 26);
            if bytes.get(i + 30..i + 30 + n) == Some(nome) {
                bytes[i + 22..i + 26].copy_from_slice(&dimensione.to_le_bytes());
                patch += 1;
            }
        }
        i += 1;
    }
    assert_eq!(patch, 2, "central and local headers of {membro}");
}

#[test]
fn dimensione_dichiarata_falsa() {
    let bytes = libro_testo(&[("t", &[&["a"], &["1"]])]);
    // 5 MB of white space inside the sheet data (valid XML), declared as 100 000 bytes: under
    // every limit, but the zip crate stops expanding at the declared size.
    let gonfio = riscrivi(&bytes, "xl/worksheets/sheet1.xml", |xml| {
        xml.replacen(
            "<sheetData>",
            &format!("<sheetData>{}", " ".repeat(5 << 20)),
            1,
        )
    });
    let mut falso = gonfio.clone();
    falsifica_dimensione(&mut falso, "xl/worksheets/sheet1.xml", 100_000);
    let mut lettore = LettoreXlsx::da_byte(falso, Limiti::default()).expect("open");
    let m = illeggibile(leggi(&mut lettore, "t"));
    assert_eq!(
        m,
        "il foglio «t» non è leggibile: il file xlsx è danneggiato o incompleto"
    );
    // The honest archive is refused for its ratio, and reads when the ratio is allowed.
    limite(LettoreXlsx::da_byte(gonfio.clone(), Limiti::default()));
    let limiti = Limiti {
        max_rapporto: 10_000,
        ..Limiti::default()
    };
    let mut lettore = LettoreXlsx::da_byte(gonfio, limiti).expect("open");
    let (h, righe) = leggi(&mut lettore, "t").expect("read");
    assert_eq!(
        (h, righe),
        (Some(nomi(&["a"])), vec![(2, vec![testo("1")])])
    );
}
