//! One test (at least) for every code of the specification (`validazione.md` §4 and the checks
//! of `flusso-patrimonio.md` and `flusso-contabilita.md`), asserting the exact `codice`,
//! `gravita`, `tabella`, `riga`, `campo` and `valore`; then the general rules: one issue per
//! value in the stated priority, row checks skipped when a value they need failed, the report
//! order, the 10 000 cap, the running sums "in order", and the container details (BOM, CRLF,
//! quotes, encodings, limits).
//!
//! Fixtures are built in code (see `aiuto_flussi`); "today" is fixed at 26/11/2026.

mod aiuto_flussi;

use aiuto_flussi::*;
use flussi::Dichiarante;

const ERR: &str = "errore";
const AVV: &str = "avviso";

fn pat(fabbricati: &[&[(&str, &str)]], unita: &[&[(&str, &str)]]) -> flussi::Report {
    valida_tabelle("patrimonio", &patrimonio(fabbricati, unita), &opzioni())
}

fn pat_con(
    fabbricati: &[&[(&str, &str)]],
    unita: &[&[(&str, &str)]],
    o: &flussi::Opzioni,
) -> flussi::Report {
    valida_tabelle("patrimonio", &patrimonio(fabbricati, unita), o)
}

#[allow(clippy::type_complexity)]
fn cont(
    interventi: &[&[(&str, &str)]],
    sal: &[&[(&str, &str)]],
    erogazioni: &[&[(&str, &str)]],
    pagamenti: &[&[(&str, &str)]],
    interventi_fabbricati: &[&[(&str, &str)]],
) -> flussi::Report {
    valida_tabelle(
        "contabilita",
        &contabilita(
            interventi,
            sal,
            erogazioni,
            pagamenti,
            interventi_fabbricati,
        ),
        &opzioni_contabilita(),
    )
}

/// Only interventions (other tables written with their header and no rows).
fn interventi(righe: &[&[(&str, &str)]]) -> flussi::Report {
    cont(righe, &[], &[], &[], &[])
}

/// Deterministic pseudo-random bytes.
fn byte_casuali(n: usize, seme: u64) -> Vec<u8> {
    let mut x = seme;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

fn file(codice: &str) -> Voce {
    v(None, None, None, None, codice, ERR)
}

fn tab(tabella: &str, codice: &str, gravita: &str) -> Voce {
    v(Some(tabella), None, None, None, codice, gravita)
}

fn col(tabella: &str, campo: &str, codice: &str, gravita: &str) -> Voce {
    v(Some(tabella), None, Some(campo), None, codice, gravita)
}

// =============================================================================================
// Baselines: the base rows are valid, so every other test can assert exact lists.
// =============================================================================================

#[test]
fn base_patrimonio_valida() {
    let r = pat(&[&[]], &[&[]]);
    esattamente(&r, &[]);
    assert!(r.valido);
    assert_eq!(r.dominio, "patrimonio");
    assert_eq!(
        r.tabelle
            .iter()
            .map(|(t, i)| (t.as_str(), i.righe))
            .collect::<Vec<_>>(),
        vec![("fabbricati", 1), ("unita", 1)]
    );
}

#[test]
fn base_patrimonio_con_complessi_valida() {
    let mut t = patrimonio(&[&[("codice_complesso", "C1")]], &[&[]]);
    t.insert(
        0,
        Tabella::della_spec("patrimonio", "complessi").riga(COMPLESSO),
    );
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(&r, &[]);
    assert_eq!(
        r.tabelle
            .iter()
            .map(|(t, i)| (t.as_str(), i.righe))
            .collect::<Vec<_>>(),
        vec![("complessi", 1), ("fabbricati", 1), ("unita", 1)]
    );
}

#[test]
fn base_contabilita_valida() {
    let r = cont(&[&[]], &[&[]], &[&[]], &[&[("numero_sal", "1")]], &[&[]]);
    esattamente(&r, &[]);
    assert!(r.valido);
    assert_eq!(r.tabelle.len(), 5);
}

#[test]
fn base_programmi_csv_singolo_accettato() {
    let t = programmi(&[&[], &[("codice_programma", "PINQUA-2021")]]);
    let r = valida("programmi.csv", csv(&t, ';'), "programmi");
    esattamente(&r, &[]);
    assert_eq!(r.tabelle[0].0, "programmi");
    assert_eq!(r.tabelle[0].1.righe, 2);
    // Any file name will do for the single table.
    let r = valida("elenco regionale.csv", csv(&t, ','), "programmi");
    esattamente(&r, &[]);
    assert_eq!(r.tabelle[0].1.righe, 2);
}

// =============================================================================================
// File and structure codes.
// =============================================================================================

#[test]
fn file_illeggibile_zip_troncato() {
    let z = zip_csv(&patrimonio(&[&[]], &[&[]]), ';');
    let r = valida("flusso.zip", z[..z.len() / 2].to_vec(), "patrimonio");
    esattamente(&r, &[file("file_illeggibile")]);
    assert!(!r.valido);
    assert!(r.tabelle.is_empty());
}

#[test]
fn file_illeggibile_byte_casuali() {
    let r = valida("flusso.zip", byte_casuali(5000, 7), "patrimonio");
    esattamente(&r, &[file("file_illeggibile")]);
    // Random bytes after a ZIP signature.
    let mut b = b"PK\x03\x04".to_vec();
    b.extend(byte_casuali(5000, 8));
    let r = valida("flusso.zip", b, "patrimonio");
    esattamente(&r, &[file("file_illeggibile")]);
}

#[test]
fn file_illeggibile_json_non_valido() {
    let r = valida(
        "flusso.json",
        br#"{"fabbricati": [{"codice_fabbricato": "F1",}"#.to_vec(),
        "patrimonio",
    );
    esattamente(&r, &[file("file_illeggibile")]);
    let r = valida("flusso.json", b"[1, 2, 3]".to_vec(), "patrimonio");
    esattamente(&r, &[file("file_illeggibile")]);
}

#[test]
fn formato_non_supportato_xls_e_ods() {
    for nome in ["flusso.xls", "FLUSSO.XLS", "flusso.ods"] {
        let r = valida(nome, byte_casuali(2000, 3), "patrimonio");
        esattamente(&r, &[file("formato_non_supportato")]);
    }
}

#[test]
fn formato_non_supportato_estensione_sconosciuta() {
    let r = valida("flusso.pdf", byte_casuali(2000, 4), "patrimonio");
    esattamente(&r, &[file("formato_non_supportato")]);
}

#[test]
fn formato_non_supportato_csv_singolo_per_patrimonio() {
    let t = patrimonio(&[&[]], &[&[]]);
    let r = valida("fabbricati.csv", csv(&t[0], ';'), "patrimonio");
    esattamente(&r, &[file("formato_non_supportato")]);
    let r = valida("unita.csv", csv(&t[1], ';'), "patrimonio");
    esattamente(&r, &[file("formato_non_supportato")]);
}

#[test]
fn csv_singolo_per_contabilita_accettato() {
    // `contabilita` needs only one table (`interventi`): a single CSV is accepted.
    let t = contabilita(&[&[]], &[], &[], &[], &[]);
    let r = valida_con(
        "interventi.csv",
        csv(&t[0], ';'),
        "contabilita",
        &opzioni_contabilita(),
    );
    esattamente(&r, &[]);
    assert_eq!(r.tabelle[0].0, "interventi");
}

#[test]
fn codifica_non_valida_csv_latin1() {
    let mut testo = csv(
        &programmi(&[&[("denominazione", "Programma per la città")]]),
        ';',
    );
    // «à» in Latin-1 is the single byte E0.
    let utf8 = "à".as_bytes();
    let i = testo.windows(2).position(|w| w == utf8).unwrap();
    testo.splice(i..i + 2, [0xE0u8]);
    let r = valida("programmi.csv", testo, "programmi");
    solo_di(
        &r,
        "codifica_non_valida",
        &[tab("programmi", "codifica_non_valida", ERR)],
    );
    assert!(!r.valido);
}

#[test]
fn lettura_interrotta_senza_riferimenti_mancanti() {
    // The second building is written in Latin-1: reading `fabbricati` stops there; the unit
    // of that building must not be reported as referring to a missing building.
    let t = patrimonio(
        &[
            &[],
            &[("codice_fabbricato", "F2"), ("indirizzo", "Via Libertà")],
        ],
        &[&[], &[("codice_unita", "U2"), ("codice_fabbricato", "F2")]],
    );
    let mut f = csv(&t[0], ';');
    let i = f.windows(2).position(|w| w == "à".as_bytes()).unwrap();
    f.splice(i..i + 2, [0xE0u8]);
    let z = zip(&[("fabbricati.csv", f), ("unita.csv", csv(&t[1], ';'))]);
    let r = valida("flusso.zip", z, "patrimonio");
    // The reference check does not run, and says so once.
    esattamente(
        &r,
        &[
            tab("fabbricati", "codifica_non_valida", ERR),
            col("unita", "codice_fabbricato", "controllo_non_eseguito", AVV),
        ],
    );
    let s = r
        .segnalazioni
        .iter()
        .find(|s| s.codice == "controllo_non_eseguito")
        .unwrap();
    assert_eq!(
        s.messaggio,
        "Il controllo dei riferimenti di codice_fabbricato alla tabella fabbricati (riferimento_mancante) non è stato eseguito: la tabella fabbricati non è stata letta per intero."
    );
}

#[test]
fn codifica_non_valida_membro_zip_latin1() {
    let t = patrimonio(&[&[]], &[&[("scala", "B")], &[("codice_unita", "U2")]]);
    let mut u = csv(&t[1], ';');
    // The second unit's text becomes Latin-1 («Più» with ù = F9).
    let i = u.windows(2).rposition(|w| w == b"U2").unwrap();
    u.splice(i..i + 2, b"P\xF9".iter().copied());
    let z = zip(&[("fabbricati.csv", csv(&t[0], ';')), ("unita.csv", u)]);
    let r = valida("flusso.zip", z, "patrimonio");
    solo_di(
        &r,
        "codifica_non_valida",
        &[tab("unita", "codifica_non_valida", ERR)],
    );
}

fn json_latin1() -> Vec<u8> {
    let mut j = json(&[programmi(&[&[("denominazione", "Programma per la città")]])]);
    let i = j.windows(2).position(|w| w == "à".as_bytes()).unwrap();
    j.splice(i..i + 2, [0xE0u8]);
    j
}

#[test]
fn codifica_non_valida_json_latin1() {
    let r = valida("programmi.json", json_latin1(), "programmi");
    invarianti(&r);
    // One issue for the whole file (its table may be named or not).
    assert_eq!(r.segnalazioni.len(), 1, "{:?}", voci(&r));
    let s = voce(&r.segnalazioni[0]);
    assert!(s.0.is_none() || s.0.as_deref() == Some("programmi"));
    assert_eq!(
        (s.1, s.2, s.3, s.4.as_str(), s.5.as_str()),
        (None, None, None, "codifica_non_valida", ERR)
    );
}

#[test]
fn json_non_utf8_non_valido() {
    // Whatever the code, a non-UTF-8 JSON file is never valid.
    let r = valida("programmi.json", json_latin1(), "programmi");
    invarianti(&r);
    assert!(!r.valido);
}

/// A self-signed signer certificate and a CAdES-BES-like CMS SignedData embedding `contenuto`.
fn firma_cms(contenuto: &[u8]) -> Vec<u8> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::cms::{CMSOptions, CmsContentInfo};
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509, X509NameBuilder};
    let k = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_text("CN", "Mario Rossi").unwrap();
    n.append_entry_by_text("serialNumber", "TINIT-RSSMRA80A01A662X")
        .unwrap();
    let n = n.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&n).unwrap();
    b.set_issuer_name(&n).unwrap();
    b.set_pubkey(&k).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap())
        .unwrap();
    b.sign(&k, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    CmsContentInfo::sign(
        Some(&cert),
        Some(&k),
        None,
        Some(contenuto),
        CMSOptions::BINARY,
    )
    .unwrap()
    .to_der()
    .unwrap()
}

