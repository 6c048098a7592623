//! Programmes and construction-site accounting (issue 9, part 2): who may send which domain,
//! the generated flows as the command line writes and checks them.

use crate::aiuto::TestApp;
use crate::flussi::{json, token};

/// Uploads `byte` as a flow of `dominio` with the token `t`.
pub(crate) async fn carica_dominio(
    app: &TestApp,
    t: &str,
    dominio: &str,
    byte: Vec<u8>,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/api/v1/flussi?dominio={dominio}&nome={dominio}.zip",
            app.url
        ))
        .bearer_auth(t)
        .header("content-type", "application/zip")
        .body(byte)
        .send()
        .await
        .unwrap()
}

/// The programme list and an accounting flow of `ente`, as `push demo genera` writes them.
pub(crate) fn generati(ente: &str, interventi: u64, fabbricati: u64) -> (Vec<u8>, Vec<u8>) {
    use flussi::genera::FormatoGenerato::ZipCsv;
    use flussi::genera::contabilita::{OpzioniContabilita, genera_contabilita, genera_programmi};
    let dir = tempfile::tempdir().unwrap();
    let (p, c) = (dir.path().join("p.zip"), dir.path().join("c.zip"));
    genera_programmi(ZipCsv, &p).unwrap();
    genera_contabilita(
        &OpzioniContabilita {
            interventi,
            seme: 5,
            ente: ente.into(),
            fabbricati,
            oggi: dominio::orologio::oggi(),
        },
        ZipCsv,
        &c,
    )
    .unwrap();
    (std::fs::read(p).unwrap(), std::fs::read(c).unwrap())
}

#[tokio::test]
async fn ogni_dominio_dalla_sua_area_e_i_programmi_solo_dalla_regione() {
    let app = TestApp::nuova().await;
    let (programmi, contabilita) = generati("110001", 5, 0);
    let patrimonio = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let programmi_andria = token(&app, "110001", &[dominio::Area::Programmi]).await;
    let regione = token(&app, "REGIONE", &[]).await;

    // A PATRIMONIO token cannot send accounting, a PROGRAMMI token cannot send assets.
    let r = carica_dominio(&app, &patrimonio, "contabilita", contabilita.clone()).await;
    assert_eq!(r.status(), 403);
    let p = json(r).await;
    assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
    assert_eq!(
        carica_dominio(&app, &programmi_andria, "patrimonio", contabilita.clone())
            .await
            .status(),
        403
    );
    // Programmes are the Region's: an entity's token cannot send them, with any area.
    assert_eq!(
        carica_dominio(&app, &programmi_andria, "programmi", programmi.clone())
            .await
            .status(),
        403
    );
    // The Region does not send an entity's accounting.
    assert_eq!(
        carica_dominio(&app, &regione, "contabilita", contabilita.clone())
            .await
            .status(),
        403
    );
    // The Region's token gets past the authorization for its programmes.
    let r = carica_dominio(&app, &regione, "programmi", programmi).await;
    assert!(
        !matches!(r.status().as_u16(), 401 | 403 | 404),
        "{}",
        r.status()
    );
    // And a PROGRAMMI token for its accounting.
    let r = carica_dominio(&app, &programmi_andria, "contabilita", contabilita).await;
    assert!(
        !matches!(r.status().as_u16(), 401 | 403 | 404),
        "{}",
        r.status()
    );
}

#[tokio::test]
async fn genera_e_valida_dalla_riga_di_comando() {
    let app = TestApp::nuova().await;
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).to_string_lossy().to_string();
    let ok = |o: std::process::Output| {
        assert!(
            o.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let e = ok(app.push(&[
        "demo",
        "genera",
        "--dominio",
        "patrimonio",
        "--ente",
        "110001",
        "--unita",
        "200",
        "--output",
        &out("pat.zip"),
    ]));
    // «Generati 3 complessi, 17 fabbricati, 200 unità in …»: the buildings the accounting links.
    let fabbricati: String = e
        .split(" fabbricati")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .unwrap()
        .to_string();
    ok(app.push(&[
        "demo",
        "genera",
        "--dominio",
        "programmi",
        "--output",
        &out("prog.zip"),
    ]));
    let e = ok(app.push(&[
        "demo",
        "genera",
        "--dominio",
        "contabilita",
        "--ente",
        "110001",
        "--interventi",
        "120",
        "--fabbricati",
        &fabbricati,
        "--output",
        &out("cont.zip"),
    ]));
    assert!(e.contains("Generati 120 interventi"), "{e}");
    // Checked offline against both references: valid, no warning at all.
    let o = app.push(&[
        "validate",
        "--dominio",
        "contabilita",
        "--ente",
        "110001",
        "--programmi",
        &out("prog.zip"),
        "--patrimonio",
        &out("pat.zip"),
        "--formato",
        "json",
        &out("cont.zip"),
    ]);
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{rep}");
    assert_eq!(rep["errori"], 0, "{}", rep["conteggi"]);
    assert_eq!(rep["avvisi"], 0, "{}", rep["conteggi"]);
    assert_eq!(rep["tabelle"]["interventi"]["righe"], 120);
    // Without the buildings the links point to nothing: fabbricato_sconosciuto warnings.
    let o = app.push(&[
        "validate",
        "--dominio",
        "contabilita",
        "--ente",
        "110001",
        "--programmi",
        &out("prog.zip"),
        "--formato",
        "json",
        &out("cont.zip"),
    ]);
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rep["conteggi"]["controllo_non_eseguito"], 1, "{rep}");
    // Wrong or missing options: exit status 2.
    let o = app.push(&[
        "demo",
        "genera",
        "--dominio",
        "contabilita",
        "--output",
        &out("x.zip"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = app.push(&[
        "demo",
        "genera",
        "--dominio",
        "contabilita",
        "--interventi",
        "3",
        "--alla-data",
        "31/12/2024",
        "--output",
        &out("x.zip"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // A fixed reference day gives the same bytes.
    for n in ["a.zip", "b.zip"] {
        ok(app.push(&[
            "demo",
            "genera",
            "--dominio",
            "contabilita",
            "--interventi",
            "30",
            "--alla-data",
            "2024-12-31",
            "--output",
            &out(n),
        ]));
    }
    assert_eq!(
        std::fs::read(out("a.zip")).unwrap(),
        std::fs::read(out("b.zip")).unwrap()
    );
}
