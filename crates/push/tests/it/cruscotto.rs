//! The dashboards' figures (issue 11): on a small hand-made fixture of two entities, two
//! versions of Andria's asset register and two of its accounting, every figure of the Region's
//! dashboard equals the totals worked out by hand, today and as of earlier days; the public
//! variant withholds the small cells; the aggregates recomputed from the register (what a
//! start after migration 0009 does) give the same figures on every day; the page and its
//! exports show them.

use chrono::{NaiveDate, TimeZone};
use serde_json::{Value, json};
use servizi::cruscotto::{Cella, Cruscotto};

use crate::aiuto::{Opzioni, TestApp, senza_escape};
use crate::contabilita::{carica_e_invia, contabilita_andria, programmi};
use crate::flussi::token;

fn d(a: i32, m: u32, g: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(a, m, g).unwrap()
}

fn fabbricato(codice: &str, comune: &str, complesso: Option<&str>) -> Value {
    let mut f = json!({"codice_fabbricato": codice, "comune_istat": comune, "indirizzo": "Via Roma",
        "numero_civico": "1", "titolo_possesso": "PROPRIETA", "latitudine": 41.2, "longitudine": 16.3});
    if let Some(c) = complesso {
        f["codice_complesso"] = json!(c);
    }
    f
}

/// A unit: `n` makes its cadastral identity unique.
fn unita(
    n: u32,
    fabbricato: &str,
    tipologia: &str,
    regime: &str,
    stato: &str,
    classe: Option<&str>,
) -> Value {
    let categoria = if tipologia == "ALLOGGIO" {
        "A/3"
    } else {
        "C/1"
    };
    let mut u = json!({"codice_unita": format!("U{n}"), "codice_fabbricato": fabbricato, "tipologia": tipologia,
        "foglio": "10", "particella": format!("{}", 100 + n), "subalterno": "1", "categoria_catastale": categoria,
        "superficie_utile_mq": 70, "regime": regime, "stato_occupazione": stato});
    if let Some(c) = classe {
        u["classe_energetica"] = json!(c);
    }
    if stato == "ASSEGNATO" {
        u["data_assegnazione"] = json!("2020-05-01");
        u["canone_mensile"] = json!("120.00");
    }
    u
}

/// Andria (110001, province BT): one complex, buildings FAB000001–2 in Andria and FAB000003 in
/// Barletta (110002). Version 1: U1–U6; version 2: U3 assigned, U7 added in Barletta.
fn patrimonio_andria(versione: u32) -> Value {
    let mut u = vec![
        unita(
            1,
            "FAB000001",
            "ALLOGGIO",
            "ERP_SOVVENZIONATA",
            "ASSEGNATO",
            Some("A4"),
        ),
        unita(
            2,
            "FAB000001",
            "ALLOGGIO",
            "ERP_SOVVENZIONATA",
            "ASSEGNATO",
            Some("G"),
        ),
        unita(
            3,
            "FAB000001",
            "ALLOGGIO",
            "ERS",
            if versione > 1 {
                "ASSEGNATO"
            } else {
                "SFITTO_ASSEGNABILE"
            },
            None,
        ),
        unita(
            4,
            "FAB000002",
            "ALLOGGIO",
            "ERP_AGEVOLATA",
            "SFITTO_DA_RISTRUTTURARE",
            Some("G"),
        ),
        unita(5, "FAB000002", "NEGOZIO", "ALTRO", "ALTRO_USO", None),
        unita(
            6,
            "FAB000003",
            "ALLOGGIO",
            "ERP_SOVVENZIONATA",
            "ASSEGNATO",
            Some("B"),
        ),
    ];
    if versione > 1 {
        u.push(unita(
            7,
            "FAB000003",
            "ALLOGGIO",
            "ERP_SOVVENZIONATA",
            "SFITTO_ASSEGNABILE",
            Some("B"),
        ));
    }
    json!({
        "complessi": [{"codice_complesso": "C1", "denominazione": "Quartiere San Valentino", "comune_istat": "110001"}],
        "fabbricati": [
            fabbricato("FAB000001", "110001", Some("C1")),
            fabbricato("FAB000002", "110001", None),
            fabbricato("FAB000003", "110002", None),
        ],
        "unita": u,
    })
}

