//! Domain `contabilita`: financed interventions and their accounting (`flusso-contabilita.md`).

use std::sync::OnceLock;

use super::registro::{
    Cerca, ChiaveRegistro, Filtro, Fusione, Genitore, RegistroDominio, RegistroTabella,
};
use super::{Campo, Controllo, Dominio, Gravita, Limite, Obbligo, Riferimento, Tabella, Tipo};

pub const TIPI_INTERVENTO: &[&str] = &[
    "NUOVA_COSTRUZIONE",
    "RECUPERO",
    "MANUTENZIONE_STRAORDINARIA",
    "ACQUISTO",
    "DEMOLIZIONE_RICOSTRUZIONE",
    "EFFICIENTAMENTO_ENERGETICO",
    "URBANIZZAZIONE",
];
pub const STATI: &[&str] = &[
    "PROGRAMMATO",
    "IN_PROGETTAZIONE",
    "AGGIUDICATO",
    "LAVORI_IN_CORSO",
    "SOSPESO",
    "ULTIMATO",
    "COLLAUDATO",
    "REVOCATO",
];
pub const TIPI_EROGAZIONE: &[&str] = &["ANTICIPAZIONE", "ACCONTO", "SALDO"];
pub const CAUSALI: &[&str] = &["LAVORI", "SPESE_TECNICHE", "ESPROPRI", "ALTRO"];

const CUP_RIF: Riferimento = Riferimento {
    campi: &["cup"],
    tabella: "interventi",
    campi_destinazione: &["cup"],
};

