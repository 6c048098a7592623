//! Domain `programmi`: the Region's financing programmes (`flusso-contabilita.md`).

use std::sync::OnceLock;

use super::registro::{Cerca, ChiaveRegistro, Filtro, Fusione, RegistroDominio, RegistroTabella};
use super::{Campo, Controllo, Dominio, Gravita, Limite, Obbligo, Tabella, Tipo};

pub const TIPI: &[&str] = &["SEMPLICE", "COMPLESSO"];
pub const STRUMENTI: &[&str] = &[
    "L457_1978",
    "PRU",
    "PRUSST",
    "CONTRATTO_QUARTIERE",
    "PIANO_CASA",
    "PNRR_PINQUA",
    "PNRR_SVS",
    "FSC",
    "POR_FESR",
    "ALTRO",
];
pub const FONTI: &[&str] = &["STATALE", "REGIONALE", "UE", "PNRR", "COMUNALE", "MISTA"];

pub fn dominio() -> &'static Dominio {
    static D: OnceLock<Dominio> = OnceLock::new();
    D.get_or_init(|| {
        use Obbligo::Si;
        Dominio {
            nome: "programmi",
            titolo: "Programmi di finanziamento",
            descrizione: "I programmi di finanziamento gestiti dalla Regione, a cui rimandano gli interventi degli enti. Inviato solo dalla Regione.",
            tabelle: vec![Tabella {
                nome: "programmi",
                obbligatoria: true,
                chiave: &["codice_programma"],
                descrizione: "Programmi di finanziamento.",
                riferimenti: vec![],
                campi: vec![
                    Campo::new("codice_programma", Tipo::Codice, Si, "Codice del programma, unico."),
                    Campo::new("denominazione", Tipo::Testo { min: 3, max: 300 }, Si, "Nome del programma."),
                    Campo::new("tipo", Tipo::Enum(TIPI), Si, "SEMPLICE o COMPLESSO."),
                    Campo::new("strumento", Tipo::Enum(STRUMENTI), Si, "Strumento di finanziamento."),
                    Campo::new("fonte", Tipo::Enum(FONTI), Si, "Fonte del finanziamento."),
                    Campo::new("atto", Tipo::Testo { min: 3, max: 100 }, Si, "Atto, es. «DGR 1234/2010»."),
                    Campo::new("data_atto", Tipo::Data, Si, "Data dell'atto; non successiva a oggi.").non_futura(),
                    Campo::new("importo_programma", Tipo::Denaro, Si, "Importo del programma in euro.").almeno(Limite::Escluso(0.0)),
                ],
            }],
            controlli: vec![
                Controllo { codice: "chiave_duplicata", gravita: Gravita::Errore, regola: "codice_programma ripetuto" },
                Controllo { codice: "data_futura", gravita: Gravita::Errore, regola: "data_atto successiva alla data di validazione" },
            ],            registro: Some(RegistroDominio {
                fusione: Fusione::Istantanea,
        aperto: true,
                etichette_campi: &[
                    ("codice_programma", "Codice del programma"),
                    ("data_atto", "Data dell'atto"),
                    ("importo_programma", "Importo del programma (€)"),
                ],
                etichette_valori: &[
                    ("L457_1978", "Legge 457/1978"),
                    ("PRU", "PRU"),
                    ("PRUSST", "PRUSST"),
                    ("PNRR_PINQUA", "PNRR PINQuA"),
                    ("PNRR_SVS", "PNRR SVS"),
                    ("FSC", "FSC"),
                    ("POR_FESR", "POR FESR"),
                    ("UE", "UE"),
                    ("PNRR", "PNRR"),
                ],
                tabelle: vec![RegistroTabella {
                    tabella: "programmi",
                    etichetta: "Programmi",
                    con_articolo: "il programma",
                    singolare: "Programma",
                    chiave: ChiaveRegistro::Campi,
                    genitore: None,
                    elencati: &["denominazione", "tipo", "strumento", "fonte", "atto", "importo_programma"],
                    filtri: &[Filtro::Campo("tipo"), Filtro::Campo("strumento"), Filtro::Campo("fonte")],
                    ordinabili: &["denominazione", "strumento", "fonte"],
                    cercati: &[Cerca::Campo("denominazione"), Cerca::Campo("atto")],
                    descrittivi: &["denominazione"],
                    posizione: None,
                    indicizzati: &[],
                    incrocio: None,
                }],
            }),
        }
    })
}
