//! `push validate`: the command-line contract of `validazione.md` §5, on the real binary.
//! Exit status 0 valid, 1 not valid (an unreadable file too), 2 the command could not run;
//! `--formato json` prints exactly one JSON object, `--formato csv` the issues with the keys of
//! §3 as header; nothing on standard error when it is not a terminal; `--ente`, `--programmi`
//! and `--patrimonio` enable the checks that need them.
//!
//! The flows are the sample files of the documentation (`crates/flussi/tests/dati/`), plus a
//! few written here (JSON, CSV and broken files).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A sample file of the documentation.
fn campione(nome: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../flussi/tests/dati")
        .join(nome);
    assert!(p.is_file(), "manca il campione {}", p.display());
    p
}

/// Runs `push validate <args>` with a clean environment (stdin, stdout and stderr are not a
/// terminal).
fn validate<S: AsRef<OsStr>>(args: &[S]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_push"))
        .arg("validate")
        .args(args)
        .current_dir(dir.path())
        .env("PUSH_DATA_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("PUSH_MODALITA")
        .env_remove("PUSH_ACCESSO_SVILUPPO")
        .env_remove("PUSH_FIRME_ANCORE")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("standard output in UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit status and an empty standard error.
#[track_caller]
fn esce_con(o: &Output, codice: i32) {
    assert_eq!(
        o.status.code(),
        Some(codice),
        "stato d'uscita inatteso\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

/// The only JSON object on standard output (fails if there is anything else).
#[track_caller]
fn json_unico(o: &Output) -> Value {
    let s = stdout(o);
    let valori: Vec<Value> = serde_json::Deserializer::from_str(&s)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("lo standard output non è JSON ({e}):\n{s}"));
    assert_eq!(valori.len(), 1, "più di un valore JSON:\n{s}");
    assert!(valori[0].is_object(), "non è un oggetto:\n{s}");
    valori.into_iter().next().unwrap()
}

fn validate_json<S: AsRef<OsStr>>(args: &[S]) -> (Output, Value) {
    let mut a: Vec<&OsStr> = vec![OsStr::new("--formato"), OsStr::new("json")];
    a.extend(args.iter().map(AsRef::as_ref));
    let o = validate(&a);
    assert!(
        o.stderr.is_empty(),
        "lo standard error non è vuoto:\n{}",
        stderr(&o)
    );
    let j = json_unico(&o);
    (o, j)
}

fn codici(j: &Value) -> Vec<String> {
    j["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["codice"].as_str().unwrap().to_string())
        .collect()
}

fn conta(j: &Value, codice: &str) -> usize {
    codici(j).iter().filter(|c| *c == codice).count()
}

/// Issues with a code on one table.
fn conta_in(j: &Value, tabella: &str, codice: &str) -> usize {
    j["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codice"] == codice && s["tabella"] == tabella)
        .count()
}

/// The report the engine gives in-process for the same file (same date, no options).
fn report_in_processo(file: &Path, dominio: &str) -> flussi::Report {
    flussi::valida_file(
        &file.file_name().unwrap().to_string_lossy(),
        flussi::lettori::dati::Dati::File(file.to_path_buf()),
        flussi::spec::dominio(dominio).unwrap(),
        &flussi::Opzioni::new(dominio::orologio::oggi()),
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// Exit status.
// ---------------------------------------------------------------------------------------------

#[test]
fn flusso_valido_esce_con_0() {
    for (dominio, file) in [
        ("patrimonio", "patrimonio-valido.zip"),
        ("contabilita", "contabilita-valido.zip"),
        ("programmi", "programmi-valido.csv"),
    ] {
        let p = campione(file);
        let o = validate(&[OsStr::new("--dominio"), OsStr::new(dominio), p.as_os_str()]);
        esce_con(&o, 0);
        assert!(o.stderr.is_empty(), "{}", stderr(&o));
        assert!(stdout(&o).contains("VALIDO"), "{}", stdout(&o));
    }
}

#[test]
fn flusso_non_valido_esce_con_1() {
    for (dominio, file) in [
        ("patrimonio", "patrimonio-errori.zip"),
        ("contabilita", "contabilita-errori.zip"),
        // A valid flow of another domain: its tables are all missing.
        ("patrimonio", "contabilita-valido.zip"),
    ] {
        let p = campione(file);
        let o = validate(&[OsStr::new("--dominio"), OsStr::new(dominio), p.as_os_str()]);
        esce_con(&o, 1);
        assert!(o.stderr.is_empty(), "{}", stderr(&o));
        assert!(stdout(&o).contains("NON VALIDO"), "{}", stdout(&o));
    }
}

#[test]
fn file_illeggibile_esce_con_1() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("flusso.zip");
    let mut byte = b"PK\x03\x04".to_vec();
    byte.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    std::fs::write(&zip, &byte).unwrap();
    let (o, j) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("patrimonio"),
        zip.as_os_str(),
    ]);
    esce_con(&o, 1);
    assert_eq!(j["valido"], false);
    assert_eq!(codici(&j), ["file_illeggibile"]);
    let s = &j["segnalazioni"][0];
    assert_eq!(s["tabella"], Value::Null);
    assert_eq!(s["riga"], Value::Null);
    assert_eq!(s["gravita"], "errore");
    // A truncated sample too.
    let intero = std::fs::read(campione("patrimonio-valido.zip")).unwrap();
    std::fs::write(&zip, &intero[..intero.len() / 2]).unwrap();
    let (o, j) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("patrimonio"),
        zip.as_os_str(),
    ]);
    esce_con(&o, 1);
    assert_eq!(codici(&j), ["file_illeggibile"]);
    // An unsupported format is a report too, not a command error.
    let xls = dir.path().join("flusso.xls");
    std::fs::write(&xls, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1").unwrap();
    let (o, j) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("patrimonio"),
        xls.as_os_str(),
    ]);
    esce_con(&o, 1);
    assert_eq!(codici(&j), ["formato_non_supportato"]);
}