pub fn dominio() -> &'static Dominio {
    static D: OnceLock<Dominio> = OnceLock::new();
    D.get_or_init(|| {
        use Limite::{Escluso, Incluso};
        use Obbligo::{Condizionato, No, Si};
        Dominio {
            nome: "contabilita",
            titolo: "Finanziamenti e contabilità dei cantieri",
            descrizione: "Gli interventi finanziati dell'ente con la loro contabilità: stati di avanzamento lavori, erogazioni, pagamenti e fabbricati interessati. Ogni flusso contiene l'insieme completo degli interventi dell'ente.",
            tabelle: vec![
                Tabella {
                    nome: "interventi",
                    obbligatoria: true,
                    chiave: &["cup"],
                    descrizione: "Interventi edilizi finanziati.",
                    riferimenti: vec![],
                    campi: vec![
                        Campo::new("cup", Tipo::Cup, Si, "Codice unico di progetto, unico nel flusso."),
                        Campo::new("codice_programma", Tipo::Codice, Si, "Programma di finanziamento della Regione."),
                        Campo::new("titolo", Tipo::Testo { min: 5, max: 300 }, Si, "Titolo dell'intervento."),
                        Campo::new("comune_istat", Tipo::Comune, Si, "Codice ISTAT del Comune."),
                        Campo::new("tipo_intervento", Tipo::Enum(TIPI_INTERVENTO), Si, "Tipo di intervento."),
                        Campo::new("alloggi_previsti", Tipo::Intero, Si, "Alloggi previsti.").almeno(Incluso(0.0)),
                        Campo::new("alloggi_realizzati", Tipo::Intero, No, "Alloggi realizzati.").almeno(Incluso(0.0)),
                        Campo::new("importo_finanziato", Tipo::Denaro, Si, "Finanziamento pubblico concesso con il programma, in euro.").almeno(Escluso(0.0)),
                        Campo::new("importo_cofinanziamento", Tipo::Denaro, No, "Cofinanziamento in euro (se manca vale 0).").almeno(Incluso(0.0)),
                        Campo::new("importo_totale", Tipo::Denaro, Si, "Importo totale in euro.").almeno(Escluso(0.0)),
                        Campo::new("stato", Tipo::Enum(STATI), Si, "Stato dell'intervento."),
                        Campo::new("cig", Tipo::Cig, No, "Codice identificativo di gara."),
                        Campo::new("impresa_esecutrice", Tipo::Testo { min: 0, max: 200 }, No, "Impresa esecutrice."),
                        Campo::new("piva_impresa", Tipo::PartitaIva, No, "Partita IVA dell'impresa."),
                        Campo::new("ribasso_percentuale", Tipo::Numero { passo: None }, No, "Ribasso d'asta in percentuale.").tra(Incluso(0.0), Incluso(100.0)),
                        Campo::new("data_aggiudicazione", Tipo::Data, Condizionato("obbligatoria se stato è AGGIUDICATO, LAVORI_IN_CORSO, SOSPESO, ULTIMATO o COLLAUDATO"), "Data di aggiudicazione.").non_futura(),
                        Campo::new("data_inizio_lavori", Tipo::Data, Condizionato("obbligatoria se stato è LAVORI_IN_CORSO, SOSPESO, ULTIMATO o COLLAUDATO"), "Data di inizio dei lavori.").non_futura(),
                        Campo::new("data_fine_prevista", Tipo::Data, Condizionato("obbligatoria se è indicata data_inizio_lavori"), "Data di fine lavori prevista (può essere futura)."),
                        Campo::new("data_fine_effettiva", Tipo::Data, Condizionato("obbligatoria se stato è ULTIMATO o COLLAUDATO"), "Data di fine lavori effettiva.").non_futura(),
                        Campo::new("data_collaudo", Tipo::Data, Condizionato("obbligatoria se stato è COLLAUDATO"), "Data del collaudo.").non_futura(),
                    ],
                },
                Tabella {
                    nome: "sal",
                    obbligatoria: false,
                    chiave: &["cup", "numero_sal"],
                    descrizione: "Stati di avanzamento lavori.",
                    riferimenti: vec![CUP_RIF],
                    campi: vec![
                        Campo::new("cup", Tipo::Cup, Si, "Intervento (deve esistere in «interventi»)."),
                        Campo::new("numero_sal", Tipo::Intero, Si, "Numero del SAL, unico per CUP.").almeno(Incluso(1.0)),
                        Campo::new("data_sal", Tipo::Data, Si, "Data del SAL; non successiva a oggi.").non_futura(),
                        Campo::new("importo_sal", Tipo::Denaro, Si, "Lavori certificati da questo SAL, in euro.").almeno(Incluso(0.0)),
                        Campo::new("importo_cumulato", Tipo::Denaro, Si, "Lavori certificati fino a questo SAL compreso, in euro.").almeno(Incluso(0.0)),
                        Campo::new("percentuale_avanzamento", Tipo::Numero { passo: None }, Si, "Avanzamento in percentuale.").tra(Incluso(0.0), Incluso(100.0)),
                    ],
                },
                Tabella {
                    nome: "erogazioni",
                    obbligatoria: false,
                    chiave: &[],
                    descrizione: "Fondi erogati all'ente per l'intervento.",
                    riferimenti: vec![CUP_RIF],
                    campi: vec![
                        Campo::new("cup", Tipo::Cup, Si, "Intervento (deve esistere in «interventi»)."),
                        Campo::new("data_erogazione", Tipo::Data, Si, "Data dell'erogazione; non successiva a oggi.").non_futura(),
                        Campo::new("importo", Tipo::Denaro, Si, "Importo erogato in euro.").almeno(Escluso(0.0)),
                        Campo::new("tipo", Tipo::Enum(TIPI_EROGAZIONE), Si, "ANTICIPAZIONE, ACCONTO o SALDO."),
                        Campo::new("atto", Tipo::Testo { min: 3, max: 100 }, Si, "Atto che autorizza l'erogazione, es. «DD 45/2015»."),
                    ],
                },
                Tabella {
                    nome: "pagamenti",
                    obbligatoria: false,
                    chiave: &["cup", "numero_mandato"],
                    descrizione: "Pagamenti dell'ente (mandati).",
                    riferimenti: vec![CUP_RIF],
                    campi: vec![
                        Campo::new("cup", Tipo::Cup, Si, "Intervento (deve esistere in «interventi»)."),
                        Campo::new("numero_mandato", Tipo::Testo { min: 1, max: 20 }, Si, "Numero del mandato, unico per CUP."),
                        Campo::new("data_mandato", Tipo::Data, Si, "Data del mandato; non successiva a oggi.").non_futura(),
                        Campo::new("importo", Tipo::Denaro, Si, "Importo pagato in euro.").almeno(Escluso(0.0)),
                        Campo::new("beneficiario", Tipo::Testo { min: 2, max: 200 }, Si, "Beneficiario del pagamento."),
                        Campo::new("piva_beneficiario", Tipo::PartitaIva, No, "Partita IVA del beneficiario."),
                        Campo::new("causale", Tipo::Enum(CAUSALI), Si, "LAVORI, SPESE_TECNICHE, ESPROPRI o ALTRO."),
                        Campo::new("numero_sal", Tipo::Intero, No, "SAL a cui si riferisce (deve esistere per lo stesso CUP)."),
                    ],
                },
                Tabella {
                    nome: "interventi_fabbricati",
                    obbligatoria: false,
                    chiave: &["cup", "codice_fabbricato"],
                    descrizione: "Fabbricati del patrimonio interessati da un intervento.",
                    riferimenti: vec![CUP_RIF],
                    campi: vec![
                        Campo::new("cup", Tipo::Cup, Si, "Intervento (deve esistere in «interventi»)."),
                        Campo::new("codice_fabbricato", Tipo::Codice, Si, "Fabbricato del patrimonio dell'ente."),
                    ],
                },
            ],
            controlli: vec![
                Controllo { codice: "chiave_duplicata", gravita: Gravita::Errore, regola: "chiave ripetuta (cup; cup e numero_sal; cup e numero_mandato; cup e codice_fabbricato)" },
                Controllo { codice: "riferimento_mancante", gravita: Gravita::Errore, regola: "cup che non è in «interventi»; numero_sal di un pagamento senza quel SAL per lo stesso cup" },
                Controllo { codice: "obbligatorio_condizionato", gravita: Gravita::Errore, regola: "manca un campo obbligatorio in quella situazione (vedi i campi)" },
                Controllo { codice: "somma_incoerente", gravita: Gravita::Errore, regola: "importo_totale diverso da importo_finanziato + importo_cofinanziamento (tolleranza 0,01 €)" },
                Controllo { codice: "data_incoerente", gravita: Gravita::Errore, regola: "aggiudicazione dopo l'inizio lavori; fine prevista o effettiva prima dell'inizio; collaudo prima della fine effettiva; SAL prima dell'inizio lavori" },
                Controllo { codice: "data_futura", gravita: Gravita::Errore, regola: "data successiva alla data di validazione (tranne data_fine_prevista)" },
                Controllo { codice: "cumulato_errato", gravita: Gravita::Errore, regola: "importo_cumulato di un SAL diverso dalla somma degli importo_sal dello stesso cup fino a quel SAL" },
                Controllo { codice: "sequenza", gravita: Gravita::Errore, regola: "per un cup, in ordine di numero_sal, data_sal o percentuale_avanzamento che diminuiscono; un'erogazione successiva al SALDO" },
                Controllo { codice: "sequenza", gravita: Gravita::Avviso, regola: "numeri di SAL di un cup non consecutivi a partire da 1" },
                Controllo { codice: "somma_eccedente", gravita: Gravita::Errore, regola: "la somma progressiva delle erogazioni supera importo_finanziato, o quella dei pagamenti supera importo_totale" },
                Controllo { codice: "somma_eccedente", gravita: Gravita::Avviso, regola: "importo_cumulato di un SAL oltre l'importo_totale dell'intervento" },
                Controllo { codice: "saldo_multiplo", gravita: Gravita::Errore, regola: "più di un SALDO per lo stesso cup" },
                Controllo { codice: "incoerente", gravita: Gravita::Errore, regola: "SAL per un intervento PROGRAMMATO o IN_PROGETTAZIONE" },
                Controllo { codice: "incoerente", gravita: Gravita::Avviso, regola: "SALDO per un intervento né ULTIMATO né COLLAUDATO; alloggi_realizzati > alloggi_previsti" },
                Controllo { codice: "programma_sconosciuto", gravita: Gravita::Errore, regola: "codice_programma che non è tra i programmi della Regione" },
                Controllo { codice: "fabbricato_sconosciuto", gravita: Gravita::Avviso, regola: "codice_fabbricato che non è nel patrimonio dell'ente" },
                Controllo { codice: "fuori_territorio", gravita: Gravita::Avviso, regola: "come per il patrimonio, su comune_istat dell'intervento" },
                Controllo { codice: "cup_conteso", gravita: Gravita::Avviso, regola: "(sulla piattaforma) CUP già dichiarato nei dati accettati di un altro ente: la Regione verifica a chi appartiene l'intervento" },
            ],            registro: Some(registro()),
        }
    })
}

