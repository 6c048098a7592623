//! What a civil servant reads on the pages: Italian numbers, money and dates, people by name
//! with their codice fiscale (receipts, audit log), and a reserved-area home that describes
//! what exists.

use crate::aiuto::{Opzioni, TestApp, senza_escape as testo};

/// `1.234,56 €`: groups of three digits after the first, a comma, two decimals, the sign.
fn euro_italiano(s: &str) -> bool {
    let Some(numero) = s.strip_suffix(" €") else {
        return false;
    };
    let Some((intera, decimali)) = numero.rsplit_once(',') else {
        return false;
    };
    let gruppi: Vec<&str> = intera.split('.').collect();
    decimali.len() == 2
        && decimali.bytes().all(|b| b.is_ascii_digit())
        && gruppi
            .iter()
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
        && gruppi[0].len() <= 3
        && gruppi[1..].iter().all(|g| g.len() == 3)
}

#[test]
fn forma_degli_importi() {
    assert!(euro_italiano("181,00 €"));
    assert!(euro_italiano("1.234,56 €"));
    assert!(!euro_italiano("181.00"));
    assert!(!euro_italiano("1234,56 €"));
    assert!(!euro_italiano("1,234.56 €"));
}

#[tokio::test]
async fn numeri_date_e_persone_come_li_legge_chi_lavora() {
    let app = TestApp::con(Opzioni {
        flussi_demo: true,
        ..Default::default()
    })
    .await;
    let admin = app.demo.amministratore.as_ref().unwrap();
    let (_, referente, _) = app.persone("110001");
    let b = app.come(&admin.cf.to_string()).await;

    // The audit log: authors by name, then code.
    let (s, audit) = b.testo("/area/audit").await;
    assert_eq!(s, 200);
    let audit = testo(&audit);
    assert!(
        audit.contains(&format!("<td>{} ({})</td>", admin.nome, admin.cf)),
        "{audit}"
    );
    // Its text filters are typed fields (Bootstrap Italia draws only those).
    assert!(audit.contains(r#"type="text" class="form-control" id="attore""#));

    // A receipt: who submitted it, by name; sizes with thousands separators.
    let (_, flussi) = b.testo("/area/flussi").await;
    let id = flussi
        .split("href=\"/area/flussi/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|s| s.chars().all(|c| c.is_ascii_digit()))
        .expect("un flusso della demo")
        .to_string();
    let (s, ricevuta) = b.testo(&format!("/area/flussi/{id}/ricevuta")).await;
    assert_eq!(s, 200);
    let ricevuta = testo(&ricevuta);
    // The demo's flows are sent by each entity's PATRIMONIO referent.
    let inviato_da = ricevuta
        .split("Inviato da</dt><dd class=\"col-sm-8\">")
        .nth(1)
        .and_then(|s| s.split("</dd>").next())
        .expect("chi ha inviato");
    assert!(
        app.demo
            .enti
            .iter()
            .any(|(_, _, r, _)| inviato_da == format!("{} ({})", r.nome, r.cf)),
        "{inviato_da}"
    );
    let byte = ricevuta
        .split(".zip (")
        .nth(1)
        .and_then(|s| s.split(" byte)").next())
        .expect("dimensione del file");
    assert!(
        byte.contains('.') && byte.replace('.', "").parse::<u64>().unwrap() > 999,
        "{byte}"
    );

    // A unit's rent, `181,00 €` (never `181.00`), and its dates, `31/12/2026`.
    let (s, elenco) = b
        .testo("/area/registro/unita?ente=110001&tipologia=ALLOGGIO&stato_occupazione=ASSEGNATO")
        .await;
    assert_eq!(s, 200);
    let unita = testo(&elenco)
        .split("href=\"/area/registro/unita/110001/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("un alloggio assegnato")
        .to_string();
    let (_, pagina) = b
        .testo(&format!("/area/registro/unita/110001/{unita}"))
        .await;
    let pagina = testo(&pagina);
    let cella = |etichetta: &str| {
        pagina
            .split(&format!(">{etichetta}</th><td>"))
            .nth(1)
            .and_then(|s| s.split("</td>").next())
            .unwrap_or_else(|| panic!("{etichetta}: {pagina}"))
            .to_string()
    };
    let canone = cella("Canone mensile (€)");
    assert!(euro_italiano(&canone), "{canone}");
    let data = cella("Data di assegnazione");
    assert!(
        data.len() == 10 && &data[2..3] == "/" && &data[5..6] == "/",
        "{data}"
    );

    // The reserved area's home of a referent says what exists.
    let r = app.come(&referente).await;
    let (_, area) = r.testo("/area").await;
    let area = testo(&area);
    assert!(!area.contains("sarà disponibile"), "{area}");
    assert!(
        area.contains(r#"<a href="/area/flussi">Flussi</a>"#),
        "{area}"
    );
}
