//! News: the Region publishes (Markdown, attachments, audience, banner), each reader sees
//! only what is meant for them, hostile Markdown/HTML is neutralised, attachments are bounded
//! and served as downloads, public pages show no personal data.

use reqwest::multipart::{Form, Part};

use crate::aiuto::{Browser, TestApp};

const BARI: &str = "072006";
const ANDRIA: &str = "110001";

const OSTILE: &str = "Avviso **importante**.\n\n<script>window.__xss = 1</script>\n\n\
<img src=x onerror=\"window.__xss = 2\">\n\n[apri](javascript:window.__xss=3) \
<a href=\"https://www.regione.puglia.it\" onclick=\"window.__xss=4\">Regione</a>\n\n\
<iframe src=\"https://example.org\"></iframe><svg onload=\"window.__xss=5\"></svg>\n\n\
| colonna | valore |\n|---|---|\n| a | 1 |\n";

pub(crate) async fn pubblica(
    b: &Browser,
    campi: &[(&str, &str)],
    allegati: Vec<(&str, Vec<u8>)>,
) -> reqwest::Response {
    let t = b.csrf("/area").await;
    let mut f = Form::new().text("_csrf", t);
    for (k, v) in campi {
        f = f.text(k.to_string(), v.to_string());
    }
    for (nome, byte) in allegati {
        f = f.part("allegati", Part::bytes(byte).file_name(nome.to_string()));
    }
    b.c.post(format!("{}/area/comunicazioni", b.base))
        .multipart(f)
        .send()
        .await
        .unwrap()
}

fn id_da(r: &reqwest::Response) -> i64 {
    let l = r.headers()["location"].to_str().unwrap();
    l.trim_start_matches("/comunicazioni/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{l}"))
}