/// Bari (072006, province BA): one building, two assigned dwellings of class C.
fn patrimonio_bari() -> Value {
    json!({
        "fabbricati": [fabbricato("FAB000001", "072006", None)],
        "unita": [
            unita(1, "FAB000001", "ALLOGGIO", "ERP_SOVVENZIONATA", "ASSEGNATO", Some("C")),
            unita(2, "FAB000001", "ALLOGGIO", "ERP_SOVVENZIONATA", "ASSEGNATO", Some("C")),
        ],
    })
}

async fn accetta(app: &TestApp, t: &str, dominio: &str, corpo: &Value, giorno: NaiveDate) {
    let (id, f) = carica_e_invia(app, t, dominio, corpo).await;
    assert_eq!(f["stato"], "valido", "{f}");
    app.p
        .applica_flusso(id, "test", giorno)
        .await
        .expect("fusione");
}

fn numero(v: &[servizi::cruscotto::Conteggio], codice: &str) -> i64 {
    v.iter()
        .find(|c| c.codice == codice)
        .map(|c| c.numero)
        .unwrap_or(0)
}

fn stock(v: &[servizi::cruscotto::RigaStock], codice: &str) -> (i64, i64, i64) {
    v.iter()
        .find(|r| r.codice == codice)
        .map(|r| (r.complessi, r.fabbricati, r.unita))
        .unwrap_or_default()
}

fn finanza(v: &[servizi::cruscotto::RigaFinanza], codice: &str) -> (i64, i64, i64, i64) {
    v.iter()
        .find(|r| r.codice == codice)
        .map(|r| {
            (
                r.interventi,
                r.finanziato.centesimi(),
                r.erogato.centesimi(),
                r.pagato.centesimi(),
            )
        })
        .unwrap_or_default()
}

async fn figure(app: &TestApp, alla: Option<NaiveDate>) -> Cruscotto {
    let admin = dominio::Soggetto::Persona {
        cf: app.demo.amministratore.as_ref().unwrap().cf.clone(),
        ruoli: vec![dominio::Ruolo::AmministratoreRegione],
    };
    app.p.cruscotto(&admin, alla).await.expect("cruscotto")
}

