//! The authorization matrix: every route the router registers × every kind of subject. The
//! list of routes comes from the router itself (`web::elenco_rotte`, recorded by the calls
//! that register them): a route without an expectation here fails
//! `la_matrice_copre_ogni_rotta_del_router`.
//!
//! Each cell prepares its own target (a fresh token, referent or request) so that what one
//! subject changes cannot affect another cell.

use dominio::{Area, CodiceEnte};
use servizi::token::Richiedente;

use crate::aiuto::{Browser, TestApp};

const BARI: &str = "072006";
const SOGGETTI: [&str; 6] = [
    "anonimo",
    "referente di altro ente",
    "referente senza l'area",
    "legale rappresentante",
    "istruttore regionale",
    "amministratore regionale",
];

#[derive(Clone, Copy)]
enum Metodo {
    Get,
    Post,
}

/// What a cell needs prepared, substituted for `{id}` in the path.
#[derive(Clone, Copy)]
enum Prepara {
    Niente,
    Registrazione,
    Referente,
    Token,
    /// A submitted `patrimonio` flow of Bari.
    Flusso,
    /// An open `patrimonio` campaign targeting Bari.
    Raccolta,
}

struct Rotta {
    metodo: Metodo,
    percorso: &'static str,
    prepara: Prepara,
    campi: &'static [(&'static str, &'static str)],
    /// Expected status per subject, in the order of `SOGGETTI`.
    attesi: [u16; 6],
}

const fn r(
    metodo: Metodo,
    percorso: &'static str,
    prepara: Prepara,
    campi: &'static [(&'static str, &'static str)],
    attesi: [u16; 6],
) -> Rotta {
    Rotta {
        metodo,
        percorso,
        prepara,
        campi,
        attesi,
    }
}

use Metodo::{Get, Post};
use Prepara::{Flusso, Niente, Raccolta, Referente, Registrazione, Token};

