//! A caller without credentials learns nothing about which reserved resources exist: one
//! answer for an existing id and a missing one (401 on the API, the login page in the area).

use crate::aiuto::{TestApp, token_ente};

#[tokio::test]
async fn senza_credenziali_una_sola_risposta_che_l_id_esista_o_no() {
    let app = TestApp::nuova().await;
    let t = token_ente(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c
        .post(format!(
            "{}/api/v1/flussi?dominio=patrimonio&nome=f.zip",
            app.url
        ))
        .bearer_auth(&t)
        .body("non un file zip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let mancante = id + 1000;
    let risposta = |metodo: reqwest::Method, percorso: String| {
        let c = c.clone();
        let url = format!("{}{percorso}", app.url);
        async move {
            let r = c.request(metodo, url).send().await.unwrap();
            let s = r.status().as_u16();
            let l = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            let mut corpo: serde_json::Value = r.json().await.unwrap_or_default();
            if let Some(o) = corpo.as_object_mut() {
                o.remove("request_id");
            }
            (s, l, corpo)
        }
    };
    use reqwest::Method;
    for (metodo, modello, atteso) in [
        (Method::GET, "/api/v1/flussi/{id}", 401),
        (Method::GET, "/api/v1/flussi/{id}/report", 401),
        (Method::GET, "/api/v1/flussi/{id}/differenze", 401),
        (Method::POST, "/api/v1/flussi/{id}/invio", 401),
        (Method::POST, "/api/v1/flussi/{id}/accettazione", 401),
        (Method::POST, "/api/v1/flussi/{id}/rifiuto", 401),
        (
            Method::GET,
            "/api/v1/patrimonio/unita/110001/{id}/storia",
            401,
        ),
        (Method::GET, "/area/flussi/{id}", 303),
        (Method::GET, "/area/flussi/{id}/differenze", 303),
        (Method::GET, "/area/flussi/{id}/ricevuta", 303),
        (Method::GET, "/area/flussi/{id}/report.csv", 303),
        (Method::GET, "/area/registrazioni/{id}", 303),
    ] {
        let esistente = risposta(metodo.clone(), modello.replace("{id}", &id.to_string())).await;
        let assente = risposta(metodo, modello.replace("{id}", &mancante.to_string())).await;
        assert_eq!(esistente.0, atteso, "{modello}: {esistente:?}");
        assert_eq!(
            esistente, assente,
            "{modello}: la risposta dice se l'id esiste"
        );
        if atteso == 303 {
            assert_eq!(esistente.1.as_deref(), Some("/accesso"), "{modello}");
        }
    }
    // With the token the owner sees its flow, and a missing one is 404.
    let r = c
        .get(format!("{}/api/v1/flussi/{mancante}", app.url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(format!("{}/api/v1/flussi/{id}", app.url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