/// Every figure on the four days, by hand.
fn verifica(
    oggi: &Cruscotto,
    c_0215: &Cruscotto,
    c_0120: &Cruscotto,
    c_0401: &Cruscotto,
    c_2025: &Cruscotto,
) {
    // Nothing accepted before 15/01/2026.
    assert_eq!(c_2025.totale.unita, 0);
    assert!(c_2025.per_comune.is_empty());
    assert_eq!(c_2025.interventi, 0);

    // 20/01/2026: Andria version 1 only.
    let c = c_0120;
    assert_eq!(
        (c.totale.complessi, c.totale.fabbricati, c.totale.unita),
        (1, 3, 6)
    );
    assert_eq!(stock(&c.per_comune, "110001"), (1, 2, 5));
    assert_eq!(stock(&c.per_comune, "110002"), (0, 1, 1));
    assert_eq!(stock(&c.per_provincia, "BT"), (1, 3, 6));
    assert_eq!(stock(&c.per_provincia, "BA"), (0, 0, 0));
    assert_eq!(stock(&c.per_ente, "110001"), (1, 3, 6));
    assert_eq!(numero(&c.per_stato_occupazione, "ASSEGNATO"), 3);
    assert_eq!(numero(&c.per_stato_occupazione, "SFITTO_ASSEGNABILE"), 1);
    assert_eq!(
        numero(&c.per_stato_occupazione, "SFITTO_DA_RISTRUTTURARE"),
        1
    );
    assert_eq!(numero(&c.per_stato_occupazione, "ALTRO_USO"), 1);
    assert_eq!(c.sfitte, 2);
    // 2 / 6 = 33,33 %.
    assert_eq!(c.tasso_sfitto.centesimi(), 3333);
    assert_eq!(c.alloggi, 5);
    assert_eq!(numero(&c.alloggi_per_regime, "ERP_SOVVENZIONATA"), 3);
    assert_eq!(numero(&c.alloggi_per_regime, "ERS"), 1);
    assert_eq!(numero(&c.alloggi_per_regime, "ERP_AGEVOLATA"), 1);
    assert_eq!(numero(&c.alloggi_per_classe, "A4"), 1);
    assert_eq!(numero(&c.alloggi_per_classe, "G"), 2);
    assert_eq!(numero(&c.alloggi_per_classe, "B"), 1);
    assert_eq!(numero(&c.alloggi_per_classe, "NON_INDICATO"), 1);
    assert_eq!(c.interventi, 0);

    // 15/02/2026: Bari added.
    let c = c_0215;
    assert_eq!(
        (c.totale.complessi, c.totale.fabbricati, c.totale.unita),
        (1, 4, 8)
    );
    assert_eq!(stock(&c.per_provincia, "BA"), (0, 1, 2));
    assert_eq!(stock(&c.per_ente, "072006"), (0, 1, 2));
    assert_eq!(numero(&c.per_stato_occupazione, "ASSEGNATO"), 5);
    assert_eq!(c.tasso_sfitto.centesimi(), 2500);
    assert_eq!(numero(&c.alloggi_per_classe, "C"), 2);

    // 01/04/2026: Andria's accounting version 1 (accepted 01/03), assets version 2 (01/03).
    let c = c_0401;
    assert_eq!(c.totale.unita, 9);
    assert_eq!(numero(&c.per_stato_occupazione, "ASSEGNATO"), 6);
    assert_eq!(numero(&c.per_stato_occupazione, "SFITTO_ASSEGNABILE"), 1);
    assert_eq!(stock(&c.per_comune, "110002"), (0, 1, 2));
    assert_eq!(c.interventi, 3);
    assert_eq!(numero(&c.interventi_per_stato, "LAVORI_IN_CORSO"), 2);
    assert_eq!(numero(&c.interventi_per_stato, "COLLAUDATO"), 1);
    // PRG-A: I1 800 000,00 + I2 300 000,00; disbursed 160 000,00 + 100 000,33; paid
    // 190 000,00 + 200 000,00. PRG-B: I3 100 000,00, disbursed 100 000,00, paid nothing.
    assert_eq!(
        finanza(&c.per_programma, "PRG-A"),
        (2, 110_000_000, 26_000_033, 39_000_000)
    );
    assert_eq!(
        finanza(&c.per_programma, "PRG-B"),
        (1, 10_000_000, 10_000_000, 0)
    );
    assert_eq!(
        finanza(&c.per_fonte, "STATALE"),
        (2, 110_000_000, 26_000_033, 39_000_000)
    );
    assert_eq!(
        finanza(&c.per_strumento, "PNRR_SVS"),
        (1, 10_000_000, 10_000_000, 0)
    );
    assert_eq!(
        (
            c.finanza.finanziato.centesimi(),
            c.finanza.erogato.centesimi(),
            c.finanza.pagato.centesimi()
        ),
        (120_000_000, 36_000_033, 39_000_000)
    );
    // I1 late since 02/03/2025, I3 finished late; I2's last SAL 29/06/2025 is 276 days old.
    assert_eq!(c.in_ritardo, 2);
    assert_eq!(c.fermi, 0);

    // Today, 30/06/2026: accounting version 2 (01/06): I1's planned end moved to 31/12/2026
    // (not late), SAL 3 and payment M3 (95 000,00); I2 366 days without a SAL: stalled.
    let c = oggi;
    assert_eq!(c.alla_data, d(2026, 6, 30));
    assert_eq!(c.totale.unita, 9);
    assert_eq!(
        finanza(&c.per_programma, "PRG-A"),
        (2, 110_000_000, 26_000_033, 48_500_000)
    );
    assert_eq!(c.in_ritardo, 1);
    assert_eq!(c.fermi, 1);
}