const ROTTE: &[Rotta] = &[
    r(Get, "/", Niente, &[], [200; 6]),
    r(Get, "/enti", Niente, &[], [200; 6]),
    r(Get, "/enti/072006", Niente, &[], [200; 6]),
    r(Get, "/enti/999999", Niente, &[], [404; 6]),
    r(Get, "/documentazione", Niente, &[], [200; 6]),
    r(Get, "/documentazione/patrimonio", Niente, &[], [200; 6]),
    r(
        Get,
        "/documentazione/contabilita/modello.xlsx",
        Niente,
        &[],
        [200; 6],
    ),
    r(Get, "/documentazione/validatore", Niente, &[], [200; 6]),
    r(Get, "/accessibilita", Niente, &[], [200; 6]),
    r(Get, "/privacy", Niente, &[], [200; 6]),
    r(Get, "/accesso", Niente, &[], [200; 6]),
    r(Get, "/healthz", Niente, &[], [200; 6]),
    r(Get, "/api/v1/enti", Niente, &[], [200; 6]),
    r(Get, "/api/v1/openapi.json", Niente, &[], [200; 6]),
    r(Get, "/accesso/spid", Niente, &[], [404; 6]),
    r(Get, "/accesso/ritorno", Niente, &[], [400; 6]),
    r(
        Get,
        "/accesso/ritorno?code=x&state=y",
        Niente,
        &[],
        [404; 6],
    ),
    r(
        Post,
        "/accesso/sviluppo",
        Niente,
        &[("cf", "non-un-codice")],
        [422; 6],
    ),
    r(
        Get,
        "/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css",
        Niente,
        &[],
        [200; 6],
    ),
    r(Get, "/static/../Cargo.toml", Niente, &[], [404; 6]),
    r(Get, "/comunicazioni", Niente, &[], [200; 6]),
    r(Get, "/comunicazioni/999999", Niente, &[], [404; 6]),
    r(
        Get,
        "/comunicazioni/999999/allegati/1",
        Niente,
        &[],
        [404; 6],
    ),
    r(
        Get,
        "/area/comunicazioni",
        Niente,
        &[],
        [303, 403, 403, 403, 403, 200],
    ),
    r(
        Post,
        "/area/comunicazioni",
        Niente,
        &[("titolo", "x")],
        // Not multipart: refused as malformed (comunicazioni.rs checks a real form's 403).
        [303, 400, 400, 400, 400, 400],
    ),
    r(
        Post,
        "/area/comunicazioni/999999/ritiro",
        Niente,
        &[],
        [303, 403, 403, 403, 403, 404],
    ),
    r(Get, "/area", Niente, &[], [303, 200, 200, 200, 200, 200]),
    r(
        Get,
        "/area/messaggi",
        Niente,
        &[],
        [303, 200, 200, 200, 200, 200],
    ),
    r(
        Get,
        "/area/messaggi/999999",
        Niente,
        &[],
        [303, 404, 404, 404, 404, 404],
    ),
    r(
        Get,
        "/area/enti/072006/messaggi",
        Niente,
        &[],
        [303, 404, 200, 200, 200, 200],
    ),
    r(
        Get,
        "/area/posta",
        Niente,
        &[],
        [303, 403, 403, 403, 403, 200],
    ),
    r(
        Post,
        "/area/posta/999999/riaccoda",
        Niente,
        &[],
        [303, 403, 403, 403, 403, 409],
    ),
    r(
        Get,
        "/sviluppo/posta",
        Niente,
        &[],
        [303, 200, 200, 200, 200, 200],
    ),
    r(
        Get,
        "/sviluppo/posta/999999",
        Niente,
        &[],
        [303, 404, 404, 404, 404, 404],
    ),
    r(
        Get,
        "/sviluppo/posta/999999/html",
        Niente,
        &[],
        [303, 404, 404, 404, 404, 404],
    ),
    r(
        Get,
        "/area/registrazione",
        Niente,
        &[],
        [303, 200, 200, 200, 403, 403],
    ),
    r(
        Post,
        "/area/registrazione",
        Niente,
        &[("ente", "075035"), ("pec", "non valida")],
        [303, 422, 422, 422, 403, 403],
    ),
    r(
        Get,
        "/area/registrazioni",
        Niente,
        &[],
        [303, 403, 403, 403, 403, 200],
    ),
    r(
        Get,
        "/area/registrazioni/{id}",
        Registrazione,
        &[],
        [303, 403, 403, 403, 403, 200],
    ),
    r(
        Post,
        "/area/registrazioni/{id}/decisione",
        Registrazione,
        &[("decisione", "respingi"), ("motivazione", "prova")],
        [303, 403, 403, 403, 403, 303],
    ),
    r(
        Get,
        "/area/enti/072006/referenti",
        Niente,
        &[],
        [303, 404, 403, 200, 403, 403],
    ),
    r(
        Post,
        "/area/enti/072006/referenti",
        Niente,
        &[("codice_fiscale", "X")],
        [303, 404, 403, 422, 403, 403],
    ),
    r(
        Post,
        "/area/enti/072006/referenti/{id}/revoca",
        Referente,
        &[],
        [303, 404, 403, 303, 403, 403],
    ),
    r(
        Get,
        "/area/enti/072006/token",
        Niente,
        &[],
        [303, 404, 403, 200, 403, 200],
    ),
    r(
        Post,
        "/area/enti/072006/token",
        Niente,
        &[("nome", "x"), ("aree", "PATRIMONIO")],
        [303, 404, 403, 303, 403, 303],
    ),
    r(
        Post,
        "/area/enti/072006/token/{id}/revoca",
        Token,
        &[],
        [303, 404, 403, 303, 403, 303],
    ),
    r(
        Get,
        "/area/enti/REGIONE/token",
        Niente,
        &[],
        [303, 404, 404, 404, 403, 200],
    ),
    r(
        Post,
        "/area/enti/REGIONE/token",
        Niente,
        &[("nome", "x")],
        [303, 404, 404, 404, 403, 303],
    ),
    r(
        Post,
        "/area/enti/072006/pilota",
        Niente,
        &[("pilota", "si")],
        [303, 403, 403, 403, 403, 303],
    ),
    r(
        Get,
        "/area/audit",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Get,
        "/area/flussi",
        Niente,
        &[],
        [303, 200, 200, 200, 200, 200],
    ),
    r(
        Get,
        "/area/flussi/{id}",
        Flusso,
        &[],
        [303, 404, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/flussi/{id}/differenze",
        Flusso,
        &[],
        [303, 404, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/flussi/{id}/ricevuta",
        Flusso,
        &[],
        [303, 404, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/flussi/{id}/report.csv",
        Flusso,
        &[],
        [303, 404, 403, 200, 200, 200],
    ),
    r(
        Post,
        "/area/flussi/{id}/invio",
        Flusso,
        &[("conferma_avvisi", "si")],
        [303, 404, 403, 403, 403, 403],
    ),
    r(
        Get,
        "/area/flussi/{id}/accettazione",
        Flusso,
        &[],
        [303, 404, 403, 403, 200, 200],
    ),
    r(
        Post,
        "/area/flussi/{id}/accettazione",
        Flusso,
        &[],
        [303, 404, 403, 403, 303, 303],
    ),
    r(
        Post,
        "/area/flussi/{id}/ritiro",
        Flusso,
        &[],
        [303, 404, 403, 403, 403, 403],
    ),
    r(
        Get,
        "/area/flussi/{id}/originale",
        Flusso,
        &[],
        [303, 404, 403, 200, 200, 200],
    ),
    r(
        Post,
        "/area/flussi/{id}/rifiuto",
        Flusso,
        &[("motivazione", "prova")],
        [303, 404, 403, 403, 303, 303],
    ),
    r(
        Get,
        "/area/registro/unita",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/flussi/esempio?ente=072006",
        Niente,
        &[],
        [303, 404, 403, 403, 403, 403],
    ),
    r(
        Get,
        "/area/esame",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    // The public validator without a file: the form is refused, for everyone alike.
    r(
        Post,
        "/documentazione/validatore",
        Niente,
        &[("dominio", "patrimonio")],
        [400; 6],
    ),
    // The upload form takes multipart only; anonymous visitors go to the login first.
    r(
        Post,
        "/area/flussi",
        Niente,
        &[],
        [303, 400, 400, 400, 400, 400],
    ),
    r(
        Get,
        "/area/registro/fabbricati",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    // Every domain's register tables have the same pages (contabilita's are empty until part 2
    // opens its flows); the area checked is the table's domain's: the referent without
    // PATRIMONIO has PROGRAMMI, so the interventions are hers to see.
    r(
        Get,
        "/area/registro/complessi",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/registro/interventi",
        Niente,
        &[],
        [303, 403, 200, 200, 200, 200],
    ),
    r(
        Get,
        "/area/registro/mappa",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    // The map's data (buildings coloured by occupancy): whoever reads the map.
    r(
        Get,
        "/area/registro/mappa.json",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    // The executive dashboard and its exports: Region staff only.
    r(
        Get,
        "/area/cruscotto",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Get,
        "/area/cruscotto/comuni.csv",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Get,
        "/area/registro/fabbricati/esporta.csv",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/registro/fabbricati/esporta.xlsx",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/registro/fabbricati/esporta.geojson",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/registro/unita/esporta.csv",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/registro/unita/esporta.xlsx",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    r(
        Get,
        "/area/registro/unita/esporta.geojson",
        Niente,
        &[],
        [303, 200, 403, 200, 200, 200],
    ),
    // The demo without flows has empty registers: no record to show, to anyone.
    r(
        Get,
        "/area/registro/fabbricati/072006/F001",
        Niente,
        &[],
        [303, 404, 404, 404, 404, 404],
    ),
    r(
        Get,
        "/area/registro/unita/072006/U0001",
        Niente,
        &[],
        [303, 404, 404, 404, 404, 404],
    ),
    // The API: a browser's session cookie is no credential there (401 for every subject).
    r(
        Post,
        "/api/v1/flussi?dominio=patrimonio",
        Niente,
        &[],
        [401; 6],
    ),
    r(Get, "/api/v1/flussi", Niente, &[], [401; 6]),
    // The generic register API of every domain (a browser's cookie is no credential there).
    r(Get, "/api/v1/patrimonio/complessi", Niente, &[], [401; 6]),
    r(Get, "/api/v1/programmi/programmi", Niente, &[], [401; 6]),
    r(
        Get,
        "/api/v1/patrimonio/fabbricati/072006/F001",
        Niente,
        &[],
        [401; 6],
    ),
    r(
        Get,
        "/api/v1/programmi/interventi/072006/J11B18000000001",
        Niente,
        &[],
        [401; 6],
    ),
    r(
        Get,
        "/api/v1/patrimonio/fabbricati/072006/F001/storia",
        Niente,
        &[],
        [401; 6],
    ),
    r(
        Get,
        "/api/v1/programmi/sal/072006/J11B18000000001%7C1/storia",
        Niente,
        &[],
        [401; 6],
    ),
    r(Get, "/api/v1/flussi/{id}", Flusso, &[], [401; 6]),
    r(Get, "/api/v1/flussi/{id}/report", Flusso, &[], [401; 6]),
    r(Post, "/api/v1/flussi/{id}/invio", Flusso, &[], [401; 6]),
    r(Get, "/api/v1/flussi/{id}/differenze", Flusso, &[], [401; 6]),
    r(
        Post,
        "/api/v1/flussi/{id}/accettazione",
        Flusso,
        &[],
        [401; 6],
    ),
    r(Post, "/api/v1/flussi/{id}/rifiuto", Flusso, &[], [401; 6]),
    r(Post, "/api/v1/flussi/{id}/ritiro", Flusso, &[], [401; 6]),
    r(Get, "/api/v1/flussi/{id}/originale", Flusso, &[], [401; 6]),
    r(Get, "/api/v1/monitoraggio/adesione", Niente, &[], [401; 6]),
    r(Get, "/api/v1/patrimonio/fabbricati", Niente, &[], [401; 6]),
    r(Get, "/api/v1/patrimonio/unita", Niente, &[], [401; 6]),
    r(
        Get,
        "/api/v1/patrimonio/unita/072006/U0001/storia",
        Niente,
        &[],
        [401; 6],
    ),
    // Programmes and interventions: the Region, and an entity's people with the PROGRAMMI
    // area or its legal representative (a PATRIMONIO referent of another entity: 403 on the
    // lists, which would be its own, 404 on another entity's intervention).
    r(
        Get,
        "/area/programmi",
        Niente,
        &[],
        [303, 403, 200, 200, 200, 200],
    ),
    r(
        Get,
        "/area/interventi",
        Niente,
        &[],
        [303, 403, 200, 200, 200, 200],
    ),
    r(
        Get,
        "/area/interventi/072006/J11B18000000001",
        Niente,
        &[],
        [303, 404, 404, 404, 404, 404],
    ),
    r(
        Get,
        "/area/conflitti",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(Get, "/api/v1/programmi/interventi", Niente, &[], [401; 6]),
    r(
        Get,
        "/api/v1/programmi/interventi/J11B18000000001",
        Niente,
        &[],
        [401; 6],
    ),
    // Monitoring, campaigns and reminders: the Region reads, its administrator acts; the
    // entity's legal representative (or the area's referent) declares "nothing to report".
    r(
        Get,
        "/area/monitoraggio",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Get,
        "/area/monitoraggio/comunicato",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Get,
        "/area/raccolte",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Post,
        "/area/raccolte",
        Niente,
        &[("titolo", ""), ("selezione", "pilota")],
        [303, 403, 403, 403, 403, 422],
    ),
    r(
        Get,
        "/area/raccolte/nuova",
        Niente,
        &[],
        [303, 403, 403, 403, 403, 200],
    ),
    r(
        Get,
        "/area/raccolte/{id}",
        Raccolta,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Get,
        "/area/raccolte/{id}/esporta.csv",
        Raccolta,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Get,
        "/area/raccolte/{id}/esporta.xlsx",
        Raccolta,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Post,
        "/area/raccolte/{id}/enti/072006/nulla",
        Raccolta,
        &[("motivo", "Nessun alloggio ERP di proprietà.")],
        [303, 404, 403, 303, 403, 403],
    ),
    r(
        Get,
        "/area/solleciti",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Post,
        "/area/solleciti",
        Niente,
        &[("motivo", "pilota_non_registrato")],
        [303, 403, 403, 403, 403, 303],
    ),
    r(
        Get,
        "/area/solleciti/anteprima?motivo=pilota_non_registrato",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Post,
        "/area/solleciti/escalazione",
        Niente,
        &[("giorni", "20")],
        [303, 403, 403, 403, 403, 303],
    ),
    r(
        Get,
        "/area/solleciti/modelli/in_ritardo",
        Niente,
        &[],
        [303, 403, 403, 403, 200, 200],
    ),
    r(
        Post,
        "/area/solleciti/modelli/in_ritardo",
        Niente,
        &[
            ("oggetto", "Sollecito a {ente}"),
            ("corpo", "Manca {mancante}, entro {scadenza}."),
        ],
        [303, 403, 403, 403, 403, 303],
    ),
    r(
        Get,
        "/api/v1/monitoraggio/comunicato",
        Niente,
        &[],
        [401; 6],
    ),
    // The GIS service (OGC API – Features): public metadata and `comuni`; the register's
    // collections need a token (a browser's cookie is no credential there).
    r(Get, "/ogc", Niente, &[], [200; 6]),
    r(Get, "/ogc/conformance", Niente, &[], [200; 6]),
    r(Get, "/ogc/api", Niente, &[], [200; 6]),
    r(Get, "/ogc/collections", Niente, &[], [200; 6]),
    r(Get, "/ogc/collections/fabbricati", Niente, &[], [200; 6]),
    r(Get, "/ogc/collections/comuni", Niente, &[], [200; 6]),
    r(Get, "/ogc/collections/unita", Niente, &[], [404; 6]),
    r(
        Get,
        "/ogc/collections/fabbricati/items",
        Niente,
        &[],
        [401; 6],
    ),
    r(
        Get,
        "/ogc/collections/fabbricati/items/072006.F001",
        Niente,
        &[],
        [401; 6],
    ),
    r(Get, "/ogc/collections/comuni/items", Niente, &[], [200; 6]),
    r(
        Get,
        "/ogc/collections/comuni/items/072006",
        Niente,
        &[],
        // The matrix's register is empty: no Comune has figures.
        [404; 6],
    ),
    // The public's figures and open data: the same for everyone.
    r(Get, "/dati", Niente, &[], [200; 6]),
    r(Get, "/opendata", Niente, &[], [200; 6]),
    r(Get, "/opendata/catalogo.jsonld", Niente, &[], [200; 6]),
    r(Get, "/opendata/rilasci.atom", Niente, &[], [200; 6]),
    r(
        Get,
        "/opendata/patrimonio-comuni.csv",
        Niente,
        &[],
        [200; 6],
    ),
    r(Get, "/opendata/nessuno.csv", Niente, &[], [404; 6]),
    r(
        Get,
        "/opendata/finanziamenti-programmi/datapackage.json",
        Niente,
        &[],
        [200; 6],
    ),
    r(Post, "/esci", Niente, &[], [303; 6]),
];

async fn prepara(app: &TestApp, p: Prepara, n: usize) -> String {
    let ora = servizi::ora();
    match p {
        Niente => String::new(),
        Registrazione => {
            // A pending request for a distinct unregistered Comune per cell.
            let liberi: Vec<String> = app
                .p
                .db()
                .enti()
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.tipo == "COMUNE" && e.registrato_il.is_none())
                .map(|e| e.codice)
                .collect();
            let ente = &liberi[n % liberi.len()];
            let mut tx = app.p.db().inizia().await.unwrap();
            let id = tx
                .crea_registrazione(
                    ente,
                    &app.senza_ruolo(),
                    "Giulia Nuova",
                    "p@pec.x.push-demo.invalid",
                    "080 123456",
                    "u@x.push-demo.invalid",
                    ora,
                )
                .await
                .unwrap();
            tx.commit().await.unwrap();
            id.to_string()
        }
        Referente => {
            let cf = dominio::CodiceFiscale::con_controllo(&format!(
                "MTRXXX{:02}A{:02}A662",
                10 + n % 90,
                1 + n / 90
            ))
            .unwrap();
            let mut tx = app.p.db().inizia().await.unwrap();
            tx.salva_persona(cf.as_str(), "Referente Matrice", None, ora)
                .await
                .unwrap();
            let id = tx
                .conferisci_incarico(
                    cf.as_str(),
                    BARI,
                    "REFERENTE",
                    "PATRIMONIO",
                    None,
                    "test",
                    ora,
                )
                .await
                .unwrap();
            tx.commit().await.unwrap();
            id.to_string()
        }
        Flusso => {
            // A distinct file per cell (identical bytes would be the same flow).
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("f.zip");
            servizi::demo::flusso_demo(BARI, 5 + n as u64, 0, &f).unwrap();
            let bari = CodiceEnte::parse(BARI).unwrap();
            let (_, rp, _) = app.persone(BARI);
            let s = dominio::Soggetto::Persona {
                cf: dominio::CodiceFiscale::parse(&rp).unwrap(),
                ruoli: vec![dominio::Ruolo::Referente {
                    ente: bari.clone(),
                    aree: vec![Area::Patrimonio],
                }],
            };
            let mut r = app.p.deposito.ricevi(u64::MAX).unwrap();
            r.scrivi(&std::fs::read(&f).unwrap()).unwrap();
            let c = app
                .p
                .carica_flusso(
                    &s,
                    &bari,
                    dominio::DominioFlusso::Patrimonio,
                    "f.zip",
                    r.chiudi().unwrap(),
                )
                .await
                .unwrap();
            // The server's own worker may have taken the job: wait for either.
            app.p.esegui_coda().await.unwrap();
            for _ in 0..300 {
                let f = app.p.db().flusso(c.flusso.id).await.unwrap().unwrap();
                if f.stato == "valido" {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            app.p
                .invia_flusso(&s, c.flusso.id, true, None)
                .await
                .unwrap();
            c.flusso.id.to_string()
        }
        Raccolta => {
            let oggi = app.p.orologio.oggi();
            let mut tx = app.p.db().inizia().await.unwrap();
            let id = tx
                .crea_raccolta(
                    &archivio::NuovaRaccolta {
                        titolo: "Matrice",
                        dominio: "patrimonio",
                        scadenza: oggi + chrono::Duration::days(10),
                        chiusura: oggi + chrono::Duration::days(20),
                        selezione: "elenco",
                        aperta_da: "test",
                    },
                    &[BARI.to_string()],
                    ora,
                )
                .await
                .unwrap();
            tx.commit().await.unwrap();
            id.to_string()
        }
        Token => {
            let bari = CodiceEnte::parse(BARI).unwrap();
            app.p
                .crea_token(
                    Richiedente::RigaDiComando,
                    &bari,
                    &[Area::Patrimonio],
                    "matrice",
                )
                .await
                .unwrap()
                .id
                .to_string()
        }
    }
}

/// Whether a route template's segment (`{id}`, `{*resto}` or a literal) takes `parte`.
fn segmento(modello: &str, parte: &str) -> bool {
    (modello.starts_with('{') && modello.ends_with('}')) || modello == parte
}

/// How well a matrix path instantiates a route template: `None` if it does not, else the
/// number of literal segments (axum prefers the template with more of them).
fn corrispondenza(modello: &str, percorso: &str) -> Option<usize> {
    let percorso = percorso.split('?').next().unwrap_or_default();
    let m: Vec<&str> = modello.trim_matches('/').split('/').collect();
    let p: Vec<&str> = percorso.trim_matches('/').split('/').collect();
    let coda = m.last().is_some_and(|u| u.starts_with("{*"));
    let ok = if coda {
        p.len() >= m.len() && m[..m.len() - 1].iter().zip(&p).all(|(a, b)| segmento(a, b))
    } else {
        m.len() == p.len() && m.iter().zip(&p).all(|(a, b)| segmento(a, b))
    };
    ok.then(|| m.iter().filter(|s| !s.starts_with('{')).count())
}

#[tokio::test]
async fn la_matrice_copre_ogni_rotta_del_router() {
    let app = TestApp::nuova().await;
    let rotte = web::elenco_rotte(app.p.clone());
    assert!(rotte.len() > 40, "{rotte:?}");
    let mut coperte = std::collections::HashSet::new();
    for r in ROTTE {
        let metodo = match r.metodo {
            Get => "GET",
            Post => "POST",
        };
        // The route axum would choose for this path.
        if let Some(m) = rotte
            .iter()
            .filter(|(x, _)| *x == metodo)
            .filter_map(|(_, m)| corrispondenza(m, r.percorso).map(|n| (n, *m)))
            .max_by_key(|(n, _)| *n)
        {
            coperte.insert((metodo, m.1));
        }
    }
    let mancanti: Vec<String> = rotte
        .iter()
        .filter(|r| !coperte.contains(*r))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        mancanti.is_empty(),
        "rotte senza attese nella matrice:\n{}",
        mancanti.join("\n")
    );
}

#[tokio::test]
async fn matrice_delle_autorizzazioni() {
    let app = TestApp::nuova().await;
    let (lr, _, rg) = app.persone(BARI);
    let (_, rp_andria, _) = app.persone("110001");
    let mut fallimenti = Vec::new();
    let mut n = 0;
    for rotta in ROTTE {
        for (i, chi) in SOGGETTI.iter().enumerate() {
            // A fresh browser per cell: a logout or revocation cannot leak into the next cell.
            let b: Browser = match i {
                0 => app.browser(),
                1 => app.come(&rp_andria).await,
                2 => app.come(&rg).await,
                3 => app.come(&lr).await,
                4 => app.come(&app.istruttore()).await,
                _ => app.come(&app.admin()).await,
            };
            n += 1;
            let id = prepara(&app, rotta.prepara, n).await;
            let percorso = rotta.percorso.replace("{id}", &id);
            let status = match rotta.metodo {
                Get => b.get(&percorso).await.status().as_u16(),
                Post => {
                    let t = b.csrf("/accesso").await;
                    b.post_grezzo(&percorso, &t, rotta.campi)
                        .await
                        .status()
                        .as_u16()
                }
            };
            let atteso = rotta.attesi[i];
            if status != atteso {
                fallimenti.push(format!(
                    "{} {percorso} come {chi}: {status}, atteso {atteso}",
                    if matches!(rotta.metodo, Get) {
                        "GET"
                    } else {
                        "POST"
                    }
                ));
            }
        }
    }
    assert!(
        fallimenti.is_empty(),
        "{} celle sbagliate:\n{}",
        fallimenti.len(),
        fallimenti.join("\n")
    );
}

#[tokio::test]
async fn un_anonimo_sulla_pagina_riservata_va_all_accesso() {
    let app = TestApp::nuova().await;
    let r = app.browser().get("/area/audit").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/accesso");
}

#[tokio::test]
async fn pagina_403_in_italiano() {
    let app = TestApp::nuova().await;
    let (_, _, rg) = app.persone(BARI);
    let b = app.come(&rg).await;
    let r = b.get("/area/audit").await;
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("Operazione non consentita") && html.contains("lang=\"it\""));
    let r = b.get("/area/enti/110001/referenti").await;
    assert_eq!(
        r.status(),
        404,
        "l'esistenza delle risorse di altri enti non è rivelata"
    );
    assert!(r.text().await.unwrap().contains("Pagina non trovata"));
}
