//! What the public sees of the platform's data: the privacy notice tells the truth about map
//! tiles (none by default; the configured server named when there is one).

use servizi::config::Strato;

use crate::aiuto::{Opzioni, TestApp, senza_escape};

#[tokio::test]
async fn privacy_e_tessere_della_mappa() {
    // Default: no tile server, so no third party, and the CSP allows images from here only.
    let app = TestApp::con(Opzioni::default()).await;
    let r = app.browser().get("/privacy").await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    let html = senza_escape(&r.text().await.unwrap());
    assert!(
        html.contains("il browser non contatta servizi di terzi"),
        "{html}"
    );
    assert!(!html.contains("openstreetmap"));

    // A configured tile server: named on the privacy page, allowed by the CSP.
    let app = TestApp::con(Opzioni {
        impostazioni: Strato {
            tile_url: Some(servizi::config::TILE_OSM.into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let r = app.browser().get("/privacy").await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("https://tile.openstreetmap.org"), "{csp}");
    let html = senza_escape(&r.text().await.unwrap());
    assert!(html.contains("tile.openstreetmap.org"), "{html}");
    assert!(html.contains("indirizzo IP"), "{html}");
}