#[test]
fn firma_valida_e_firma_non_valida() {
    let contenuto = json(&[programmi(&[&[("importo_programma", "1000000.00")]])]);
    let firmato = firma_cms(&contenuto);
    // Intact: validated as the JSON inside, signer recorded.
    let r = valida("programmi.json.p7m", firmato.clone(), "programmi");
    esattamente(&r, &[]);
    let f = r.firma.as_ref().expect("firma registrata");
    assert_eq!(f.firmatario.as_deref(), Some("Mario Rossi"));
    // Tampered content: the signature does not verify.
    let mut alterato = firmato;
    let i = alterato
        .windows(contenuto.len())
        .position(|w| w == contenuto.as_slice())
        .expect("contenuto incorporato");
    let j = i + contenuto.windows(7).position(|w| w == b"1000000").unwrap();
    alterato[j] = b'9';
    let r = valida("programmi.json.p7m", alterato, "programmi");
    esattamente(&r, &[file("firma_non_valida")]);
}

#[test]
fn limite_superato_intestazione_di_10000_colonne() {
    let mut colonne: Vec<String> = Tabella::della_spec("programmi", "programmi").colonne;
    colonne.extend((0..10_000).map(|i| format!("colonna_{i}")));
    let mut testo = colonne.join(";");
    testo.push('\n');
    testo.push_str(&"x;".repeat(colonne.len() - 1));
    testo.push_str("x\n");
    let r = valida("programmi.csv", testo.into_bytes(), "programmi");
    solo_di(
        &r,
        "limite_superato",
        &[tab("programmi", "limite_superato", ERR)],
    );
    assert!(!r.valido);
    // No 10 000 `campo_sconosciuto` warnings: the header was refused as a whole.
    assert!(voci_di(&r, "campo_sconosciuto").is_empty());
}

#[test]
fn limite_superato_non_e_tabella_vuota() {
    let mut colonne: Vec<String> = Tabella::della_spec("programmi", "programmi").colonne;
    colonne.extend((0..10_000).map(|i| format!("colonna_{i}")));
    let mut testo = colonne.join(";");
    testo.push('\n');
    testo.push_str(&"x;".repeat(colonne.len() - 1));
    testo.push_str("x\n");
    let r = valida("programmi.csv", testo.into_bytes(), "programmi");
    esattamente(&r, &[tab("programmi", "limite_superato", ERR)]);
}

#[test]
fn limite_superato_zip_bomb() {
    // One member of 4 MiB, a header and then line ends: it expands about 1000 times.
    let t = patrimonio(&[&[]], &[&[]]);
    let mut grande = csv(&Tabella::della_spec("patrimonio", "unita"), ';');
    grande.resize(4 * 1024 * 1024, b'\n');
    let z = zip(&[("fabbricati.csv", csv(&t[0], ';')), ("unita.csv", grande)]);
    assert!(z.len() * 500 < 4 * 1024 * 1024, "rapporto {}", z.len());
    let r = valida("flusso.zip", z, "patrimonio");
    esattamente(&r, &[file("limite_superato")]);
}

#[test]
fn limite_superato_cella_enorme() {
    // A cell over the 32 KiB cell limit.
    let enorme = "x".repeat(40 * 1024);
    let t = programmi(&[&[("denominazione", &enorme)]]);
    let r = valida("programmi.csv", csv(&t, ';'), "programmi");
    solo_di(
        &r,
        "limite_superato",
        &[tab("programmi", "limite_superato", ERR)],
    );
    let r = valida("programmi.json", json(&[t]), "programmi");
    solo_di(
        &r,
        "limite_superato",
        &[tab("programmi", "limite_superato", ERR)],
    );
}

#[test]
fn limite_superato_righe() {
    let mut o = opzioni();
    o.limiti.max_righe = 3;
    let mut t = programmi(&[]);
    for i in 0..6 {
        t = t.riga_da(PROGRAMMA, &[("codice_programma", &format!("P{i}"))]);
    }
    let r = valida_con("programmi.csv", csv(&t, ';'), "programmi", &o);
    esattamente(&r, &[tab("programmi", "limite_superato", ERR)]);
}

#[test]
fn limite_righe_raggiunto_non_superato() {
    let mut o = opzioni();
    o.limiti.max_righe = 3;
    let mut t = programmi(&[]);
    for i in 0..3 {
        t = t.riga_da(PROGRAMMA, &[("codice_programma", &format!("P{i}"))]);
    }
    let r = valida_con("programmi.csv", csv(&t, ';'), "programmi", &o);
    esattamente(&r, &[]);
    assert_eq!(r.tabelle[0].1.righe, 3);
}

#[test]
fn modello_csv_vuoto_della_piattaforma() {
    // The blank ZIP of CSV headers of `push spec --formato csv-zip`: only the mandatory
    // tables are reported, as empty.
    for (dominio, vuote) in [
        ("patrimonio", vec!["fabbricati", "unita"]),
        ("contabilita", vec!["interventi"]),
        ("programmi", vec!["programmi"]),
    ] {
        let d = flussi::spec::dominio(dominio).unwrap();
        let z = flussi::esporta::modello_csv_zip(d).unwrap();
        let r = valida_con("modello.zip", z, dominio, &opzioni_contabilita());
        let attese: Vec<Voce> = vuote.iter().map(|t| tab(t, "tabella_vuota", ERR)).collect();
        esattamente(&r, &attese);
    }
}

#[test]
fn tabella_mancante() {
    let t = patrimonio(&[&[]], &[&[]]);
    let r = valida_tabelle("patrimonio", &t[1..], &opzioni());
    // The references to the missing table are not checked: one warning, not one error per unit.
    esattamente(
        &r,
        &[
            tab("fabbricati", "tabella_mancante", ERR),
            col("unita", "codice_fabbricato", "controllo_non_eseguito", AVV),
        ],
    );
    assert_eq!(
        r.segnalazioni[1].messaggio,
        "Il controllo dei riferimenti di codice_fabbricato alla tabella fabbricati (riferimento_mancante) non è stato eseguito: manca la tabella fabbricati."
    );
    // Without units, no building is reported «senza unità»: that check does not run either.
    let r = valida_tabelle("patrimonio", &t[..1], &opzioni());
    esattamente(
        &r,
        &[
            col(
                "fabbricati",
                "codice_fabbricato",
                "controllo_non_eseguito",
                AVV,
            ),
            tab("unita", "tabella_mancante", ERR),
        ],
    );
    assert_eq!(
        r.segnalazioni[0].messaggio,
        "Il controllo dei fabbricati senza unità (senza_unita) non è stato eseguito: manca la tabella unita."
    );
    // Optional tables may be missing.
    let t = contabilita(&[&[]], &[], &[], &[], &[]);
    let r = valida_tabelle("contabilita", &t[..1], &opzioni_contabilita());
    esattamente(&r, &[]);
    let r = valida_tabelle("contabilita", &t[1..], &opzioni_contabilita());
    esattamente(&r, &[tab("interventi", "tabella_mancante", ERR)]);
}