#[tokio::test]
async fn comunicazioni_per_destinatari_con_allegati_e_banner() {
    let app = TestApp::nuova().await;
    let admin = app.come(&app.admin()).await;
    let oggi = app.p.orologio.oggi().to_string();
    let r = pubblica(
        &admin,
        &[
            ("titolo", "Avvio della raccolta 2026"),
            ("corpo", OSTILE),
            ("pubblico", "pubblico"),
            ("banner_dal", &oggi),
        ],
        vec![("nota <1>.pdf", b"%PDF-1.4 prova".to_vec())],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let pubblica_id = id_da(&r);
    let r = pubblica(
        &admin,
        &[
            ("titolo", "Solo per Bari"),
            ("corpo", "Riservata al Comune di Bari."),
            ("pubblico", "selezione"),
            ("enti", BARI),
        ],
        vec![],
    )
    .await;
    assert_eq!(r.status(), 303);
    let bari_id = id_da(&r);
    let r = pubblica(
        &admin,
        &[
            ("titolo", "Per tutti gli enti"),
            ("corpo", "Agli enti registrati."),
            ("pubblico", "enti"),
        ],
        vec![],
    )
    .await;
    let enti_id = id_da(&r);

    // The public: the public news on the home page, with its banner; nothing else.
    let anonimo = app.browser();
    let (s, home) = anonimo.testo("/").await;
    assert_eq!(s, 200);
    assert!(
        home.contains("Avvio della raccolta 2026") && home.contains("push-banner-comunicazione"),
        "{home}"
    );
    assert!(!home.contains("Solo per Bari") && !home.contains("Per tutti gli enti"));
    let (s, pagina) = anonimo
        .testo(&format!("/comunicazioni/{pubblica_id}"))
        .await;
    assert_eq!(s, 200);
    assert!(
        pagina.contains("<strong>importante</strong>") && pagina.contains("<table>"),
        "{pagina}"
    );
    let corpo = &pagina[pagina.find("push-corpo-notizia").unwrap()..];
    let corpo = &corpo[..corpo.find("</article>").unwrap()];
    for vietato in [
        "<script",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "<iframe",
        "<img",
        "<svg",
    ] {
        assert!(!corpo.contains(vietato), "{vietato} nel corpo: {corpo}");
    }
    assert_eq!(
        anonimo
            .get(&format!("/comunicazioni/{bari_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        anonimo
            .get(&format!("/comunicazioni/{enti_id}"))
            .await
            .status(),
        404
    );
    // Public pages name no person: no codice fiscale, no e-mail.
    for p in [
        "/",
        "/comunicazioni",
        &format!("/comunicazioni/{pubblica_id}"),
    ] {
        let (_, html) = anonimo.testo(p).await;
        assert!(
            !html.contains(&app.admin()),
            "{p} mostra il codice fiscale dell'autore"
        );
        assert!(
            !html.contains("push-demo.invalid"),
            "{p} mostra un indirizzo di posta"
        );
    }

    // The attachment: a download with its (cleaned) name and exact bytes.
    let n = app
        .p
        .db()
        .allegati_comunicazione(pubblica_id)
        .await
        .unwrap();
    let r = anonimo
        .get(&format!(
            "/comunicazioni/{pubblica_id}/allegati/{}",
            n[0].id
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.4 prova");
    assert_eq!(
        anonimo
            .get(&format!("/comunicazioni/{bari_id}/allegati/{}", n[0].id))
            .await
            .status(),
        404
    );

    // Bari's referent sees Bari's and the entities'; Andria's does not see Bari's.
    let (_, rp_bari, _) = app.persone(BARI);
    let (_, rp_andria, _) = app.persone(ANDRIA);
    let bari = app.come(&rp_bari).await;
    let (_, area) = bari.testo("/area").await;
    assert!(
        area.contains("Solo per Bari") && area.contains("Per tutti gli enti"),
        "{area}"
    );
    let andria = app.come(&rp_andria).await;
    let (_, area) = andria.testo("/area").await;
    assert!(!area.contains("Solo per Bari") && area.contains("Per tutti gli enti"));
    assert_eq!(
        andria
            .get(&format!("/comunicazioni/{bari_id}"))
            .await
            .status(),
        404
    );

    // Withdrawn: gone for everyone but the Region's list.
    let r = admin
        .post_form(
            "/area/comunicazioni",
            &format!("/area/comunicazioni/{pubblica_id}/ritiro"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        anonimo
            .get(&format!("/comunicazioni/{pubblica_id}"))
            .await
            .status(),
        404
    );
    assert!(
        !anonimo
            .testo("/")
            .await
            .1
            .contains("Avvio della raccolta 2026")
    );
}

#[tokio::test]
async fn comunicazioni_rifiutate_con_il_motivo() {
    let app = TestApp::nuova().await;
    let admin = app.come(&app.admin()).await;
    let r = pubblica(&admin, &[("titolo", "X"), ("corpo", "testo")], vec![]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Titolo"));
    let r = pubblica(
        &admin,
        &[
            ("titolo", "Selezione vuota"),
            ("corpo", "testo"),
            ("pubblico", "selezione"),
            ("enti", "999999"),
        ],
        vec![],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = pubblica(
        &admin,
        &[
            ("titolo", "Banner al contrario"),
            ("corpo", "testo"),
            ("banner_dal", "2026-05-10"),
            ("banner_al", "2026-05-01"),
        ],
        vec![],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("prima di cominciare"));
    // An attachment over the limit is refused while it arrives.
    let grande = vec![b'x'; servizi::comunicazioni::LIMITE_ALLEGATO as usize + 1];
    let r = pubblica(
        &admin,
        &[("titolo", "Troppo grande"), ("corpo", "testo")],
        vec![("grande.pdf", grande)],
    )
    .await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("Un allegato supera"));
    assert!(
        app.p.db().tutte_comunicazioni(10).await.unwrap().is_empty(),
        "nulla pubblicato"
    );
    // Only the Region's administrators publish.
    let (lr, _, _) = app.persone(BARI);
    let b = app.come(&lr).await;
    assert_eq!(b.get("/area/comunicazioni").await.status(), 403);
    let r = pubblica(&b, &[("titolo", "Non mia"), ("corpo", "testo")], vec![]).await;
    assert_eq!(r.status(), 403);
}