#[tokio::test]
async fn cifre_del_cruscotto_come_calcolate_a_mano_anche_a_una_data() {
    let app = TestApp::con(Opzioni {
        orologio: Some(chrono::Utc.with_ymd_and_hms(2026, 6, 30, 10, 0, 0).unwrap()),
        ..Default::default()
    })
    .await;
    let regione = token(&app, "REGIONE", &[]).await;
    let andria_pat = token(&app, "110001", &[dominio::Area::Patrimonio]).await;
    let andria_prg = token(&app, "110001", &[dominio::Area::Programmi]).await;
    let bari = token(&app, "072006", &[dominio::Area::Patrimonio]).await;

    accetta(
        &app,
        &andria_pat,
        "patrimonio",
        &patrimonio_andria(1),
        d(2026, 1, 15),
    )
    .await;
    accetta(&app, &bari, "patrimonio", &patrimonio_bari(), d(2026, 2, 1)).await;
    // The Region's programme list (its sources and instruments group the financing).
    accetta(&app, &regione, "programmi", &programmi(), d(2026, 1, 1)).await;
    accetta(
        &app,
        &andria_pat,
        "patrimonio",
        &patrimonio_andria(2),
        d(2026, 3, 1),
    )
    .await;
    accetta(
        &app,
        &andria_prg,
        "contabilita",
        &contabilita_andria("PRG-A", 1),
        d(2026, 3, 1),
    )
    .await;
    accetta(
        &app,
        &andria_prg,
        "contabilita",
        &contabilita_andria("PRG-A", 2),
        d(2026, 6, 1),
    )
    .await;

    let giorni = [
        None,
        Some(d(2026, 2, 15)),
        Some(d(2026, 1, 20)),
        Some(d(2026, 4, 1)),
        Some(d(2025, 12, 31)),
    ];
    let mut prima = Vec::new();
    for g in giorni {
        prima.push(figure(&app, g).await);
    }
    verifica(&prima[0], &prima[1], &prima[2], &prima[3], &prima[4]);
    // "As of today" is today's figures.
    assert_eq!(figure(&app, Some(d(2026, 6, 30))).await, prima[0]);

    // The public variant: cells about fewer than 5 units withheld, and the one cell that a
    // published total would give away.
    let p = app.p.cruscotto_pubblico(None).await.unwrap();
    assert_eq!(p.unita, Cella::Valore(9));
    let prov = |c: &str| {
        p.per_provincia
            .iter()
            .find(|x| x.codice == c)
            .unwrap()
            .unita
    };
    // BA (2 units) is small; BT (7) would give it away from the total 9.
    assert_eq!(prov("BA"), Cella::Soppressa);
    assert_eq!(prov("BT"), Cella::Soppressa);
    assert!(
        p.per_comune
            .iter()
            .all(|c| c.unita.soppressa() && c.fabbricati.soppressa())
    );
    let occ = |c: &str| {
        p.occupazione
            .iter()
            .find(|x| x.codice == c)
            .unwrap()
            .clone()
    };
    // ASSEGNATO (6) is not small, but with it and the total (9) the other states' 3 units
    // would be known: every state is withheld.
    assert_eq!(occ("ASSEGNATO").unita, Cella::Soppressa);
    assert_eq!(occ("ASSEGNATO").quota, Cella::Soppressa);
    assert_eq!(occ("SFITTO_ASSEGNABILE").quota, Cella::Soppressa);
    assert!(p.per_programma.iter().all(|f| f.finanziato.soppressa()));
    // The JSON says which cells are withheld.
    let j = serde_json::to_value(&p).unwrap();
    assert_eq!(j["per_provincia"][0]["unita"], "soppressa", "{j}");
    assert_eq!(j["unita"]["valore"], 9, "{j}");

    // Recomputed from the register (what the first start after migration 0009 does), every
    // day's figures are the same.
    app.p.db().richiedi_ricalcolo_aggregati().await.unwrap();
    app.p.prepara_aggregati().await.unwrap();
    for (g, c) in giorni.iter().zip(&prima) {
        assert_eq!(&figure(&app, *g).await, c, "{g:?}");
    }

    // The page: Region staff only; the figures, the charts with their tables, as of a day.
    let admin = app.come(&app.admin()).await;
    let (s, h) = admin.testo("/area/cruscotto").await;
    assert_eq!(s, 200, "{h}");
    let h = senza_escape(&h);
    assert!(h.contains("<svg"), "{h}");
    assert!(h.contains("Dati del grafico «Unità immobiliari per stato di occupazione»"));
    assert!(h.contains("id=\"tasso-sfitto\">22,22 %<"), "2 / 9");
    assert!(h.contains("href=\"/area/registro/unita?stato_occupazione=SFITTO_ASSEGNABILE\""));
    assert!(h.contains("href=\"/area/interventi?codice_programma=PRG-A\""));
    assert!(h.contains("1.100.000,00 €"), "PRG-A financed");
    let (s, h) = admin.testo("/area/cruscotto?al=15/02/2026").await;
    assert_eq!(s, 200);
    let h = senza_escape(&h);
    assert!(h.contains("al 15/02/2026"), "{h}");
    assert!(h.contains("id=\"tasso-sfitto\">25,00 %<"));
    assert!(
        h.contains("stato_occupazione=SFITTO_ASSEGNABILE&alla_data=2026-02-15"),
        "{h}"
    );
    let (s, _) = admin.testo("/area/cruscotto?al=31/02/2026").await;
    assert_eq!(s, 400);
    // A day to come (the clock says 30/06/2026), on the page and its exports: refused.
    let (s, h) = admin.testo("/area/cruscotto?al=01/07/2026").await;
    assert_eq!(s, 400, "{h}");
    assert!(
        senza_escape(&h).contains("La data 01/07/2026 è futura"),
        "{h}"
    );
    let r = admin
        .get("/area/cruscotto/programmi.csv?alla_data=2026-07-01")
        .await;
    assert_eq!(r.status(), 400);
    // Exports of a table, as of a day.
    let r = admin
        .get("/area/cruscotto/programmi.csv?alla_data=2026-04-01")
        .await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    // As the register's exports: UTF-8 with a BOM, comma-separated, money with a dot.
    assert!(csv.starts_with('\u{feff}'), "{csv}");
    assert!(
        csv.contains("PRG-A,2,1100000.00,260000.33,390000.00"),
        "{csv}"
    );
    let r = admin.get("/area/cruscotto/comuni.xlsx").await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    // The XLSX: each column written with its kind's number format, read back.
    let foglio = |percorso: &'static str| {
        let admin = &admin;
        async move {
            let r = admin.get(percorso).await;
            assert_eq!(r.status(), 200, "{percorso}");
            leggi_xlsx(&r.bytes().await.unwrap())
        }
    };
    let f = foglio("/area/cruscotto/occupazione.xlsx").await;
    assert_eq!(
        f.intestazione(),
        ["stato_occupazione", "codice", "numero", "quota_percentuale"]
    );
    let assegnato = f.riga("ASSEGNATO");
    // 6 of 9 units: the count an integer, the share 66,67 % as the fraction 0.6667.
    assert_eq!(assegnato[2], (Some(6.0), "#,##0".to_string()));
    assert_eq!(assegnato[3].1, "0.00%");
    assert!(
        (assegnato[3].0.unwrap() - 0.6667).abs() < 1e-9,
        "{assegnato:?}"
    );
    let f = foglio("/area/cruscotto/programmi.xlsx").await;
    let prg = f.riga("PRG-A");
    assert_eq!(prg[2], (Some(2.0), "#,##0".to_string()));
    assert_eq!(prg[3], (Some(1_100_000.0), "#,##0.00 \"€\"".to_string()));
    assert_eq!(prg[5], (Some(485_000.0), "#,##0.00 \"€\"".to_string()));
    let f = foglio("/area/cruscotto/sintesi.xlsx").await;
    let tasso = f.riga("tasso_sfitto");
    // 2 vacant of 9: 22,22 %, in the percentage column, with its format (not the money's).
    assert_eq!(tasso[2].0, None);
    assert_eq!(tasso[4].1, "0.00%");
    assert!((tasso[4].0.unwrap() - 0.2222).abs() < 1e-9, "{tasso:?}");
    assert_eq!(f.riga("unita")[2], (Some(9.0), "#,##0".to_string()));
    assert_eq!(
        f.riga("finanziato")[3],
        (Some(1_200_000.0), "#,##0.00 \"€\"".to_string())
    );
    let r = admin.get("/area/cruscotto/sintesi.csv").await;
    let csv = r.text().await.unwrap();
    assert!(
        csv.contains("Tasso di sfitto,tasso_sfitto,,,22.22\r\n"),
        "{csv}"
    );
    assert_eq!(admin.get("/area/cruscotto/nulla.csv").await.status(), 404);
    // The map's data: buildings coloured by their units' occupancy.
    let r = admin.get("/area/registro/mappa.json").await;
    assert_eq!(r.status(), 200);
    let m: Value = r.json().await.unwrap();
    let punti = m["punti"].as_array().unwrap();
    assert_eq!(punti.len(), 4, "{m}");
    let colori: Vec<&str> = punti.iter().map(|p| p[4].as_str().unwrap()).collect();
    // Andria FAB000001: U1–U3 assigned; FAB000002: U4 vacant of 2 (half); FAB000003: U7 of 2.
    let mut c = colori.clone();
    c.sort_unstable();
    assert_eq!(c, ["occupato", "occupato", "sfitto", "sfitto"], "{m}");
    // A referent of an entity reads no dashboard.
    let (_, referente, _) = app.persone("072006");
    let b = app.come(&referente).await;
    assert_eq!(b.get("/area/cruscotto").await.status(), 403);
}