#[test]
fn comando_non_eseguibile_esce_con_2() {
    let valido = campione("patrimonio-valido.zip");
    let valido = valido.to_str().unwrap();
    let casi: &[&[&str]] = &[
        // Unknown domain.
        &["--dominio", "inquilini", valido],
        // Missing file.
        &["--dominio", "patrimonio", "/non/esiste/flusso.zip"],
        // A directory is not a file.
        &["--dominio", "patrimonio", "/"],
        // Unknown report format.
        &["--dominio", "patrimonio", "--formato", "xml", valido],
        // Unknown entity.
        &["--dominio", "patrimonio", "--ente", "999999", valido],
        &["--dominio", "patrimonio", "--ente", "ARCA-XX", valido],
        // Reference files that do not exist.
        &[
            "--dominio",
            "contabilita",
            "--programmi",
            "/non/esiste/programmi.csv",
            valido,
        ],
        &[
            "--dominio",
            "contabilita",
            "--patrimonio",
            "/non/esiste/patrimonio.zip",
            valido,
        ],
        // Missing arguments.
        &["--dominio", "patrimonio"],
        &[valido],
    ];
    for args in casi {
        let o = validate(args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: stato {:?}\nstdout:\n{}\nstderr:\n{}",
            o.status.code(),
            stdout(&o),
            stderr(&o)
        );
        assert!(
            o.stdout.is_empty(),
            "{args:?}: lo standard output deve restare vuoto: {}",
            stdout(&o)
        );
        assert!(
            !o.stderr.is_empty(),
            "{args:?}: l'errore va spiegato sullo standard error"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Output formats.
// ---------------------------------------------------------------------------------------------

#[test]
fn formato_json_un_solo_oggetto_con_le_chiavi_del_contratto() {
    let p = campione("patrimonio-errori.zip");
    let (o, j) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("patrimonio"),
        p.as_os_str(),
    ]);
    esce_con(&o, 1);
    let mut chiavi: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
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
    assert_eq!(j["dominio"], "patrimonio");
    assert_eq!(j["valido"], false);
    assert_eq!(j["troncato"], false);
    assert!(j["errori"].as_u64().unwrap() > 0);
    assert_eq!(j["tabelle"]["complessi"]["righe"], 2);
    assert_eq!(j["tabelle"]["fabbricati"]["righe"], 3);
    assert_eq!(j["tabelle"]["unita"]["righe"], 12);
    let segnalazioni = j["segnalazioni"].as_array().unwrap();
    let somma: u64 = j["conteggi"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(somma as usize, segnalazioni.len());
    assert_eq!(
        somma,
        j["errori"].as_u64().unwrap() + j["avvisi"].as_u64().unwrap()
    );
    for s in segnalazioni {
        let mut k: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort();
        assert_eq!(
            k,
            [
                "campo",
                "codice",
                "gravita",
                "messaggio",
                "riga",
                "tabella",
                "valore"
            ]
        );
        assert!(["errore", "avviso"].contains(&s["gravita"].as_str().unwrap()));
        assert!(!s["messaggio"].as_str().unwrap().is_empty());
    }
    // The offline validator gives the report of the engine (validazione.md §1).
    let atteso: Value = serde_json::from_str(&report_in_processo(&p, "patrimonio").json()).unwrap();
    assert_eq!(j, atteso);
}

#[test]
fn formato_csv_con_l_intestazione_del_contratto() {
    let p = campione("contabilita-errori.zip");
    let o = validate(&[
        OsStr::new("--dominio"),
        OsStr::new("contabilita"),
        OsStr::new("--formato"),
        OsStr::new("csv"),
        p.as_os_str(),
    ]);
    esce_con(&o, 1);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let s = stdout(&o);
    assert_eq!(
        s.lines().next(),
        Some("tabella,riga,campo,valore,codice,gravita,messaggio")
    );
    let r = report_in_processo(&p, "contabilita");
    let mut atteso = r.csv();
    if !atteso.ends_with('\n') {
        atteso.push('\n');
    }
    assert_eq!(s, atteso);
    // The two skipped checks come first (no table, no row), then the issues by table.
    let seconda = s.lines().nth(1).unwrap();
    assert!(
        seconda.starts_with(",,codice_programma,,controllo_non_eseguito,avviso,"),
        "{seconda}"
    );
    // A valid flow: the header alone.
    let p = campione("programmi-valido.csv");
    let o = validate(&[
        OsStr::new("--dominio"),
        OsStr::new("programmi"),
        OsStr::new("--formato"),
        OsStr::new("csv"),
        p.as_os_str(),
    ]);
    esce_con(&o, 0);
    assert_eq!(
        stdout(&o),
        "tabella,riga,campo,valore,codice,gravita,messaggio\r\n"
    );
}

#[test]
fn formato_testo_predefinito_in_italiano() {
    let p = campione("patrimonio-errori.zip");
    let o = validate(&[
        OsStr::new("--dominio"),
        OsStr::new("patrimonio"),
        p.as_os_str(),
    ]);
    esce_con(&o, 1);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("NON VALIDO"), "{s}");
    assert!(s.contains("subalterno"), "{s}");
    assert!(s.contains("«1 bis»"), "{s}");
    let o2 = validate(&[
        OsStr::new("--dominio"),
        OsStr::new("patrimonio"),
        OsStr::new("--formato"),
        OsStr::new("testo"),
        p.as_os_str(),
    ]);
    assert_eq!(o2.stdout, o.stdout);
}

#[test]
fn file_json_e_csv_singolo() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("flusso.json");
    std::fs::write(
        &j,
        serde_json::to_vec(&serde_json::json!({
            "programmi": [{
                "codice_programma": "PRU-2010", "denominazione": "Programmi di recupero urbano",
                "tipo": "complesso", "strumento": "PRU", "fonte": "REGIONALE",
                "atto": "DGR 1234/2010", "data_atto": "18/05/2010", "importo_programma": 0
            }]
        }))
        .unwrap(),
    )
    .unwrap();
    let (o, r) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("programmi"),
        j.as_os_str(),
    ]);
    esce_con(&o, 1);
    assert_eq!(codici(&r), ["minimo"]);
    let s = &r["segnalazioni"][0];
    assert_eq!(s["tabella"], "programmi");
    assert_eq!(s["riga"], 1);
    assert_eq!(s["campo"], "importo_programma");
    assert_eq!(s["valore"], "0");
    // A single CSV is accepted for programmi only.
    let (o, r) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("patrimonio"),
        campione("programmi-valido.csv").as_os_str(),
    ]);
    esce_con(&o, 1);
    assert_eq!(codici(&r), ["formato_non_supportato"]);
}

