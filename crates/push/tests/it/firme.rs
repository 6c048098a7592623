//! Signed flows (`.p7m`) and the trust anchors: a signer is shown as verified only when the
//! certificate chain reaches a certifier configured with `firme_ancore`; a self-made
//! certificate is read (the signature is intact) but the flow page, the receipt and the public
//! validator say plainly that the signer's identity is not verified.

use std::path::Path;
use std::process::Command;

use servizi::config::Strato;

use crate::aiuto::{Opzioni, TestApp};
use crate::flussi::{attendi_validazione, flusso_demo, json, post, token};

const NON_VERIFICATA: &str = "Firma valida, ma l&#x27;identità del firmatario NON è verificata: il certificato non proviene da un certificatore riconosciuto";

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

/// In `dir`: `ca.pem` (a certifier), `vero.pem` (Anna, issued by it), `finto.pem` (a
/// self-made certificate claiming to be Mario Rossi), with their keys.
fn certificati(dir: &Path) {
    let req = |chiave: &str, out: &str, soggetto: &str, x509: bool| {
        let mut a = vec![
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", chiave, "-out", out,
        ];
        if x509 {
            a.extend(["-x509", "-days", "30"]);
        }
        a.extend(["-subj", soggetto]);
        openssl(dir, &a);
    };
    req(
        "ca.key",
        "ca.pem",
        "/CN=Certificatore di prova/O=Prova",
        true,
    );
    req(
        "vero.key",
        "vero.csr",
        "/C=IT/CN=Anna Esempio/serialNumber=TINIT-SMPNNA80A41H501X",
        false,
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "vero.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "vero.pem",
            "-days",
            "30",
        ],
    );
    req(
        "finto.key",
        "finto.pem",
        "/C=IT/CN=Mario Rossi/serialNumber=TINIT-RSSMRA80A01H501U",
        true,
    );
}

/// `contenuto` signed (CAdES, DER) with the certificate `chi` (`vero` or `finto`).
fn firma(dir: &Path, contenuto: &[u8], chi: &str) -> Vec<u8> {
    let nome = format!("{chi}.zip");
    std::fs::write(dir.join(&nome), contenuto).expect("write");
    let (cert, chiave, out) = (
        format!("{chi}.pem"),
        format!("{chi}.key"),
        format!("{nome}.p7m"),
    );
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
            &nome,
            "-signer",
            &cert,
            "-inkey",
            &chiave,
            "-out",
            &out,
        ],
    );
    std::fs::read(dir.join(out)).expect("p7m")
}

async fn carica_firmato(app: &TestApp, t: &str, byte: Vec<u8>) -> i64 {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/flussi?dominio=patrimonio&nome=patrimonio.zip.p7m",
            app.url
        ))
        .bearer_auth(t)
        .header("content-type", "application/pkcs7-mime")
        .body(byte)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    json(r).await["id"].as_i64().expect("id")
}

#[tokio::test]
async fn firmatario_verificato_solo_con_un_certificatore_riconosciuto() {
    let dir = tempfile::tempdir().unwrap();
    certificati(dir.path());
    let ancore = dir.path().join("ancore");
    std::fs::create_dir(&ancore).unwrap();
    std::fs::copy(dir.path().join("ca.pem"), ancore.join("ca.pem")).unwrap();
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            firme_ancore: Some(ancore),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let (_, referente, _) = app.persone("110001");
    let b = app.come(&referente).await;

    // Signed with a certificate from the configured certifier: verified.
    let vero = carica_firmato(
        &app,
        &andria,
        firma(dir.path(), &flusso_demo("110001", 20, 0), "vero"),
    )
    .await;
    let f = attendi_validazione(&app, vero, &andria).await;
    assert_eq!(f["stato"], "valido", "{f}");
    assert_eq!(
        f["firmatario"],
        "Firmato da Anna Esempio (SMPNNA80A41H501X) (certificato verificato)"
    );
    let (_, pagina) = b.testo(&format!("/area/flussi/{vero}")).await;
    assert!(
        pagina.contains("Firmato da Anna Esempio (SMPNNA80A41H501X) (certificato verificato)"),
        "{pagina}"
    );

    // Signed with a self-made certificate claiming to be Mario Rossi: read, never verified.
    let finto = carica_firmato(
        &app,
        &andria,
        firma(dir.path(), &flusso_demo("110001", 20, 1), "finto"),
    )
    .await;
    let f = attendi_validazione(&app, finto, &andria).await;
    assert_eq!(f["stato"], "valido", "{f}");
    let dichiarato = f["firmatario"].as_str().unwrap_or_default();
    assert!(
        dichiarato.starts_with("Firma valida, ma l'identità del firmatario NON è verificata"),
        "{dichiarato}"
    );
    assert!(!dichiarato.contains("Firmato da"), "{dichiarato}");
    let (_, pagina) = b.testo(&format!("/area/flussi/{finto}")).await;
    assert!(pagina.contains(NON_VERIFICATA), "{pagina}");
    assert!(!pagina.contains("Firmato da Mario Rossi"), "{pagina}");
    // The receipt of the submitted flow says the same.
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/flussi/{finto}/invio"),
            &andria,
            None
        )
        .await
        .status(),
        200
    );
    let (stato, ricevuta) = b.testo(&format!("/area/flussi/{finto}/ricevuta")).await;
    assert_eq!(stato, 200);
    assert!(ricevuta.contains(NON_VERIFICATA), "{ricevuta}");
    assert!(!ricevuta.contains("Firmato da Mario Rossi"), "{ricevuta}");

    // The public validator, with the same anchors.
    let anonimo = app.browser();
    let csrf = anonimo.csrf("/documentazione/validatore").await;
    for (chi, atteso, vietato) in [
        ("finto", "NON è verificata", "(certificato verificato)"),
        ("vero", "(certificato verificato)", "NON è verificata"),
    ] {
        let byte = firma(dir.path(), &flusso_demo("110001", 20, 0), chi);
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("dominio", "patrimonio")
            .text("formato", "pagina")
            .part(
                "file",
                reqwest::multipart::Part::bytes(byte).file_name("patrimonio.zip.p7m"),
            );
        let r = anonimo
            .c
            .post(format!("{}/documentazione/validatore", app.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let pagina = r.text().await.unwrap();
        assert!(pagina.contains(atteso), "{chi}: {pagina}");
        assert!(!pagina.contains(vietato), "{chi}: {pagina}");
    }
}

/// Without anchors no signer is verified, and the page says why.
#[tokio::test]
async fn senza_ancore_nessun_firmatario_verificato() {
    let dir = tempfile::tempdir().unwrap();
    certificati(dir.path());
    let app = TestApp::nuova().await;
    let andria = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let id = carica_firmato(
        &app,
        &andria,
        firma(dir.path(), &flusso_demo("110001", 20, 0), "vero"),
    )
    .await;
    let f = attendi_validazione(&app, id, &andria).await;
    let dichiarato = f["firmatario"].as_str().unwrap_or_default();
    assert!(
        dichiarato
            .contains("NON è verificata: il server non ha certificatori riconosciuti configurati"),
        "{dichiarato}"
    );
}