/// A sheet read back: per row, per column, the number (if the cell holds one) and the cell's
/// number format (empty when none).
struct Foglio(Vec<Vec<(Option<f64>, String)>>, Vec<String>);

impl Foglio {
    fn intestazione(&self) -> &[String] {
        &self.1
    }

    /// The row whose code (second column) is `codice`.
    fn riga(&self, codice: &str) -> &[(Option<f64>, String)] {
        let i = self
            .0
            .iter()
            .position(|r| r.get(1).is_some_and(|c| c.1 == codice))
            .unwrap_or_else(|| panic!("{codice} assente"));
        &self.0[i]
    }
}

/// The first sheet of an XLSX: text cells are given as (None, text) in the rows' code column
/// for [`Foglio::riga`], numbers as (value, number format).
fn leggi_xlsx(byte: &[u8]) -> Foglio {
    use calamine::{Data, Reader, Xlsx};
    let mut x: Xlsx<_> = Xlsx::new(std::io::Cursor::new(byte.to_vec())).expect("xlsx");
    let nome = x.sheet_names()[0].clone();
    let valori = x.worksheet_range(&nome).expect("foglio");
    let stili = x.worksheet_style(&nome).expect("stili");
    let (righe, colonne) = valori.get_size();
    let mut intestazione = Vec::new();
    let mut v = Vec::new();
    for i in 0..righe as u32 {
        let mut r = Vec::new();
        for j in 0..colonne as u32 {
            let formato = stili
                .get((i, j))
                .and_then(|s| s.number_format.as_ref())
                .map(|n| n.format_code.clone())
                .unwrap_or_default();
            let cella = match valori.get_value((i, j)) {
                Some(Data::Float(f)) => (Some(*f), formato),
                Some(Data::Int(n)) => (Some(*n as f64), formato),
                Some(Data::String(s)) => (None, s.clone()),
                _ => (None, formato),
            };
            r.push(cella);
        }
        if i == 0 {
            intestazione = r.iter().map(|c| c.1.clone()).collect();
        } else {
            v.push(r);
        }
    }
    Foglio(v, intestazione)
}