// ---------------------------------------------------------------------------------------------
// Options that enable checks.
// ---------------------------------------------------------------------------------------------

#[test]
fn ente_abilita_fuori_territorio() {
    // The valid sample has three buildings in Bari (072006).
    let p = campione("patrimonio-valido.zip");
    let con = |ente: Option<&str>| {
        let mut a = vec![OsStr::new("--dominio"), OsStr::new("patrimonio")];
        if let Some(e) = ente {
            a.push(OsStr::new("--ente"));
            a.push(OsStr::new(e));
        }
        a.push(p.as_os_str());
        validate_json(&a)
    };
    let (o, j) = con(None);
    esce_con(&o, 0);
    assert_eq!(conta(&j, "fuori_territorio"), 0);
    for (ente, attesi) in [
        ("072006", 0),
        ("72006", 0),
        ("072004", 3),
        ("ARCA-PC", 0),
        ("arca-pc", 0),
        ("ARCA-SS", 3),
        ("REGIONE", 0),
    ] {
        let (o, j) = con(Some(ente));
        // Warnings never block.
        esce_con(&o, 0);
        // On the buildings (the engine also warns on `complessi`: see the flussi tests).
        assert_eq!(
            conta_in(&j, "fabbricati", "fuori_territorio"),
            attesi,
            "--ente {ente}"
        );
        if attesi > 0 {
            let s = j["segnalazioni"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["codice"] == "fuori_territorio" && s["tabella"] == "fabbricati")
                .unwrap();
            assert_eq!(s["riga"], 2);
            assert_eq!(s["campo"], "comune_istat");
            assert_eq!(s["valore"], "072006");
            assert_eq!(s["gravita"], "avviso");
        }
    }
    // On contabilita too.
    let (o, j) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("contabilita"),
        OsStr::new("--ente"),
        OsStr::new("072004"),
        campione("contabilita-valido.zip").as_os_str(),
    ]);
    esce_con(&o, 0);
    assert_eq!(conta(&j, "fuori_territorio"), 3);
}