#[test]
fn tabella_mancante_non_sommerge_con_mille_unita() {
    // A large flow without `fabbricati`: the one error that matters is not buried under one
    // `riferimento_mancante` per unit.
    let righe: Vec<Vec<(String, String)>> = (0..1000)
        .map(|i| {
            vec![
                ("codice_unita".to_string(), format!("U{i}")),
                ("subalterno".to_string(), format!("{}", i + 1)),
            ]
        })
        .collect();
    let righe: Vec<Vec<(&str, &str)>> = righe
        .iter()
        .map(|r| r.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
        .collect();
    let unita: Vec<&[(&str, &str)]> = righe.iter().map(Vec::as_slice).collect();
    let t = patrimonio(&[&[]], &unita);
    let r = valida_tabelle("patrimonio", &t[1..], &opzioni());
    assert_eq!(r.tabelle[0].1.righe, 1000);
    esattamente(
        &r,
        &[
            tab("fabbricati", "tabella_mancante", ERR),
            col("unita", "codice_fabbricato", "controllo_non_eseguito", AVV),
        ],
    );
}

#[test]
fn riferimenti_non_controllati_senza_la_colonna_della_chiave() {
    // `fabbricati` without its key column: `campo_mancante` says it; the units' references
    // cannot be checked against it.
    let t = patrimonio(&[&[]], &[&[]]);
    let f = t[0].clone().senza("codice_fabbricato");
    let r = valida_tabelle("patrimonio", &[f, t[1].clone()], &opzioni());
    esattamente(
        &r,
        &[
            col("fabbricati", "codice_fabbricato", "campo_mancante", ERR),
            col("unita", "codice_fabbricato", "controllo_non_eseguito", AVV),
        ],
    );
    assert!(r.segnalazioni[1].messaggio.ends_with(
        "non è stato eseguito: nella tabella fabbricati manca la colonna codice_fabbricato."
    ));
}

#[test]
fn tabella_facoltativa_mancante_resta_riferimento_mancante() {
    // `complessi` is optional: a building naming a complesso that is nowhere is still an
    // error (no table is missing by mistake, the reference is wrong).
    let t = patrimonio(&[&[("codice_complesso", "C9")]], &[&[]]);
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(
        &r,
        &[e(
            "fabbricati",
            2,
            "codice_complesso",
            Some("C9"),
            "riferimento_mancante",
        )],
    );
}

#[test]
fn tabella_vuota() {
    let t = patrimonio(&[], &[&[]]);
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(
        &r,
        &[
            tab("fabbricati", "tabella_vuota", ERR),
            e(
                "unita",
                2,
                "codice_fabbricato",
                Some("F1"),
                "riferimento_mancante",
            ),
        ],
    );
    assert_eq!(r.tabelle[0].0, "fabbricati");
    assert_eq!(r.tabelle[0].1.righe, 0);
    // The same as JSON: an empty array.
    let r = valida("flusso.json", json(&t), "patrimonio");
    esattamente(
        &r,
        &[
            tab("fabbricati", "tabella_vuota", ERR),
            e(
                "unita",
                1,
                "codice_fabbricato",
                Some("F1"),
                "riferimento_mancante",
            ),
        ],
    );
    // An optional table with no rows is fine.
    let r = cont(&[&[]], &[], &[], &[], &[]);
    esattamente(&r, &[]);
}

#[test]
fn tabella_vuota_righe_bianche() {
    // Only blank lines (or only separators) after the header: no data rows.
    let mut t = patrimonio(&[&[]], &[&[]]);
    t[1] = Tabella::della_spec("patrimonio", "unita");
    let mut u = csv(&t[1], ';');
    u.extend_from_slice(b"\n;;;\n   \n");
    let z = zip(&[("fabbricati.csv", csv(&t[0], ';')), ("unita.csv", u)]);
    let r = valida("flusso.zip", z, "patrimonio");
    esattamente(
        &r,
        &[
            a(
                "fabbricati",
                2,
                "codice_fabbricato",
                Some("F1"),
                "senza_unita",
            ),
            tab("unita", "tabella_vuota", ERR),
        ],
    );
}

#[test]
fn tabella_sconosciuta() {
    let mut t = patrimonio(&[&[]], &[&[]]);
    t.push(Tabella::con_colonne("inquilini", &["nome"]).riga(&[("nome", "X")]));
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(&r, &[tab("inquilini", "tabella_sconosciuta", AVV)]);
    assert!(r.valido);
    // A table of another domain is unknown here too.
    let mut t = patrimonio(&[&[]], &[&[]]);
    t.insert(0, programmi(&[&[]]));
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(&r, &[tab("programmi", "tabella_sconosciuta", AVV)]);
}

#[test]
fn campo_mancante_una_volta_con_riga_nulla() {
    let t = patrimonio(
        &[&[]],
        &[&[], &[("codice_unita", "U2"), ("subalterno", "2")]],
    );
    let t = vec![t[0].clone(), t[1].clone().senza("subalterno")];
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    solo_di(
        &r,
        "campo_mancante",
        &[col("unita", "subalterno", "campo_mancante", ERR)],
    );
    assert!(!r.valido);
}

#[test]
fn campo_mancante_senza_obbligatorio_su_ogni_riga() {
    let t = patrimonio(
        &[&[]],
        &[&[], &[("codice_unita", "U2"), ("subalterno", "2")]],
    );
    let t = vec![t[0].clone(), t[1].clone().senza("subalterno")];
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(&r, &[col("unita", "subalterno", "campo_mancante", ERR)]);
}

#[test]
fn colonna_facoltativa_mancante_non_e_un_errore() {
    let t = patrimonio(&[&[]], &[&[]]);
    let t = vec![
        t[0].clone().senza("stato_conservazione").senza("cap"),
        t[1].clone().senza("classe_energetica"),
    ];
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(&r, &[]);
}

#[test]
fn campo_sconosciuto() {
    let t = patrimonio(&[&[]], &[&[("colore_facciata", "giallo")]]);
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(
        &r,
        &[col("unita", "colore_facciata", "campo_sconosciuto", AVV)],
    );
    assert!(r.valido);
}

#[test]
fn campo_duplicato() {
    let t = patrimonio(&[&[]], &[&[]]);
    let mut u = t[1].clone();
    u.colonne.push("foglio".into());
    u.righe[0].push("41".into());
    let r = valida_tabelle("patrimonio", &[t[0].clone(), u], &opzioni());
    esattamente(&r, &[col("unita", "foglio", "campo_duplicato", ERR)]);
    // Duplicated after normalization (case, spaces).
    let mut u = t[1].clone();
    u.colonne.push(" FOGLIO ".into());
    u.righe[0].push("41".into());
    let r = valida_tabelle("patrimonio", &[t[0].clone(), u], &opzioni());
    esattamente(&r, &[col("unita", "foglio", "campo_duplicato", ERR)]);
}

#[test]
fn riga_malformata() {
    let t = patrimonio(&[&[]], &[&[]]);
    let n = t[1].colonne.len();
    let mut lunga: Vec<String> = t[1].righe[0].clone();
    lunga[0] = "U2".into();
    lunga.push("in più".into());
    let mut corta: Vec<String> = t[1].righe[0].clone();
    corta[0] = "U3".into();
    corta.truncate(n - 3);
    let u = t[1]
        .clone()
        .riga_grezza(&lunga.iter().map(String::as_str).collect::<Vec<_>>())
        .riga_grezza(&corta.iter().map(String::as_str).collect::<Vec<_>>());
    for sep in [';', ','] {
        let r = valida(
            "flusso.zip",
            zip_csv(&[t[0].clone(), u.clone()], sep),
            "patrimonio",
        );
        esattamente(
            &r,
            &[
                v(Some("unita"), Some(3), None, None, "riga_malformata", ERR),
                v(Some("unita"), Some(4), None, None, "riga_malformata", ERR),
            ],
        );
    }
}

#[test]
fn nomi_di_tabelle_e_campi_senza_maiuscole_e_spazi() {
    let t = patrimonio(&[&[]], &[&[]]);
    let f = t[0]
        .clone()
        .chiamata("FABBRICATI")
        .colonna_scritta("codice_fabbricato", " Codice_Fabbricato ");
    let u = t[1]
        .clone()
        .chiamata("Unita")
        .colonna_scritta("tipologia", "TIPOLOGIA");
    let r = valida_tabelle("patrimonio", &[f, u], &opzioni());
    esattamente(&r, &[]);
    // `.CSV` in upper case, in a folder of the archive.
    let z = zip(&[
        ("flusso/Fabbricati.CSV", csv(&t[0], ';')),
        ("flusso/unita.csv", csv(&t[1], ';')),
    ]);
    let r = valida("flusso.zip", z, "patrimonio");
    esattamente(&r, &[]);
}

#[test]
fn ordine_delle_colonne_libero() {
    let t = patrimonio(&[&[]], &[&[("subalterno", "1a")]]);
    let r1 = valida_tabelle("patrimonio", &t, &opzioni());
    let t2: Vec<Tabella> = t.into_iter().map(Tabella::colonne_al_contrario).collect();
    let r2 = valida_tabelle("patrimonio", &t2, &opzioni());
    esattamente(&r1, &[e("unita", 2, "subalterno", Some("1a"), "formato")]);
    assert_eq!(voci(&r1), voci(&r2));
}

#[test]
fn bom_e_crlf() {
    let t = patrimonio(
        &[&[]],
        &[&[], &[("codice_unita", "U2"), ("subalterno", "x")]],
    );
    for (bom, crlf) in [(true, false), (false, true), (true, true)] {
        for separatore in [';', ','] {
            let f = FormatoCsv {
                separatore,
                bom,
                crlf,
            };
            let r = valida("flusso.zip", zip_csv_con(&t, f), "patrimonio");
            esattamente(&r, &[e("unita", 3, "subalterno", Some("x"), "formato")]);
        }
    }
    // A single CSV with BOM and CRLF.
    let f = FormatoCsv {
        separatore: ';',
        bom: true,
        crlf: true,
    };
    let r = valida("programmi.csv", csv_con(&programmi(&[&[]]), f), "programmi");
    esattamente(&r, &[]);
}

#[test]
fn campi_tra_virgolette_con_separatori_e_a_capo() {
    // Row 2 holds a note over three lines and separators inside quotes: the next record is
    // still row 3, as a spreadsheet shows it.
    let c = Tabella::della_spec("patrimonio", "complessi")
        .riga_da(
            COMPLESSO,
            &[
                ("denominazione", "Quartiere \"San Paolo\"; lotto 1, parte A"),
                (
                    "note",
                    "prima riga\nseconda riga; con separatore\r\nterza, riga",
                ),
            ],
        )
        .riga_da(
            COMPLESSO,
            &[("codice_complesso", "C2"), ("comune_istat", "999999")],
        );
    let mut t = patrimonio(
        &[&[("indirizzo", "Via Roma; angolo Via Sparano, lato mare")]],
        &[&[]],
    );
    t.insert(0, c);
    for sep in [';', ','] {
        let r = valida("flusso.zip", zip_csv(&t, sep), "patrimonio");
        esattamente(
            &r,
            &[e(
                "complessi",
                3,
                "comune_istat",
                Some("999999"),
                "comune_sconosciuto",
            )],
        );
    }
}

#[test]
fn righe_bianche_contano_nella_numerazione() {
    // A blank line is an empty row in a spreadsheet: the next row keeps its number.
    let t = programmi(&[&[]]);
    let mut testo = csv(&t, ';');
    testo.extend_from_slice(b"\n");
    testo.extend_from_slice(
        "PINQUA-2021;Programma innovativo qualità abitare;COMPLESSO;PNRR_PINQUA;PNRR;DM 383/2021;2021-10-07;-5\n"
            .as_bytes(),
    );
    let r = valida("programmi.csv", testo, "programmi");
    esattamente(
        &r,
        &[e("programmi", 4, "importo_programma", Some("-5"), "minimo")],
    );
}

// =============================================================================================
// Value codes.
// =============================================================================================

#[test]
fn obbligatorio() {
    let r = pat(&[&[("indirizzo", "")]], &[&[("tipologia", "")]]);
    esattamente(
        &r,
        &[
            e("fabbricati", 2, "indirizzo", None, "obbligatorio"),
            e("unita", 2, "tipologia", None, "obbligatorio"),
        ],
    );
    // Blanks only are an empty cell.
    let r = pat(&[&[("indirizzo", "   ")]], &[&[]]);
    esattamente(&r, &[e("fabbricati", 2, "indirizzo", None, "obbligatorio")]);
}

#[test]
fn tipo() {
    let r = pat(
        &[&[
            ("anno_costruzione", "millenovecento"),
            ("numero_piani", "3,5"),
            ("ascensore", "forse"),
        ]],
        &[&[
            ("data_assegnazione", "30/02/2010"),
            ("rendita_catastale", "1.200,50"),
            ("superficie_utile_mq", "1e2"),
        ]],
    );
    esattamente(
        &r,
        &[
            e(
                "fabbricati",
                2,
                "anno_costruzione",
                Some("millenovecento"),
                "tipo",
            ),
            e("fabbricati", 2, "numero_piani", Some("3,5"), "tipo"),
            e("fabbricati", 2, "ascensore", Some("forse"), "tipo"),
            e("unita", 2, "rendita_catastale", Some("1.200,50"), "tipo"),
            e("unita", 2, "superficie_utile_mq", Some("1e2"), "tipo"),
            e("unita", 2, "data_assegnazione", Some("30/02/2010"), "tipo"),
        ],
    );
    let r = pat(&[&[]], &[&[("data_assegnazione", "15-03-2010")]]);
    esattamente(
        &r,
        &[e(
            "unita",
            2,
            "data_assegnazione",
            Some("15-03-2010"),
            "tipo",
        )],
    );
}

#[test]
fn formato() {
    let r = pat(
        &[&[
            ("codice_fabbricato", "F 1"),
            ("numero_civico", "12-14"),
            ("cap", "80100"),
            ("foglio", "12345"),
        ]],
        &[&[
            ("codice_fabbricato", "F 1"),
            ("subalterno", "1a"),
            ("categoria_catastale", "A/12"),
            ("rendita_catastale", "350.505"),
            ("piano", "S4"),
            ("numero_vani", "3,3"),
        ]],
    );
    esattamente(
        &r,
        &[
            e("fabbricati", 2, "codice_fabbricato", Some("F 1"), "formato"),
            e("fabbricati", 2, "numero_civico", Some("12-14"), "formato"),
            e("fabbricati", 2, "cap", Some("80100"), "formato"),
            e("fabbricati", 2, "foglio", Some("12345"), "formato"),
            e("unita", 2, "codice_fabbricato", Some("F 1"), "formato"),
            e("unita", 2, "subalterno", Some("1a"), "formato"),
            e("unita", 2, "categoria_catastale", Some("A/12"), "formato"),
            e("unita", 2, "rendita_catastale", Some("350.505"), "formato"),
            e("unita", 2, "piano", Some("S4"), "formato"),
            e("unita", 2, "numero_vani", Some("3,3"), "formato"),
        ],
    );
}

#[test]
fn formato_valori_ammessi_e_normalizzati() {
    // A03, A3, a/03 → A/3; civic numbers and SNC in any case; steps of 0.5.
    let r = pat(
        &[
            &[("numero_civico", "12/b")],
            &[("codice_fabbricato", "F2"), ("numero_civico", "snc")],
        ],
        &[
            &[("categoria_catastale", "A03"), ("numero_vani", "3,5")],
            &[
                ("codice_unita", "U2"),
                ("codice_fabbricato", "F2"),
                ("subalterno", "2"),
                ("categoria_catastale", "a/03"),
                ("piano", "t"),
            ],
            &[
                ("codice_unita", "U3"),
                ("subalterno", "3"),
                ("categoria_catastale", "A3"),
                ("piano", "s1"),
            ],
        ],
    );
    esattamente(&r, &[]);
}

#[test]
fn lunghezza() {
    let r = pat(&[&[("indirizzo", "Vi")]], &[&[("scala", "ABCDEF")]]);
    esattamente(
        &r,
        &[
            e("fabbricati", 2, "indirizzo", Some("Vi"), "lunghezza"),
            e("unita", 2, "scala", Some("ABCDEF"), "lunghezza"),
        ],
    );
    // Characters, not bytes: 200 accented letters are 200 characters.
    let lungo = "à".repeat(200);
    let r = pat(&[&[("indirizzo", &lungo)]], &[&[]]);
    esattamente(&r, &[]);
    let troppo = "à".repeat(201);
    let r = pat(&[&[("indirizzo", &troppo)]], &[&[]]);
    esattamente(
        &r,
        &[e("fabbricati", 2, "indirizzo", Some(&troppo), "lunghezza")],
    );
}

#[test]
fn valore_non_ammesso() {
    let r = pat(
        &[&[("titolo_possesso", "AFFITTO")]],
        &[&[("tipologia", "VILLA"), ("classe_energetica", "A5")]],
    );
    esattamente(
        &r,
        &[
            e(
                "fabbricati",
                2,
                "titolo_possesso",
                Some("AFFITTO"),
                "valore_non_ammesso",
            ),
            e("unita", 2, "tipologia", Some("VILLA"), "valore_non_ammesso"),
            e(
                "unita",
                2,
                "classe_energetica",
                Some("A5"),
                "valore_non_ammesso",
            ),
        ],
    );
    // Enumerations are matched case-insensitively.
    let r = pat(
        &[&[("titolo_possesso", "proprieta")]],
        &[&[
            ("tipologia", "Alloggio"),
            ("stato_occupazione", "assegnato"),
        ]],
    );
    esattamente(&r, &[]);
}

#[test]
fn minimo_e_massimo() {
    let r = pat(
        &[&[
            ("latitudine", "45.1"),
            ("longitudine", "14.8"),
            ("anno_costruzione", "2027"),
            ("numero_piani", "0"),
        ]],
        &[&[
            ("superficie_utile_mq", "0"),
            ("numero_vani", "30.5"),
            ("canone_mensile", "5000.01"),
            ("numero_occupanti", "-1"),
        ]],
    );
    esattamente(
        &r,
        &[
            e("fabbricati", 2, "latitudine", Some("45.1"), "massimo"),
            e("fabbricati", 2, "longitudine", Some("14.8"), "minimo"),
            e("fabbricati", 2, "anno_costruzione", Some("2027"), "massimo"),
            e("fabbricati", 2, "numero_piani", Some("0"), "minimo"),
            e("unita", 2, "superficie_utile_mq", Some("0"), "minimo"),
            e("unita", 2, "numero_vani", Some("30.5"), "massimo"),
            e("unita", 2, "canone_mensile", Some("5000.01"), "massimo"),
            e("unita", 2, "numero_occupanti", Some("-1"), "minimo"),
        ],
    );
    // The bounds themselves are allowed (the current year too).
    let r = pat(
        &[&[
            ("latitudine", "39.7"),
            ("longitudine", "18.6"),
            ("anno_costruzione", "2026"),
            ("numero_piani", "40"),
        ]],
        &[&[
            ("superficie_utile_mq", "1000"),
            ("numero_vani", "0,5"),
            ("anno_ultimo_intervento", "2026"),
        ]],
    );
    esattamente(&r, &[]);
}

#[test]
fn data_futura() {
    let r = pat(&[&[]], &[&[("data_assegnazione", "2026-11-27")]]);
    esattamente(
        &r,
        &[e(
            "unita",
            2,
            "data_assegnazione",
            Some("2026-11-27"),
            "data_futura",
        )],
    );
    let r = pat(&[&[]], &[&[("data_assegnazione", "27/11/2026")]]);
    esattamente(
        &r,
        &[e(
            "unita",
            2,
            "data_assegnazione",
            Some("27/11/2026"),
            "data_futura",
        )],
    );
    // Today is not in the future.
    let r = pat(&[&[]], &[&[("data_assegnazione", "26/11/2026")]]);
    esattamente(&r, &[]);
}

#[test]
fn comune_sconosciuto() {
    let r = pat(&[&[("comune_istat", "058091")]], &[&[]]);
    esattamente(
        &r,
        &[e(
            "fabbricati",
            2,
            "comune_istat",
            Some("058091"),
            "comune_sconosciuto",
        )],
    );
    let r = pat(&[&[("comune_istat", "Bari")]], &[&[]]);
    esattamente(
        &r,
        &[e(
            "fabbricati",
            2,
            "comune_istat",
            Some("Bari"),
            "comune_sconosciuto",
        )],
    );
    // Five digits that lost their leading zero: 72006 is Bari.
    let r = pat(&[&[("comune_istat", "72006")]], &[&[]]);
    esattamente(&r, &[]);
}

#[test]
fn codice_fiscale() {
    let r = pat(
        &[&[
            ("titolo_possesso", "GESTIONE"),
            ("cf_proprietario", "80017210728"),
        ]],
        &[&[]],
    );
    esattamente(
        &r,
        &[e(
            "fabbricati",
            2,
            "cf_proprietario",
            Some("80017210728"),
            "codice_fiscale",
        )],
    );
    let r = pat(
        &[&[
            ("titolo_possesso", "GESTIONE"),
            ("cf_proprietario", "80017210727"),
        ]],
        &[&[]],
    );
    esattamente(&r, &[]);
}

#[test]
fn partita_iva() {
    let r = cont(
        &[&[("piva_impresa", "05123450728")]],
        &[],
        &[],
        &[&[("piva_beneficiario", "0512345072")]],
        &[],
    );
    esattamente(
        &r,
        &[
            e(
                "interventi",
                2,
                "piva_impresa",
                Some("05123450728"),
                "partita_iva",
            ),
            e(
                "pagamenti",
                2,
                "piva_beneficiario",
                Some("0512345072"),
                "partita_iva",
            ),
        ],
    );
}

#[test]
fn cup() {
    let r = pat(&[&[]], &[&[("cup_ultimo_intervento", "B31B1200039000")]]);
    esattamente(
        &r,
        &[e(
            "unita",
            2,
            "cup_ultimo_intervento",
            Some("B31B1200039000"),
            "cup",
        )],
    );
    let r = interventi(&[&[("cup", "B3IB12000390001")]]);
    esattamente(
        &r,
        &[e("interventi", 2, "cup", Some("B3IB12000390001"), "cup")],
    );
    // Lower case is the same CUP.
    let r = pat(&[&[]], &[&[("cup_ultimo_intervento", "b31b12000390001")]]);
    esattamente(&r, &[]);
}

#[test]
fn cig() {
    let r = interventi(&[&[("cig", "7A1B2C3D4")]]);
    esattamente(&r, &[e("interventi", 2, "cig", Some("7A1B2C3D4"), "cig")]);
    let r = interventi(&[&[("cig", "7A1B2C3D4-")]]);
    esattamente(&r, &[e("interventi", 2, "cig", Some("7A1B2C3D4-"), "cig")]);
}

// =============================================================================================
// One issue per value, in the order of validazione.md §4.
// =============================================================================================

#[test]
fn una_segnalazione_per_valore_nell_ordine_stabilito() {
    let r = pat(
        &[&[
            // tipo before minimo: a non-integer below the minimum.
            ("anno_costruzione", "1799,5"),
            // lunghezza (string 3–200): a single character.
            ("indirizzo", "V"),
        ]],
        &[&[
            // formato (decimals) before massimo.
            ("canone_mensile", "6000,001"),
            // formato (step) before massimo.
            ("numero_vani", "31,3"),
            // tipo (impossible date) before data_futura.
            ("data_assegnazione", "30/02/2030"),
            // an empty required enum: only obbligatorio.
            ("regime", ""),
        ]],
    );
    esattamente(
        &r,
        &[
            e("fabbricati", 2, "indirizzo", Some("V"), "lunghezza"),
            e("fabbricati", 2, "anno_costruzione", Some("1799,5"), "tipo"),
            e("unita", 2, "numero_vani", Some("31,3"), "formato"),
            e("unita", 2, "regime", None, "obbligatorio"),
            e("unita", 2, "data_assegnazione", Some("30/02/2030"), "tipo"),
            e("unita", 2, "canone_mensile", Some("6000,001"), "formato"),
        ],
    );
    // massimo before data_futura is not reachable on one field; minimo on a date-like
    // integer: an intervention year in the future is massimo (current year), nothing else.
    let r = pat(&[&[]], &[&[("anno_ultimo_intervento", "2030")]]);
    esattamente(
        &r,
        &[e(
            "unita",
            2,
            "anno_ultimo_intervento",
            Some("2030"),
            "massimo",
        )],
    );
}

// =============================================================================================
// Row checks are skipped when a value they need failed.
// =============================================================================================

#[test]
fn controlli_di_riga_saltati_se_un_valore_necessario_e_fallito() {
    // Latitude unreadable, longitude missing: no coordinate_incomplete, no coordinate_mancanti.
    // GESTIONE owner with a wrong tax code: no obbligatorio_condizionato.
    let r = pat(
        &[&[
            ("latitudine", "41°06'"),
            ("longitudine", ""),
            ("titolo_possesso", "GESTIONE"),
            ("cf_proprietario", "123"),
        ]],
        &[
            // Occupancy state not allowed: no conditional requirement on date and rent.
            &[
                ("stato_occupazione", "assegnata"),
                ("data_assegnazione", ""),
                ("canone_mensile", ""),
            ],
            // Unit type not allowed: no category coherence, no surface requirement.
            &[
                ("codice_unita", "U2"),
                ("subalterno", "2"),
                ("tipologia", "villa"),
                ("categoria_catastale", "C/6"),
                ("superficie_utile_mq", ""),
            ],
            // Building code malformed: no riferimento_mancante; subalterno malformed: no
            // catasto_duplicato with U1.
            &[
                ("codice_unita", "U3"),
                ("codice_fabbricato", "F#1"),
                ("subalterno", "1/1"),
            ],
            // Surface unreadable: no valore_anomalo.
            &[
                ("codice_unita", "U4"),
                ("subalterno", "4"),
                ("superficie_utile_mq", "venti"),
            ],
        ],
    );
    esattamente(
        &r,
        &[
            e("fabbricati", 2, "latitudine", Some("41°06'"), "tipo"),
            e(
                "fabbricati",
                2,
                "cf_proprietario",
                Some("123"),
                "codice_fiscale",
            ),
            e(
                "unita",
                2,
                "stato_occupazione",
                Some("assegnata"),
                "valore_non_ammesso",
            ),
            e("unita", 3, "tipologia", Some("villa"), "valore_non_ammesso"),
            e("unita", 4, "codice_fabbricato", Some("F#1"), "formato"),
            e("unita", 4, "subalterno", Some("1/1"), "formato"),
            e("unita", 5, "superficie_utile_mq", Some("venti"), "tipo"),
        ],
    );
}

#[test]
fn controlli_di_riga_contabilita_saltati_se_un_valore_necessario_e_fallito() {
    let r = cont(
        &[
            // Co-financing unreadable: no somma_incoerente.
            &[("importo_cofinanziamento", "duecentomila")],
            // Start date unreadable: no data_incoerente with the award date.
            &[
                ("cup", CUP2),
                ("data_aggiudicazione", "2019-01-01"),
                ("data_inizio_lavori", "2018-13-01"),
            ],
        ],
        // Amount unreadable: no cumulato_errato on the next SAL.
        &[
            &[("importo_sal", "tre")],
            &[
                ("numero_sal", "2"),
                ("data_sal", "2019-06-01"),
                ("importo_sal", "100000.00"),
                ("importo_cumulato", "999.00"),
                ("percentuale_avanzamento", "30"),
            ],
        ],
        // Erogation amount unreadable: not in the running sum, no somma_eccedente.
        &[&[("importo", "un milione")], &[("importo", "950000.00")]],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[
            e(
                "interventi",
                2,
                "importo_cofinanziamento",
                Some("duecentomila"),
                "tipo",
            ),
            e(
                "interventi",
                3,
                "data_inizio_lavori",
                Some("2018-13-01"),
                "tipo",
            ),
            e("sal", 2, "importo_sal", Some("tre"), "tipo"),
            e("erogazioni", 2, "importo", Some("un milione"), "tipo"),
        ],
    );
}

// =============================================================================================
// Checks of `patrimonio`.
// =============================================================================================

#[test]
fn patrimonio_chiave_duplicata() {
    let r = pat(
        &[&[], &[("indirizzo", "Via Giuseppe Capruzzi")]],
        &[&[], &[("subalterno", "2")]],
    );
    esattamente(
        &r,
        &[
            e(
                "fabbricati",
                3,
                "codice_fabbricato",
                Some("F1"),
                "chiave_duplicata",
            ),
            e("unita", 3, "codice_unita", Some("U1"), "chiave_duplicata"),
        ],
    );
}

#[test]
fn patrimonio_riferimento_mancante() {
    // A building code not in `fabbricati`.
    let r = pat(
        &[&[]],
        &[&[], &[("codice_unita", "U2"), ("codice_fabbricato", "F9")]],
    );
    esattamente(
        &r,
        &[e(
            "unita",
            3,
            "codice_fabbricato",
            Some("F9"),
            "riferimento_mancante",
        )],
    );
    // A complex code not in `complessi`.
    let mut t = patrimonio(&[&[("codice_complesso", "C9")]], &[&[]]);
    t.insert(
        0,
        Tabella::della_spec("patrimonio", "complessi").riga(COMPLESSO),
    );
    let r = valida_tabelle("patrimonio", &t, &opzioni());
    esattamente(
        &r,
        &[e(
            "fabbricati",
            2,
            "codice_complesso",
            Some("C9"),
            "riferimento_mancante",
        )],
    );
    // … or with no `complessi` table at all.
    let r = pat(&[&[("codice_complesso", "C1")]], &[&[]]);
    esattamente(
        &r,
        &[e(
            "fabbricati",
            2,
            "codice_complesso",
            Some("C1"),
            "riferimento_mancante",
        )],
    );
}

#[test]
fn catasto_duplicato() {
    // Same comune (two buildings in Bari), sheet, parcel and sub-unit.
    let r = pat(
        &[&[], &[("codice_fabbricato", "F2")]],
        &[
            &[],
            &[("codice_unita", "U2"), ("codice_fabbricato", "F2")],
            // Another urban section: a different unit.
            &[("codice_unita", "U3"), ("sezione_urbana", "B")],
            // Same identifiers in another comune: a different unit.
            &[("codice_unita", "U4"), ("codice_fabbricato", "F3")],
        ],
    );
    solo_di(
        &r,
        "catasto_duplicato",
        &[e("unita", 3, "subalterno", Some("1"), "catasto_duplicato")],
    );
    let r = pat(
        &[
            &[],
            &[("codice_fabbricato", "F2")],
            &[("codice_fabbricato", "F3"), ("comune_istat", "072004")],
        ],
        &[
            &[],
            &[("codice_unita", "U2"), ("codice_fabbricato", "F2")],
            &[("codice_unita", "U3"), ("sezione_urbana", "B")],
            &[("codice_unita", "U4"), ("codice_fabbricato", "F3")],
        ],
    );
    esattamente(
        &r,
        &[e("unita", 3, "subalterno", Some("1"), "catasto_duplicato")],
    );
}

#[test]
fn coordinate_incomplete() {
    let r = pat(
        &[
            &[("longitudine", "")],
            &[("codice_fabbricato", "F2"), ("latitudine", "")],
        ],
        &[
            &[],
            &[
                ("codice_unita", "U2"),
                ("codice_fabbricato", "F2"),
                ("subalterno", "2"),
            ],
        ],
    );
    esattamente(
        &r,
        &[
            e(
                "fabbricati",
                2,
                "longitudine",
                None,
                "coordinate_incomplete",
            ),
            e("fabbricati", 3, "latitudine", None, "coordinate_incomplete"),
        ],
    );
}

#[test]
fn patrimonio_obbligatorio_condizionato() {
    let r = pat(
        &[&[("titolo_possesso", "GESTIONE"), ("cf_proprietario", "")]],
        &[
            &[("superficie_utile_mq", "")],
            &[
                ("codice_unita", "U2"),
                ("subalterno", "2"),
                ("data_assegnazione", ""),
                ("canone_mensile", ""),
            ],
        ],
    );
    esattamente(
        &r,
        &[
            e(
                "fabbricati",
                2,
                "cf_proprietario",
                None,
                "obbligatorio_condizionato",
            ),
            e(
                "unita",
                2,
                "superficie_utile_mq",
                None,
                "obbligatorio_condizionato",
            ),
            e(
                "unita",
                3,
                "data_assegnazione",
                None,
                "obbligatorio_condizionato",
            ),
            e(
                "unita",
                3,
                "canone_mensile",
                None,
                "obbligatorio_condizionato",
            ),
        ],
    );
    // Not required for other types and states.
    let r = pat(
        &[&[]],
        &[&[
            ("tipologia", "BOX"),
            ("categoria_catastale", "C/6"),
            ("superficie_utile_mq", ""),
            ("stato_occupazione", "SFITTO_ASSEGNABILE"),
            ("data_assegnazione", ""),
            ("canone_mensile", ""),
            ("numero_occupanti", ""),
        ]],
    );
    esattamente(&r, &[]);
}

#[test]
fn patrimonio_incoerente() {
    let r = pat(
        &[&[]],
        &[
            // Not assigned, with date, rent and occupants.
            &[("stato_occupazione", "SFITTO_ASSEGNABILE")],
            // Intervention before construction (1975).
            &[
                ("codice_unita", "U2"),
                ("subalterno", "2"),
                ("anno_ultimo_intervento", "1970"),
            ],
            // Occupied without title: occupants are coherent.
            &[
                ("codice_unita", "U3"),
                ("subalterno", "3"),
                ("stato_occupazione", "OCCUPATO_SENZA_TITOLO"),
                ("data_assegnazione", ""),
                ("canone_mensile", ""),
            ],
            // Vacant with zero occupants: coherent.
            &[
                ("codice_unita", "U4"),
                ("subalterno", "4"),
                ("stato_occupazione", "INAGIBILE"),
                ("data_assegnazione", ""),
                ("canone_mensile", ""),
                ("numero_occupanti", "0"),
            ],
        ],
    );
    esattamente(
        &r,
        &[
            a(
                "unita",
                2,
                "data_assegnazione",
                Some("2010-03-15"),
                "incoerente",
            ),
            a("unita", 2, "canone_mensile", Some("120.50"), "incoerente"),
            a("unita", 2, "numero_occupanti", Some("3"), "incoerente"),
            a(
                "unita",
                3,
                "anno_ultimo_intervento",
                Some("1970"),
                "incoerente",
            ),
        ],
    );
    assert!(r.valido);
}

#[test]
fn categoria_incoerente() {
    let r = pat(
        &[&[]],
        &[
            &[("categoria_catastale", "C/6")],
            &[
                ("codice_unita", "U2"),
                ("subalterno", "2"),
                ("categoria_catastale", "A10"),
            ],
            &[
                ("codice_unita", "U3"),
                ("subalterno", "3"),
                ("tipologia", "BOX"),
                ("categoria_catastale", "C/2"),
                ("superficie_utile_mq", ""),
            ],
            &[
                ("codice_unita", "U4"),
                ("subalterno", "4"),
                ("tipologia", "NEGOZIO"),
                ("categoria_catastale", "C/3"),
            ],
            &[
                ("codice_unita", "U5"),
                ("subalterno", "5"),
                ("tipologia", "UFFICIO"),
                ("categoria_catastale", "A/2"),
            ],
            &[
                ("codice_unita", "U6"),
                ("subalterno", "6"),
                ("tipologia", "MAGAZZINO"),
                ("categoria_catastale", "C/6"),
            ],
            // Coherent ones.
            &[
                ("codice_unita", "U7"),
                ("subalterno", "7"),
                ("categoria_catastale", "A/11"),
            ],
            &[
                ("codice_unita", "U8"),
                ("subalterno", "8"),
                ("tipologia", "POSTO_AUTO"),
                ("categoria_catastale", "C/7"),
            ],
            &[
                ("codice_unita", "U9"),
                ("subalterno", "9"),
                ("tipologia", "MAGAZZINO"),
                ("categoria_catastale", "C/3"),
            ],
            &[
                ("codice_unita", "U10"),
                ("subalterno", "10"),
                ("tipologia", "ALTRO"),
                ("categoria_catastale", "B/4"),
            ],
        ],
    );
    esattamente(
        &r,
        &[
            a(
                "unita",
                2,
                "categoria_catastale",
                Some("C/6"),
                "categoria_incoerente",
            ),
            a(
                "unita",
                3,
                "categoria_catastale",
                Some("A10"),
                "categoria_incoerente",
            ),
            a(
                "unita",
                4,
                "categoria_catastale",
                Some("C/2"),
                "categoria_incoerente",
            ),
            a(
                "unita",
                5,
                "categoria_catastale",
                Some("C/3"),
                "categoria_incoerente",
            ),
            a(
                "unita",
                6,
                "categoria_catastale",
                Some("A/2"),
                "categoria_incoerente",
            ),
            a(
                "unita",
                7,
                "categoria_catastale",
                Some("C/6"),
                "categoria_incoerente",
            ),
        ],
    );
}

#[test]
fn valore_anomalo() {
    let r = pat(
        &[&[]],
        &[
            &[("superficie_utile_mq", "25")],
            &[
                ("codice_unita", "U2"),
                ("subalterno", "2"),
                ("canone_mensile", "1200.00"),
            ],
            // The thresholds themselves are not anomalous.
            &[
                ("codice_unita", "U3"),
                ("subalterno", "3"),
                ("superficie_utile_mq", "28"),
                ("canone_mensile", "1000.00"),
            ],
        ],
    );
    esattamente(
        &r,
        &[
            a(
                "unita",
                2,
                "superficie_utile_mq",
                Some("25"),
                "valore_anomalo",
            ),
            a(
                "unita",
                3,
                "canone_mensile",
                Some("1200.00"),
                "valore_anomalo",
            ),
        ],
    );
}

#[test]
fn coordinate_mancanti() {
    let r = pat(&[&[("latitudine", ""), ("longitudine", "")]], &[&[]]);
    esattamente(
        &r,
        &[a(
            "fabbricati",
            2,
            "latitudine",
            None,
            "coordinate_mancanti",
        )],
    );
    assert!(r.valido);
}

#[test]
fn senza_unita() {
    let r = pat(
        &[
            &[],
            &[("codice_fabbricato", "F2")],
            &[("codice_fabbricato", "F3")],
        ],
        &[
            &[],
            &[
                ("codice_unita", "U2"),
                ("codice_fabbricato", "F3"),
                ("subalterno", "2"),
            ],
        ],
    );
    esattamente(
        &r,
        &[a(
            "fabbricati",
            3,
            "codice_fabbricato",
            Some("F2"),
            "senza_unita",
        )],
    );
}

#[test]
fn fuori_territorio_comune() {
    let mut o = opzioni();
    o.dichiarante = Some(Dichiarante::da_codice("072006").unwrap());
    let r = pat_con(
        &[
            &[],
            &[("codice_fabbricato", "F2"), ("comune_istat", "072004")],
        ],
        &[&[], &[("codice_unita", "U2"), ("codice_fabbricato", "F2")]],
        &o,
    );
    esattamente(
        &r,
        &[a(
            "fabbricati",
            3,
            "comune_istat",
            Some("072004"),
            "fuori_territorio",
        )],
    );
    // The five-digit form of the entity's code is the same Comune.
    o.dichiarante = Some(Dichiarante::da_codice("72006").unwrap());
    let r = pat_con(&[&[]], &[&[]], &o);
    esattamente(&r, &[]);
}

#[test]
fn fuori_territorio_arca() {
    // ARCA Puglia Centrale covers Bari (BA) and Barletta-Andria-Trani (BT).
    let mut o = opzioni();
    o.dichiarante = Some(Dichiarante::da_codice("ARCA-PC").unwrap());
    let r = pat_con(
        &[
            &[],
            &[("codice_fabbricato", "F2"), ("comune_istat", "110001")],
            &[("codice_fabbricato", "F3"), ("comune_istat", "075035")],
        ],
        &[
            &[],
            &[("codice_unita", "U2"), ("codice_fabbricato", "F2")],
            &[("codice_unita", "U3"), ("codice_fabbricato", "F3")],
        ],
        &o,
    );
    esattamente(
        &r,
        &[a(
            "fabbricati",
            4,
            "comune_istat",
            Some("075035"),
            "fuori_territorio",
        )],
    );
}

#[test]
fn fuori_territorio_solo_sui_fabbricati() {
    // A complex in Lecce, its building in Bari, declared by the Comune di Bari.
    let mut t = patrimonio(&[&[("codice_complesso", "C1")]], &[&[]]);
    t.insert(
        0,
        Tabella::della_spec("patrimonio", "complessi")
            .riga_da(COMPLESSO, &[("comune_istat", "075035")]),
    );
    let mut o = opzioni();
    o.dichiarante = Some(Dichiarante::da_codice("072006").unwrap());
    let r = valida_tabelle("patrimonio", &t, &o);
    esattamente(&r, &[]);
}

#[test]
fn fuori_territorio_solo_se_il_dichiarante_e_noto() {
    let t: &[&[(&str, &str)]] = &[&[("comune_istat", "075035")]];
    let r = pat(t, &[&[]]);
    esattamente(&r, &[]);
    let mut o = opzioni();
    o.dichiarante = Some(Dichiarante::da_codice("REGIONE").unwrap());
    let r = pat_con(t, &[&[]], &o);
    esattamente(&r, &[]);
}

// =============================================================================================
// Checks of `contabilita`.
// =============================================================================================

#[test]
fn contabilita_chiave_duplicata() {
    let r = cont(
        &[&[], &[("cup", &CUP.to_lowercase())]],
        &[
            &[],
            &[
                ("numero_sal", "2"),
                ("data_sal", "2019-06-01"),
                ("importo_sal", "100000.00"),
                ("importo_cumulato", "400000.00"),
                ("percentuale_avanzamento", "35"),
            ],
        ],
        &[],
        &[&[("importo", "1000.00")], &[("importo", "2000.00")]],
        &[&[], &[]],
    );
    esattamente(
        &r,
        &[
            e(
                "interventi",
                3,
                "cup",
                Some(&CUP.to_lowercase()),
                "chiave_duplicata",
            ),
            e(
                "pagamenti",
                3,
                "numero_mandato",
                Some("M1"),
                "chiave_duplicata",
            ),
            e(
                "interventi_fabbricati",
                3,
                "codice_fabbricato",
                Some("F1"),
                "chiave_duplicata",
            ),
        ],
    );
    // (cup, numero_sal): reported on numero_sal.
    let r = cont(
        &[&[]],
        &[
            &[],
            &[("importo_sal", "0.00"), ("percentuale_avanzamento", "25")],
        ],
        &[],
        &[],
        &[],
    );
    solo_di(
        &r,
        "chiave_duplicata",
        &[e("sal", 3, "numero_sal", Some("1"), "chiave_duplicata")],
    );
}

#[test]
fn sal_duplicato_non_e_un_salto_di_numerazione() {
    let r = cont(
        &[&[]],
        &[
            &[],
            &[("importo_sal", "0.00"), ("percentuale_avanzamento", "25")],
        ],
        &[],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[e("sal", 3, "numero_sal", Some("1"), "chiave_duplicata")],
    );
}

#[test]
fn contabilita_riferimento_mancante() {
    let r = cont(
        &[&[]],
        &[&[], &[("cup", CUP2)]],
        &[&[], &[("cup", CUP2)]],
        &[
            &[],
            &[("cup", CUP2), ("numero_sal", "")],
            &[
                ("numero_mandato", "M2"),
                ("numero_sal", "2"),
                ("importo", "1000.00"),
            ],
        ],
        &[&[], &[("cup", CUP2)]],
    );
    esattamente(
        &r,
        &[
            e("sal", 3, "cup", Some(CUP2), "riferimento_mancante"),
            e("erogazioni", 3, "cup", Some(CUP2), "riferimento_mancante"),
            e("pagamenti", 3, "cup", Some(CUP2), "riferimento_mancante"),
            e(
                "pagamenti",
                4,
                "numero_sal",
                Some("2"),
                "riferimento_mancante",
            ),
            e(
                "interventi_fabbricati",
                3,
                "cup",
                Some(CUP2),
                "riferimento_mancante",
            ),
        ],
    );
}

#[test]
fn contabilita_obbligatorio_condizionato() {
    let r = interventi(&[
        &[
            ("stato", "AGGIUDICATO"),
            ("data_aggiudicazione", ""),
            ("data_inizio_lavori", ""),
            ("data_fine_prevista", ""),
        ],
        &[
            ("cup", CUP2),
            ("data_inizio_lavori", ""),
            ("data_fine_prevista", ""),
        ],
        &[("cup", "B31B12000390003"), ("data_fine_prevista", "")],
        &[
            ("cup", "B31B12000390004"),
            ("stato", "ULTIMATO"),
            ("data_fine_effettiva", ""),
        ],
        &[
            ("cup", "B31B12000390005"),
            ("stato", "COLLAUDATO"),
            ("data_fine_effettiva", "2021-03-31"),
            ("data_collaudo", ""),
        ],
    ]);
    esattamente(
        &r,
        &[
            e(
                "interventi",
                2,
                "data_aggiudicazione",
                None,
                "obbligatorio_condizionato",
            ),
            e(
                "interventi",
                3,
                "data_inizio_lavori",
                None,
                "obbligatorio_condizionato",
            ),
            e(
                "interventi",
                4,
                "data_fine_prevista",
                None,
                "obbligatorio_condizionato",
            ),
            e(
                "interventi",
                5,
                "data_fine_effettiva",
                None,
                "obbligatorio_condizionato",
            ),
            e(
                "interventi",
                6,
                "data_collaudo",
                None,
                "obbligatorio_condizionato",
            ),
        ],
    );
    // Programmed, designing and revoked interventions need no dates.
    let senza_date: &[(&str, &str)] = &[
        ("data_aggiudicazione", ""),
        ("data_inizio_lavori", ""),
        ("data_fine_prevista", ""),
    ];
    let mut righe: Vec<Vec<(&str, &str)>> = Vec::new();
    for (cup, stato) in [
        ("B31B12000390011", "PROGRAMMATO"),
        ("B31B12000390012", "IN_PROGETTAZIONE"),
        ("B31B12000390013", "REVOCATO"),
    ] {
        let mut r = senza_date.to_vec();
        r.push(("cup", cup));
        r.push(("stato", stato));
        righe.push(r);
    }
    let righe: Vec<&[(&str, &str)]> = righe.iter().map(Vec::as_slice).collect();
    let r = interventi(&righe);
    esattamente(&r, &[]);
}

#[test]
fn somma_incoerente() {
    let r = interventi(&[
        &[("importo_totale", "1300000.00")],
        // Within the 0.01 € tolerance.
        &[("cup", CUP2), ("importo_totale", "1200000.01")],
        // Missing co-financing counts as 0.
        &[
            ("cup", "B31B12000390003"),
            ("importo_cofinanziamento", ""),
            ("importo_totale", "1000000.00"),
        ],
        &[
            ("cup", "B31B12000390004"),
            ("importo_cofinanziamento", ""),
            ("importo_totale", "1000000.02"),
        ],
    ]);
    esattamente(
        &r,
        &[
            e(
                "interventi",
                2,
                "importo_totale",
                Some("1300000.00"),
                "somma_incoerente",
            ),
            e(
                "interventi",
                5,
                "importo_totale",
                Some("1000000.02"),
                "somma_incoerente",
            ),
        ],
    );
}

#[test]
fn data_incoerente() {
    let r = cont(
        &[
            &[("data_aggiudicazione", "2018-07-01")],
            &[("cup", CUP2), ("data_fine_prevista", "2018-05-31")],
            &[
                ("cup", "B31B12000390003"),
                ("stato", "ULTIMATO"),
                ("data_fine_effettiva", "2018-05-31"),
            ],
            &[
                ("cup", "B31B12000390004"),
                ("stato", "COLLAUDATO"),
                ("data_fine_effettiva", "2021-03-31"),
                ("data_collaudo", "2021-03-30"),
            ],
        ],
        &[&[("data_sal", "2018-05-31")]],
        &[],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[
            e(
                "interventi",
                2,
                "data_inizio_lavori",
                Some("2018-06-01"),
                "data_incoerente",
            ),
            e(
                "interventi",
                3,
                "data_fine_prevista",
                Some("2018-05-31"),
                "data_incoerente",
            ),
            e(
                "interventi",
                4,
                "data_fine_effettiva",
                Some("2018-05-31"),
                "data_incoerente",
            ),
            e(
                "interventi",
                5,
                "data_collaudo",
                Some("2021-03-30"),
                "data_incoerente",
            ),
            e("sal", 2, "data_sal", Some("2018-05-31"), "data_incoerente"),
        ],
    );
}

#[test]
fn contabilita_data_futura() {
    let r = cont(
        &[
            &[("data_inizio_lavori", "2026-12-01")],
            // The planned end may be in the future (the base row has 2027-06-30).
            &[("cup", CUP2), ("data_fine_prevista", "2030-12-31")],
        ],
        &[&[("data_sal", "2026-11-27")]],
        &[&[("data_erogazione", "01/01/2027")]],
        &[&[("data_mandato", "2027-01-01")]],
        &[],
    );
    esattamente(
        &r,
        &[
            e(
                "interventi",
                2,
                "data_inizio_lavori",
                Some("2026-12-01"),
                "data_futura",
            ),
            e("sal", 2, "data_sal", Some("2026-11-27"), "data_futura"),
            e(
                "erogazioni",
                2,
                "data_erogazione",
                Some("01/01/2027"),
                "data_futura",
            ),
            e(
                "pagamenti",
                2,
                "data_mandato",
                Some("2027-01-01"),
                "data_futura",
            ),
        ],
    );
    let r = valida(
        "programmi.csv",
        csv(&programmi(&[&[("data_atto", "2027-01-01")]]), ';'),
        "programmi",
    );
    esattamente(
        &r,
        &[e(
            "programmi",
            2,
            "data_atto",
            Some("2027-01-01"),
            "data_futura",
        )],
    );
}

/// SAL rows: (numero, data, importo, cumulato, percentuale).
fn sal(righe: &[(&str, &str, &str, &str, &str)]) -> Vec<Vec<(&'static str, String)>> {
    righe
        .iter()
        .map(|(n, d, i, c, p)| {
            vec![
                ("numero_sal", n.to_string()),
                ("data_sal", d.to_string()),
                ("importo_sal", i.to_string()),
                ("importo_cumulato", c.to_string()),
                ("percentuale_avanzamento", p.to_string()),
            ]
        })
        .collect()
}

fn rif<'a>(v: &'a [Vec<(&'static str, String)>]) -> Vec<Vec<(&'static str, &'a str)>> {
    v.iter()
        .map(|r| r.iter().map(|(k, x)| (*k, x.as_str())).collect())
        .collect()
}

fn cont_sal(righe: &[(&str, &str, &str, &str, &str)]) -> flussi::Report {
    let s = sal(righe);
    let s = rif(&s);
    let s: Vec<&[(&str, &str)]> = s.iter().map(Vec::as_slice).collect();
    cont(&[&[]], &s, &[], &[], &[])
}

#[test]
fn cumulato_errato() {
    let r = cont_sal(&[
        ("1", "2019-01-15", "300000.00", "300000.00", "25"),
        ("2", "2019-06-15", "200000.00", "600000.00", "40"),
        ("3", "2019-12-15", "100000.00", "600000.01", "50"),
    ]);
    esattamente(
        &r,
        &[e(
            "sal",
            3,
            "importo_cumulato",
            Some("600000.00"),
            "cumulato_errato",
        )],
    );
    // Rows in any order: the sum is by numero_sal.
    let r = cont_sal(&[
        ("2", "2019-06-15", "200000.00", "500000.00", "40"),
        ("1", "2019-01-15", "300000.00", "300000.00", "25"),
    ]);
    esattamente(&r, &[]);
}

#[test]
fn sequenza_errore_sal() {
    let r = cont_sal(&[
        ("1", "2019-06-01", "300000.00", "300000.00", "40"),
        ("2", "2019-03-01", "100000.00", "400000.00", "50"),
        ("3", "2019-09-01", "100000.00", "500000.00", "45"),
    ]);
    esattamente(
        &r,
        &[
            e("sal", 3, "data_sal", Some("2019-03-01"), "sequenza"),
            e("sal", 4, "percentuale_avanzamento", Some("45"), "sequenza"),
        ],
    );
}

#[test]
fn sequenza_errore_erogazione_dopo_il_saldo() {
    let r = cont(
        &[&[("stato", "ULTIMATO"), ("data_fine_effettiva", "2020-12-31")]],
        &[],
        &[
            &[("data_erogazione", "2021-01-10"), ("tipo", "SALDO")],
            &[("data_erogazione", "2021-06-01"), ("tipo", "ACCONTO")],
            // The same day as the SALDO is not after it.
            &[("data_erogazione", "2021-01-10"), ("tipo", "ACCONTO")],
        ],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[e(
            "erogazioni",
            3,
            "data_erogazione",
            Some("2021-06-01"),
            "sequenza",
        )],
    );
}

#[test]
fn sequenza_avviso_numeri_non_consecutivi() {
    let r = cont_sal(&[
        ("1", "2019-01-15", "300000.00", "300000.00", "25"),
        ("3", "2019-06-15", "100000.00", "400000.00", "40"),
        ("4", "2019-09-15", "100000.00", "500000.00", "45"),
    ]);
    esattamente(&r, &[a("sal", 3, "numero_sal", Some("3"), "sequenza")]);
    assert!(r.valido);
    // Not starting from 1.
    let r = cont_sal(&[("2", "2019-01-15", "300000.00", "300000.00", "25")]);
    esattamente(&r, &[a("sal", 2, "numero_sal", Some("2"), "sequenza")]);
}

#[test]
fn somma_eccedente_errore() {
    let r = cont(
        &[&[]],
        &[],
        // Financed 1 000 000 €.
        &[
            &[("importo", "600000.00")],
            &[
                ("data_erogazione", "2019-07-01"),
                ("importo", "400000.02"),
                ("tipo", "ACCONTO"),
            ],
            &[
                ("data_erogazione", "2019-08-01"),
                ("importo", "10000.00"),
                ("tipo", "ACCONTO"),
            ],
        ],
        // Total 1 200 000 €.
        &[
            &[("importo", "700000.00"), ("numero_sal", "")],
            &[
                ("numero_mandato", "M2"),
                ("importo", "500000.02"),
                ("numero_sal", ""),
            ],
            &[
                ("numero_mandato", "M3"),
                ("importo", "1000.00"),
                ("numero_sal", ""),
            ],
        ],
        &[],
    );
    esattamente(
        &r,
        &[
            e(
                "erogazioni",
                3,
                "importo",
                Some("400000.02"),
                "somma_eccedente",
            ),
            e(
                "pagamenti",
                3,
                "importo",
                Some("500000.02"),
                "somma_eccedente",
            ),
        ],
    );
    // Reaching exactly the amount (or within 0.01 €) is fine.
    let r = cont(
        &[&[]],
        &[],
        &[
            &[("importo", "600000.00")],
            &[
                ("data_erogazione", "2019-07-01"),
                ("importo", "400000.01"),
                ("tipo", "ACCONTO"),
            ],
        ],
        &[
            &[("importo", "700000.00"), ("numero_sal", "")],
            &[
                ("numero_mandato", "M2"),
                ("importo", "500000.00"),
                ("numero_sal", ""),
            ],
        ],
        &[],
    );
    esattamente(&r, &[]);
}

#[test]
fn somma_eccedente_in_ordine_di_data_poi_di_posizione() {
    // File order: 600k (2020), 300k (2019), 200k (2018). In date order the sum exceeds the
    // financed 1 000 000 € at the 600k row (row 2), not at the last row of the file.
    let r = cont(
        &[&[], &[("cup", CUP2)]],
        &[],
        &[
            &[
                ("data_erogazione", "2020-01-01"),
                ("importo", "600000.00"),
                ("tipo", "ACCONTO"),
            ],
            &[
                ("data_erogazione", "2019-01-01"),
                ("importo", "300000.00"),
                ("tipo", "ACCONTO"),
            ],
            // Another CUP in between: its own running sum.
            &[
                ("cup", CUP2),
                ("data_erogazione", "2019-01-01"),
                ("importo", "900000.00"),
                ("tipo", "ACCONTO"),
            ],
            &[
                ("data_erogazione", "2018-01-01"),
                ("importo", "200000.00"),
                ("tipo", "ANTICIPAZIONE"),
            ],
        ],
        // Same date: by position. Total 1 200 000 €.
        &[
            &[
                ("data_mandato", "2021-05-05"),
                ("importo", "700000.00"),
                ("numero_sal", ""),
            ],
            &[
                ("numero_mandato", "M2"),
                ("data_mandato", "2021-05-05"),
                ("importo", "600000.00"),
                ("numero_sal", ""),
            ],
            &[
                ("numero_mandato", "M3"),
                ("data_mandato", "2020-01-01"),
                ("importo", "100000.00"),
                ("numero_sal", ""),
            ],
        ],
        &[],
    );
    esattamente(
        &r,
        &[
            e(
                "erogazioni",
                2,
                "importo",
                Some("600000.00"),
                "somma_eccedente",
            ),
            e(
                "pagamenti",
                3,
                "importo",
                Some("600000.00"),
                "somma_eccedente",
            ),
        ],
    );
}

#[test]
fn somma_eccedente_avviso() {
    let r = cont_sal(&[("1", "2019-01-15", "1300000.00", "1300000.00", "100")]);
    esattamente(
        &r,
        &[a(
            "sal",
            2,
            "importo_cumulato",
            Some("1300000.00"),
            "somma_eccedente",
        )],
    );
    assert!(r.valido);
}

#[test]
fn saldo_multiplo() {
    let r = cont(
        &[&[("stato", "ULTIMATO"), ("data_fine_effettiva", "2020-12-31")]],
        &[],
        &[
            &[("data_erogazione", "2021-01-10"), ("tipo", "SALDO")],
            &[
                ("data_erogazione", "2021-01-10"),
                ("importo", "5000.00"),
                ("tipo", "SALDO"),
            ],
        ],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[e("erogazioni", 3, "tipo", Some("SALDO"), "saldo_multiplo")],
    );
}

#[test]
fn contabilita_incoerente_errore() {
    let r = cont(
        &[&[
            ("stato", "PROGRAMMATO"),
            ("data_aggiudicazione", ""),
            ("data_inizio_lavori", ""),
            ("data_fine_prevista", ""),
        ]],
        &[&[]],
        &[],
        &[],
        &[],
    );
    esattamente(&r, &[e("sal", 2, "cup", Some(CUP), "incoerente")]);
    let r = cont(
        &[&[
            ("stato", "IN_PROGETTAZIONE"),
            ("data_aggiudicazione", ""),
            ("data_inizio_lavori", ""),
            ("data_fine_prevista", ""),
        ]],
        &[&[]],
        &[],
        &[],
        &[],
    );
    esattamente(&r, &[e("sal", 2, "cup", Some(CUP), "incoerente")]);
}

#[test]
fn contabilita_incoerente_avviso() {
    let r = cont(
        &[&[("alloggi_realizzati", "30")]],
        &[],
        &[&[("tipo", "SALDO")]],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[
            a(
                "interventi",
                2,
                "alloggi_realizzati",
                Some("30"),
                "incoerente",
            ),
            a("erogazioni", 2, "tipo", Some("SALDO"), "incoerente"),
        ],
    );
    assert!(r.valido);
}

#[test]
fn valore_come_letto_nel_saldo() {
    let r = cont(
        &[&[]],
        &[],
        &[
            &[("data_erogazione", "2021-01-10"), ("tipo", "saldo")],
            &[
                ("data_erogazione", "2021-01-10"),
                ("importo", "5000.00"),
                ("tipo", "Saldo"),
            ],
        ],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[
            a("erogazioni", 2, "tipo", Some("saldo"), "incoerente"),
            e("erogazioni", 3, "tipo", Some("Saldo"), "saldo_multiplo"),
        ],
    );
}

#[test]
fn valore_come_letto_nella_sequenza_dei_sal() {
    let r = cont_sal(&[("02", "2019-01-15", "300000.00", "300000.00", "25")]);
    esattamente(&r, &[a("sal", 2, "numero_sal", Some("02"), "sequenza")]);
}

#[test]
fn programma_sconosciuto() {
    let t = contabilita(
        &[&[], &[("cup", CUP2), ("codice_programma", "PINQUA-2021")]],
        &[],
        &[],
        &[],
        &[],
    );
    let o = opzioni_con_riferimenti(&["PINQUA-2021"], &["F1"]);
    let r = valida_tabelle("contabilita", &t, &o);
    esattamente(
        &r,
        &[e(
            "interventi",
            2,
            "codice_programma",
            Some("PRU-2010"),
            "programma_sconosciuto",
        )],
    );
}

#[test]
fn fabbricato_sconosciuto() {
    let t = contabilita(
        &[&[]],
        &[],
        &[],
        &[],
        &[&[], &[("codice_fabbricato", "F7")]],
    );
    let o = opzioni_con_riferimenti(&["PRU-2010"], &["F1"]);
    let r = valida_tabelle("contabilita", &t, &o);
    esattamente(
        &r,
        &[a(
            "interventi_fabbricati",
            3,
            "codice_fabbricato",
            Some("F7"),
            "fabbricato_sconosciuto",
        )],
    );
    assert!(r.valido);
}

#[test]
fn controllo_non_eseguito() {
    let t = contabilita(
        &[&[("codice_programma", "INESISTENTE")]],
        &[],
        &[],
        &[],
        &[&[("codice_fabbricato", "F7")]],
    );
    let r = valida_tabelle("contabilita", &t, &opzioni());
    esattamente(
        &r,
        &[
            v(
                None,
                None,
                Some("codice_programma"),
                None,
                "controllo_non_eseguito",
                AVV,
            ),
            v(
                None,
                None,
                Some("codice_fabbricato"),
                None,
                "controllo_non_eseguito",
                AVV,
            ),
        ],
    );
    assert!(r.valido);
    // Only the programmes known: one check skipped.
    let mut o = opzioni();
    o.riferimenti.programmi = Some(["INESISTENTE".to_string()].into());
    let r = valida_tabelle("contabilita", &t, &o);
    esattamente(
        &r,
        &[v(
            None,
            None,
            Some("codice_fabbricato"),
            None,
            "controllo_non_eseguito",
            AVV,
        )],
    );
    // `patrimonio` and `programmi` have no such check.
    let r = pat(&[&[]], &[&[]]);
    assert!(voci_di(&r, "controllo_non_eseguito").is_empty());
}

#[test]
fn fuori_territorio_contabilita() {
    let t = contabilita(
        &[&[], &[("cup", CUP2), ("comune_istat", "072004")]],
        &[],
        &[],
        &[],
        &[],
    );
    let mut o = opzioni_contabilita();
    o.dichiarante = Some(Dichiarante::da_codice("072004").unwrap());
    let r = valida_tabelle("contabilita", &t, &o);
    esattamente(
        &r,
        &[a(
            "interventi",
            2,
            "comune_istat",
            Some("072006"),
            "fuori_territorio",
        )],
    );
    o.dichiarante = Some(Dichiarante::da_codice("ARCA-SS").unwrap());
    let r = valida_tabelle("contabilita", &t, &o);
    esattamente(
        &r,
        &[
            a(
                "interventi",
                2,
                "comune_istat",
                Some("072006"),
                "fuori_territorio",
            ),
            a(
                "interventi",
                3,
                "comune_istat",
                Some("072004"),
                "fuori_territorio",
            ),
        ],
    );
}

#[test]
fn programmi_chiave_duplicata() {
    let r = valida(
        "programmi.csv",
        csv(&programmi(&[&[], &[("denominazione", "Altro nome")]]), ','),
        "programmi",
    );
    esattamente(
        &r,
        &[e(
            "programmi",
            3,
            "codice_programma",
            Some("PRU-2010"),
            "chiave_duplicata",
        )],
    );
}

// =============================================================================================
// Report order and cap.
// =============================================================================================

#[test]
fn ordine_per_tabella_riga_campo() {
    let c = Tabella::della_spec("patrimonio", "complessi")
        .riga_da(COMPLESSO, &[("comune_istat", "999999")]);
    let t = patrimonio(
        &[
            &[],
            &[
                ("codice_fabbricato", "F2"),
                ("latitudine", ""),
                ("longitudine", ""),
                ("anno_costruzione", "abc"),
            ],
        ],
        &[
            &[("colore", "giallo")],
            &[
                ("codice_unita", "U2"),
                ("subalterno", "x"),
                ("tipologia", "villa"),
            ],
        ],
    );
    let altra = Tabella::con_colonne("allegati", &["descrizione"]).riga(&[("descrizione", "foto")]);
    // Members written in the reverse order of the spec.
    let z = zip(&[
        ("allegati.csv", csv(&altra, ';')),
        ("unita.csv", csv(&t[1], ';')),
        ("fabbricati.csv", csv(&t[0], ';')),
        ("complessi.csv", csv(&c, ';')),
    ]);
    let r = valida("flusso.zip", z, "patrimonio");
    esattamente(
        &r,
        &[
            e(
                "complessi",
                2,
                "comune_istat",
                Some("999999"),
                "comune_sconosciuto",
            ),
            a(
                "fabbricati",
                3,
                "codice_fabbricato",
                Some("F2"),
                "senza_unita",
            ),
            a("fabbricati", 3, "latitudine", None, "coordinate_mancanti"),
            e("fabbricati", 3, "anno_costruzione", Some("abc"), "tipo"),
            col("unita", "colore", "campo_sconosciuto", AVV),
            e("unita", 3, "tipologia", Some("villa"), "valore_non_ammesso"),
            e("unita", 3, "subalterno", Some("x"), "formato"),
            tab("allegati", "tabella_sconosciuta", AVV),
        ],
    );
    // The tables are listed in the spec's order too.
    assert_eq!(
        r.tabelle
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>(),
        ["complessi", "fabbricati", "unita"]
    );
}

#[test]
fn ordine_contabilita_con_controlli_di_fine() {
    // End-of-flow checks (SAL sequence, running sums) are placed by their row, among the
    // value issues of the same table.
    let r = cont(
        &[&[("titolo", "Rec")]],
        &[
            &[("data_sal", "2019-06-01")],
            &[
                ("numero_sal", "2"),
                ("data_sal", "2019-03-01"),
                ("importo_sal", "1"),
                ("importo_cumulato", "300000.00"),
                ("percentuale_avanzamento", "150"),
            ],
        ],
        &[
            &[("importo", "1000000.00")],
            &[
                ("data_erogazione", "2018-07-02"),
                ("importo", "1.00"),
                ("atto", "X"),
            ],
        ],
        &[],
        &[],
    );
    esattamente(
        &r,
        &[
            e("interventi", 2, "titolo", Some("Rec"), "lunghezza"),
            e("sal", 3, "data_sal", Some("2019-03-01"), "sequenza"),
            e(
                "sal",
                3,
                "importo_cumulato",
                Some("300000.00"),
                "cumulato_errato",
            ),
            e("sal", 3, "percentuale_avanzamento", Some("150"), "massimo"),
            e("erogazioni", 3, "importo", Some("1.00"), "somma_eccedente"),
            e("erogazioni", 3, "atto", Some("X"), "lunghezza"),
        ],
    );
}

#[test]
fn al_massimo_10000_segnalazioni_con_conteggi_completi() {
    // 3 500 rows with 3 errors each: 10 500 issues.
    let mut t = programmi(&[]);
    for i in 0..3500 {
        t = t.riga_da(
            PROGRAMMA,
            &[
                ("codice_programma", &format!("P{i}")),
                ("tipo", "X"),
                ("strumento", "Y"),
                ("fonte", "Z"),
            ],
        );
    }
    let r = valida("programmi.csv", csv(&t, ';'), "programmi");
    assert!(r.troncato);
    assert!(!r.valido);
    assert_eq!(r.segnalazioni.len(), 10_000);
    assert_eq!(r.errori, 10_500);
    assert_eq!(r.avvisi, 0);
    assert_eq!(
        r.conteggi
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect::<Vec<_>>(),
        [("valore_non_ammesso", 10_500)]
    );
    assert_eq!(r.tabelle[0].1.righe, 3500);
    // The first 10 000 in report order are kept: rows 2..=3334 (3 each) and the first issue
    // of row 3335.
    let primo = voce(&r.segnalazioni[0]);
    assert_eq!(
        primo,
        e("programmi", 2, "tipo", Some("X"), "valore_non_ammesso")
    );
    let ultimo = voce(r.segnalazioni.last().unwrap());
    assert_eq!(
        ultimo,
        e("programmi", 3335, "tipo", Some("X"), "valore_non_ammesso")
    );
    let righe: Vec<u64> = r.segnalazioni.iter().map(|s| s.riga.unwrap()).collect();
    assert!(righe.windows(2).all(|w| w[0] <= w[1]));
    // The JSON says so too.
    let j: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
    assert_eq!(j["troncato"], true);
    assert_eq!(j["errori"], 10_500);
    assert_eq!(j["segnalazioni"].as_array().unwrap().len(), 10_000);
}

#[test]
fn esattamente_10000_segnalazioni_non_troncato() {
    // 2 500 rows with 4 errors each: exactly the cap, nothing left out.
    let mut t = programmi(&[]);
    for i in 0..2500 {
        t = t.riga_da(
            PROGRAMMA,
            &[
                ("codice_programma", &format!("P{i}")),
                ("tipo", "X"),
                ("strumento", "Y"),
                ("fonte", "Z"),
                ("atto", "D"),
            ],
        );
    }
    let r = valida("programmi.csv", csv(&t, ';'), "programmi");
    assert!(!r.troncato);
    assert_eq!(r.segnalazioni.len(), 10_000);
    assert_eq!(r.errori, 10_000);
}

// =============================================================================================
// Report outputs.
// =============================================================================================

#[test]
fn report_json_e_csv() {
    let r = pat(&[&[]], &[&[("subalterno", "1a")]]);
    let j: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
    let chiavi: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    let mut chiavi = chiavi;
    chiavi.sort();
    assert_eq!(
        chiavi,
        [
            "avvisi",
            "conteggi",
            "dominio",
            "errori",
            "segnalazioni",
            "tabelle",
            "troncato",
            "valido"
        ]
    );
    assert_eq!(j["tabelle"]["unita"]["righe"], 1);
    assert_eq!(j["conteggi"]["formato"], 1);
    let s = &j["segnalazioni"][0];
    assert_eq!(s["tabella"], "unita");
    assert_eq!(s["riga"], 2);
    assert_eq!(s["campo"], "subalterno");
    assert_eq!(s["valore"], "1a");
    assert_eq!(s["codice"], "formato");
    assert_eq!(s["gravita"], "errore");
    assert!(s["messaggio"].as_str().unwrap().contains("1a"));
    let c = r.csv();
    let mut righe = c.lines();
    assert_eq!(
        righe.next(),
        Some("tabella,riga,campo,valore,codice,gravita,messaggio")
    );
    assert!(
        righe
            .next()
            .unwrap()
            .starts_with("unita,2,subalterno,1a,formato,errore,")
    );
    // File-level issue: null table, row and field.
    let r = valida("flusso.zip", byte_casuali(100, 1), "patrimonio");
    let j: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
    assert_eq!(j["segnalazioni"][0]["tabella"], serde_json::Value::Null);
    assert_eq!(j["segnalazioni"][0]["riga"], serde_json::Value::Null);
    assert_eq!(j["segnalazioni"][0]["campo"], serde_json::Value::Null);
    assert_eq!(j["valido"], false);
}

#[test]
fn messaggi_in_italiano_con_il_valore() {
    let r = pat(
        &[&[("cap", "80100")]],
        &[&[("subalterno", "1a"), ("tipologia", "villa")]],
    );
    for s in &r.segnalazioni {
        let v = s.valore.as_deref().unwrap();
        assert!(
            s.messaggio.contains(v),
            "il messaggio non cita il valore «{v}»: {}",
            s.messaggio
        );
        assert!(s.messaggio.ends_with('.'), "{}", s.messaggio);
    }
}