/// Bari's accounting: one site in progress (CUP J11B18000000009) whose last SAL, 01/03/2024,
/// makes it stalled from 02/03/2025 on (365 days); version 2 adds a SAL of 20/04/2026.
fn contabilita_bari(versione: u32) -> Value {
    let mut sal = vec![
        json!({"cup": "J11B18000000009", "numero_sal": 1, "data_sal": "2024-03-01", "importo_sal": "5000.00", "importo_cumulato": "5000.00", "percentuale_avanzamento": 10}),
    ];
    if versione > 1 {
        sal.push(json!({"cup": "J11B18000000009", "numero_sal": 2, "data_sal": "2026-04-20", "importo_sal": "10000.00", "importo_cumulato": "15000.00", "percentuale_avanzamento": 30}));
    }
    json!({
        "interventi": [
            {"cup": "J11B18000000009", "codice_programma": "PRG-B", "titolo": "Nuovi alloggi al San Paolo",
             "comune_istat": "072006", "tipo_intervento": "NUOVA_COSTRUZIONE", "alloggi_previsti": 6,
             "importo_finanziato": "50000.00", "importo_totale": "50000.00",
             "stato": "LAVORI_IN_CORSO", "data_aggiudicazione": "2023-01-10", "data_inizio_lavori": "2023-02-01",
             "data_fine_prevista": "2027-06-30"}
        ],
        "sal": sal,
    })
}