const DELL_INTERVENTO: Option<Genitore> = Some(Genitore {
    tabella: "interventi",
    campo: "cup",
});

/// The register of interventions and their accounting: every child table hangs from its
/// intervention by `cup`.
fn registro() -> RegistroDominio {
    RegistroDominio {
        fusione: Fusione::Istantanea,
        aperto: true,
        etichette_campi: &[
            ("cup", "CUP"),
            ("cig", "CIG"),
            ("codice_programma", "Codice del programma"),
            ("comune_istat", "Comune (codice ISTAT)"),
            ("tipo_intervento", "Tipo di intervento"),
            ("alloggi_previsti", "Alloggi previsti"),
            ("alloggi_realizzati", "Alloggi realizzati"),
            ("importo_finanziato", "Importo finanziato (€)"),
            ("importo_cofinanziamento", "Cofinanziamento (€)"),
            ("importo_totale", "Importo totale (€)"),
            ("impresa_esecutrice", "Impresa esecutrice"),
            ("piva_impresa", "Partita IVA dell'impresa"),
            ("ribasso_percentuale", "Ribasso (%)"),
            ("data_aggiudicazione", "Data di aggiudicazione"),
            ("data_inizio_lavori", "Inizio dei lavori"),
            ("data_fine_prevista", "Fine prevista"),
            ("data_fine_effettiva", "Fine effettiva"),
            ("data_collaudo", "Data del collaudo"),
            ("numero_sal", "Numero del SAL"),
            ("data_sal", "Data del SAL"),
            ("importo_sal", "Importo del SAL (€)"),
            ("importo_cumulato", "Importo cumulato (€)"),
            ("percentuale_avanzamento", "Avanzamento (%)"),
            ("data_erogazione", "Data dell'erogazione"),
            ("importo", "Importo (€)"),
            ("numero_mandato", "Numero del mandato"),
            ("data_mandato", "Data del mandato"),
            ("piva_beneficiario", "Partita IVA del beneficiario"),
            ("codice_fabbricato", "Codice del fabbricato"),
        ],
        etichette_valori: &[("SAL", "SAL")],
        tabelle: vec![
            RegistroTabella {
                tabella: "interventi",
                etichetta: "Interventi",
                con_articolo: "l'intervento",
                singolare: "Intervento",
                chiave: ChiaveRegistro::Campi,
                genitore: None,
                elencati: &[
                    "titolo",
                    "codice_programma",
                    "comune_istat",
                    "tipo_intervento",
                    "stato",
                    "importo_finanziato",
                ],
                filtri: &[
                    Filtro::Campo("codice_programma"),
                    Filtro::Campo("comune_istat"),
                    Filtro::Campo("stato"),
                    Filtro::Campo("tipo_intervento"),
                ],
                ordinabili: &["titolo", "codice_programma", "comune_istat", "stato"],
                cercati: &[
                    Cerca::Campo("titolo"),
                    Cerca::Campo("cig"),
                    Cerca::Campo("impresa_esecutrice"),
                ],
                descrittivi: &["titolo"],
                posizione: None,
                indicizzati: &["codice_programma"],
                // The CUP again, as the cross-entity key: the same CUP declared by two
                // entities is a conflict the Region sees (`cup_conteso`).
                incrocio: Some("incrocio_cup"),
            },
            RegistroTabella {
                tabella: "sal",
                etichetta: "Stati di avanzamento lavori",
                con_articolo: "il SAL",
                singolare: "Stato di avanzamento lavori",
                chiave: ChiaveRegistro::Campi,
                genitore: DELL_INTERVENTO,
                elencati: &[
                    "cup",
                    "numero_sal",
                    "data_sal",
                    "importo_sal",
                    "importo_cumulato",
                    "percentuale_avanzamento",
                ],
                filtri: &[Filtro::Campo("cup")],
                ordinabili: &["cup"],
                cercati: &[Cerca::Campo("cup")],
                descrittivi: &["data_sal"],
                posizione: None,
                indicizzati: &[],
                incrocio: None,
            },
            RegistroTabella {
                tabella: "erogazioni",
                etichetta: "Erogazioni",
                con_articolo: "l'erogazione",
                singolare: "Erogazione",
                chiave: ChiaveRegistro::Contenuto(&["cup"]),
                genitore: DELL_INTERVENTO,
                elencati: &["cup", "data_erogazione", "importo", "tipo", "atto"],
                filtri: &[Filtro::Campo("cup"), Filtro::Campo("tipo")],
                ordinabili: &["cup", "tipo"],
                cercati: &[Cerca::Campo("cup"), Cerca::Campo("atto")],
                descrittivi: &["data_erogazione", "atto"],
                posizione: None,
                indicizzati: &[],
                incrocio: None,
            },
            RegistroTabella {
                tabella: "pagamenti",
                etichetta: "Pagamenti",
                con_articolo: "il pagamento",
                singolare: "Pagamento",
                chiave: ChiaveRegistro::Campi,
                genitore: DELL_INTERVENTO,
                elencati: &[
                    "cup",
                    "numero_mandato",
                    "data_mandato",
                    "importo",
                    "beneficiario",
                    "causale",
                ],
                filtri: &[Filtro::Campo("cup"), Filtro::Campo("causale")],
                ordinabili: &["cup", "beneficiario", "causale"],
                cercati: &[
                    Cerca::Campo("cup"),
                    Cerca::Campo("beneficiario"),
                    Cerca::Campo("numero_mandato"),
                ],
                descrittivi: &["data_mandato", "beneficiario"],
                posizione: None,
                indicizzati: &[],
                incrocio: None,
            },
            RegistroTabella {
                tabella: "interventi_fabbricati",
                etichetta: "Fabbricati degli interventi",
                con_articolo: "il fabbricato dell'intervento",
                singolare: "Fabbricato dell'intervento",
                chiave: ChiaveRegistro::Campi,
                genitore: DELL_INTERVENTO,
                elencati: &["cup", "codice_fabbricato"],
                filtri: &[Filtro::Campo("cup"), Filtro::Campo("codice_fabbricato")],
                ordinabili: &["cup", "codice_fabbricato"],
                cercati: &[Cerca::Campo("cup"), Cerca::Campo("codice_fabbricato")],
                descrittivi: &["codice_fabbricato"],
                posizione: None,
                indicizzati: &[],
                incrocio: None,
            },
        ],
    }
}
