//! Signed flows end to end: a real CAdES `.p7m` made with `openssl cms -sign` around a generated
//! ZIP flow is verified, unwrapped and validated; the signer goes into the report; a tampered
//! file is `firma_non_valida`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use flussi::lettori::dati::Dati;

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl a riga di comando");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA, a signer certificate with the Italian serialNumber, and a signed generated flow.
fn prepara(dir: &Path) -> Vec<u8> {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=CA di prova/O=Prova",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "f.key",
            "-out",
            "f.csr",
            "-subj",
            "/C=IT/CN=Anna Esempio/serialNumber=TINIT-RSSMRA80A01H501U",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "f.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "f.pem",
            "-days",
            "30",
        ],
    );
    flussi::genera::genera_patrimonio(
        &flussi::genera::OpzioniGenera {
            unita: 100,
            seme: 3,
            ente: "110001".into(),
        },
        flussi::genera::FormatoGenerato::ZipCsv,
        &dir.join("flusso.zip"),
    )
    .expect("genera");
    openssl(
        dir,
        &[
            "cms",
            "-sign",
            "-cades",
            "-binary",
            "-nodetach",
            "-outform",
            "DER",
            "-in",
            "flusso.zip",
            "-signer",
            "f.pem",
            "-inkey",
            "f.key",
            "-out",
            "flusso.zip.p7m",
        ],
    );
    std::fs::read(dir.join("flusso.zip.p7m")).expect("p7m")
}

fn valida(nome: &str, byte: Vec<u8>, ancore: Option<&Path>) -> flussi::Report {
    let d = flussi::spec::dominio("patrimonio").expect("dominio");
    let o = flussi::Opzioni::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("data"));
    flussi::valida_file(nome, Dati::Byte(Arc::new(byte)), d, &o, ancore)
}

#[test]
fn flusso_firmato_valido_tampered_e_ancore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p7m = prepara(dir.path());
    let r = valida("flusso.zip.p7m", p7m.clone(), None);
    assert!(r.valido, "{:?}", r.segnalazioni);
    let f = r.firma.as_ref().expect("firma nel rapporto");
    assert_eq!(f.codice_fiscale.as_deref(), Some("RSSMRA80A01H501U"));
    assert_eq!(f.firmatario.as_deref(), Some("Anna Esempio"));
    assert!(f.certificato_valido);
    let j: serde_json::Value = serde_json::from_str(&r.json()).expect("json");
    assert_eq!(j["firma"]["codice_fiscale"], "RSSMRA80A01H501U");

    // Trust anchors: with the right CA the signer is verified.
    let ancore = dir.path().join("ancore");
    std::fs::create_dir(&ancore).expect("dir");
    std::fs::copy(dir.path().join("ca.pem"), ancore.join("ca.pem")).expect("copia");
    let r = valida("flusso.zip.p7m", p7m.clone(), Some(&ancore));
    assert!(r.valido);
    assert_eq!(r.firma.as_ref().and_then(|f| f.attendibile), Some(true));
    let altre = dir.path().join("altre");
    std::fs::create_dir(&altre).expect("dir");
    openssl(
        &altre,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "x.key",
            "-out",
            "x.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Altra CA",
        ],
    );
    std::fs::remove_file(altre.join("x.key")).expect("rm");
    // Another CA: the file is intact and read, but the signer is not verified, and the report
    // says so plainly.
    let r = valida("flusso.zip.p7m", p7m.clone(), Some(&altre));
    assert!(r.valido, "{:?}", r.segnalazioni);
    assert_eq!(r.firma.as_ref().and_then(|f| f.attendibile), Some(false));
    assert!(
        r.testo()
            .contains("l'identità del firmatario NON è verificata"),
        "{}",
        r.testo()
    );

    // One byte changed inside the signed content.
    let mut alterato = p7m;
    let i = alterato.len() / 2;
    alterato[i] ^= 0x01;
    let r = valida("flusso.zip.p7m", alterato, None);
    assert!(!r.valido);
    assert_eq!(
        r.segnalazioni[0].codice, "firma_non_valida",
        "{:?}",
        r.segnalazioni
    );
    assert_eq!(r.segnalazioni[0].tabella, None);
}