/// The CUPs of an interventions list page, in its order.
fn cup_elencati(h: &str) -> Vec<String> {
    h.split("href=\"/area/interventi/")
        .skip(1)
        .filter_map(|x| x.split('"').next())
        .filter_map(|x| x.rsplit('/').next())
        .map(str::to_string)
        .collect()
}

/// The link of a figure of the dashboard's summary (`id="…"><a href="…"`).
fn link_della_cifra(h: &str, id: &str) -> String {
    let inizio = format!("id=\"{id}\"><a href=\"");
    let resto = h
        .split(&inizio)
        .nth(1)
        .unwrap_or_else(|| panic!("{id} senza link: {h}"));
    resto.split('"').next().unwrap().to_string()
}

/// "Every figure drills down to the list behind it": the delayed interventions and the
/// stalled sites, followed from the dashboard's links, are exactly the figures' (same count,
/// the CUPs worked out by hand), today and as of earlier days, across two entities; the list
/// pages through its keyset like any other.
#[tokio::test]
async fn ritardi_e_cantieri_fermi_portano_all_elenco_esatto() {
    let app = TestApp::con(Opzioni {
        orologio: Some(chrono::Utc.with_ymd_and_hms(2026, 6, 30, 10, 0, 0).unwrap()),
        ..Default::default()
    })
    .await;
    let regione = token(&app, "REGIONE", &[]).await;
    let andria = token(&app, "110001", &[dominio::Area::Programmi]).await;
    let bari = token(&app, "072006", &[dominio::Area::Programmi]).await;
    accetta(&app, &regione, "programmi", &programmi(), d(2026, 1, 1)).await;
    accetta(
        &app,
        &bari,
        "contabilita",
        &contabilita_bari(1),
        d(2026, 2, 1),
    )
    .await;
    accetta(
        &app,
        &andria,
        "contabilita",
        &contabilita_andria("PRG-A", 1),
        d(2026, 3, 1),
    )
    .await;
    accetta(
        &app,
        &bari,
        "contabilita",
        &contabilita_bari(2),
        d(2026, 5, 1),
    )
    .await;
    accetta(
        &app,
        &andria,
        "contabilita",
        &contabilita_andria("PRG-A", 2),
        d(2026, 6, 1),
    )
    .await;

    const I1: &str = "J11B18000000001";
    const I2: &str = "J11B18000000002";
    const I3: &str = "J11B18000000003";
    const B1: &str = "J11B18000000009";
    // (day, delayed, stalled), by hand (stall threshold 365 days).
    let casi: [(Option<NaiveDate>, &[&str], &[&str]); 5] = [
        // Today: I3 finished late; I2's last SAL (29/06/2025) is 366 days old; I1's planned
        // end moved to 31/12/2026 and Bari's site has a SAL of 20/04/2026: both normal.
        (None, &[I3], &[I2]),
        // The day before, I2's SAL is exactly 365 days old: not yet stalled.
        (Some(d(2026, 6, 29)), &[I3], &[]),
        // Andria's first version: I1 late since 02/03/2025; Bari's last SAL of 01/03/2024.
        (Some(d(2026, 4, 1)), &[I1, I3], &[B1]),
        // Only Bari's first version.
        (Some(d(2026, 2, 15)), &[], &[B1]),
        (Some(d(2025, 12, 31)), &[], &[]),
    ];
    let admin = app.come(&app.admin()).await;
    for (giorno, ritardo, fermi) in casi {
        let c = figure(&app, giorno).await;
        assert_eq!(c.in_ritardo, ritardo.len() as i64, "{giorno:?}");
        assert_eq!(c.fermi, fermi.len() as i64, "{giorno:?}");
        let pagina = match giorno {
            None => "/area/cruscotto".to_string(),
            Some(g) => format!("/area/cruscotto?alla_data={g}"),
        };
        let (s, h) = admin.testo(&pagina).await;
        assert_eq!(s, 200, "{h}");
        let h = senza_escape(&h);
        for (id, attesi, cifra) in [
            ("in-ritardo", ritardo, c.in_ritardo),
            ("fermi", fermi, c.fermi),
        ] {
            let link = link_della_cifra(&h, id);
            assert!(link.starts_with("/area/interventi?situazione="), "{link}");
            if let Some(g) = giorno {
                assert!(link.ends_with(&format!("&alla_data={g}")), "{link}");
            }
            let (s, l) = admin.testo(&link).await;
            assert_eq!(s, 200, "{l}");
            let elencati = cup_elencati(&senza_escape(&l));
            assert_eq!(
                elencati.len() as i64,
                cifra,
                "{id} {giorno:?}: {elencati:?}"
            );
            assert_eq!(elencati, attesi, "{id} {giorno:?}");
        }
    }

    // The list pages: one row at a time, each page after the previous one's last row.
    let soggetto = dominio::Soggetto::Persona {
        cf: app.demo.amministratore.as_ref().unwrap().cf.clone(),
        ruoli: vec![dominio::Ruolo::AmministratoreRegione],
    };
    let mut dopo = None;
    let mut visti = Vec::new();
    loop {
        let v = app
            .p
            .elenco_interventi_in(
                &soggetto,
                servizi::registro::FiltroRegistro {
                    alla_data: Some(d(2026, 4, 1)),
                    dopo: dopo.clone(),
                    limite: 1,
                    ..Default::default()
                },
                servizi::interventi::Situazione::InRitardo,
            )
            .await
            .unwrap();
        let Some(x) = v.first() else { break };
        assert_eq!(v.len(), 1);
        assert!(
            x.calcolati.ritardo_giorni.unwrap_or(0) > 0,
            "{:?}",
            x.calcolati
        );
        visti.push(x.cup.clone());
        dopo = Some((String::new(), x.ente.clone(), x.cup.clone()));
    }
    assert_eq!(visti, [I1, I3]);
    // The filters still apply: the delayed interventions of PRG-B only.
    let (_, l) = admin
        .testo("/area/interventi?situazione=in_ritardo&codice_programma=PRG-B&alla_data=2026-04-01")
        .await;
    assert_eq!(cup_elencati(&senza_escape(&l)), [I3]);
    let (s, l) = admin.testo("/area/interventi?situazione=lento").await;
    assert_eq!(s, 400, "{l}");
    assert!(l.contains("situazione richiesta non esiste"), "{l}");
}