#[test]
fn programmi_e_patrimonio_abilitano_i_controlli_tra_flussi() {
    let programmi = campione("programmi-valido.csv");
    let patrimonio = campione("patrimonio-valido.zip");
    let esegui = |file: &str, con_programmi: bool, con_patrimonio: bool| {
        let f = campione(file);
        let mut a: Vec<&OsStr> = vec![OsStr::new("--dominio"), OsStr::new("contabilita")];
        if con_programmi {
            a.push(OsStr::new("--programmi"));
            a.push(programmi.as_os_str());
        }
        if con_patrimonio {
            a.push(OsStr::new("--patrimonio"));
            a.push(patrimonio.as_os_str());
        }
        a.push(f.as_os_str());
        validate_json(&a)
    };

    // Offline without reference files: one controllo_non_eseguito per skipped check.
    let (o, j) = esegui("contabilita-valido.zip", false, false);
    esce_con(&o, 0);
    assert_eq!(conta(&j, "controllo_non_eseguito"), 2);
    let campi: Vec<&str> = j["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codice"] == "controllo_non_eseguito")
        .map(|s| {
            assert_eq!(s["tabella"], Value::Null);
            assert_eq!(s["riga"], Value::Null);
            assert_eq!(s["gravita"], "avviso");
            s["campo"].as_str().unwrap()
        })
        .collect();
    assert_eq!(campi, ["codice_programma", "codice_fabbricato"]);

    // Only the programmes: one check still skipped.
    let (o, j) = esegui("contabilita-valido.zip", true, false);
    esce_con(&o, 0);
    assert_eq!(conta(&j, "controllo_non_eseguito"), 1);
    assert_eq!(j["segnalazioni"][0]["campo"], "codice_fabbricato");

    // Only the asset register.
    let (o, j) = esegui("contabilita-valido.zip", false, true);
    esce_con(&o, 0);
    assert_eq!(conta(&j, "controllo_non_eseguito"), 1);
    assert_eq!(j["segnalazioni"][0]["campo"], "codice_programma");

    // Both: nothing skipped, nothing to report on the valid sample.
    let (o, j) = esegui("contabilita-valido.zip", true, true);
    esce_con(&o, 0);
    assert_eq!(j["avvisi"], 0);
    assert_eq!(j["errori"], 0);
    assert_eq!(j["segnalazioni"], serde_json::json!([]));

    // On the sample with errors: the two checks run and find what they must.
    let (o, j) = esegui("contabilita-errori.zip", true, true);
    esce_con(&o, 1);
    assert_eq!(conta(&j, "controllo_non_eseguito"), 0);
    assert_eq!(conta(&j, "programma_sconosciuto"), 1);
    assert_eq!(conta(&j, "fabbricato_sconosciuto"), 1);
    let s = j["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codice"] == "programma_sconosciuto")
        .unwrap();
    assert_eq!(s["tabella"], "interventi");
    assert_eq!(s["riga"], 4);
    assert_eq!(s["campo"], "codice_programma");
    assert_eq!(s["valore"], "PRU-2010");
    assert_eq!(s["gravita"], "errore");
    let s = j["segnalazioni"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codice"] == "fabbricato_sconosciuto")
        .unwrap();
    assert_eq!(s["tabella"], "interventi_fabbricati");
    assert_eq!(s["riga"], 4);
    assert_eq!(s["campo"], "codice_fabbricato");
    assert_eq!(s["valore"], "BA-SP-009");
    assert_eq!(s["gravita"], "avviso");

    // Without them, the same file has neither.
    let (o, j) = esegui("contabilita-errori.zip", false, false);
    esce_con(&o, 1);
    assert_eq!(conta(&j, "programma_sconosciuto"), 0);
    assert_eq!(conta(&j, "fabbricato_sconosciuto"), 0);
    assert_eq!(conta(&j, "controllo_non_eseguito"), 2);
}

#[test]
fn programmi_da_file_json() {
    // The programmes file may be in any accepted container.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("programmi.json");
    std::fs::write(
        &p,
        br#"{"programmi": [{"codice_programma": "CDQ-II"}, {"codice_programma": "PIANO-CASA-2009"}, {"codice_programma": "PINQUA-2021"}]}"#,
    )
    .unwrap();
    let (o, j) = validate_json(&[
        OsStr::new("--dominio"),
        OsStr::new("contabilita"),
        OsStr::new("--programmi"),
        p.as_os_str(),
        campione("contabilita-valido.zip").as_os_str(),
    ]);
    esce_con(&o, 0);
    assert_eq!(conta(&j, "programma_sconosciuto"), 0);
    assert_eq!(conta(&j, "controllo_non_eseguito"), 1);
}
