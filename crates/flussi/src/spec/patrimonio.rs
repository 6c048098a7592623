//! Domain `patrimonio`: the asset register of public housing (`flusso-patrimonio.md`).

use std::sync::OnceLock;

use super::registro::{
    Cerca, ChiaveRegistro, Filtro, Fusione, Genitore, Posizione, RegistroDominio, RegistroTabella,
};
use super::{
    Campo, Controllo, Dominio, Gravita, Limite, Modello, Obbligo, Riferimento, Tabella, Tipo,
};

pub const TIPOLOGIE: &[&str] = &[
    "ALLOGGIO",
    "BOX",
    "POSTO_AUTO",
    "NEGOZIO",
    "UFFICIO",
    "MAGAZZINO",
    "ALTRO",
];
pub const STATI_OCCUPAZIONE: &[&str] = &[
    "ASSEGNATO",
    "SFITTO_ASSEGNABILE",
    "SFITTO_DA_RISTRUTTURARE",
    "IN_RISTRUTTURAZIONE",
    "OCCUPATO_SENZA_TITOLO",
    "INAGIBILE",
    "ALTRO_USO",
];
pub const REGIMI: &[&str] = &["ERP_SOVVENZIONATA", "ERP_AGEVOLATA", "ERS", "ALTRO"];
pub const TITOLI_POSSESSO: &[&str] = &["PROPRIETA", "COMPROPRIETA", "GESTIONE"];
pub const STATI_CONSERVAZIONE: &[&str] = &["BUONO", "MEDIOCRE", "SCADENTE"];
pub const CLASSI_ENERGETICHE: &[&str] = &["A4", "A3", "A2", "A1", "B", "C", "D", "E", "F", "G"];

/// `A03`, `A3`, `a/03` → `A/3`: the cadastral category as the register writes it.
pub fn normalizza_categoria(s: &str) -> String {
    let s = s.trim().to_ascii_uppercase().replace(' ', "");
    let (lettera, resto) = match s.char_indices().next() {
        Some((_, c)) if c.is_ascii_alphabetic() => (c, &s[1..]),
        _ => return s,
    };
    let numero = resto.trim_start_matches('/');
    if numero.is_empty() || !numero.bytes().all(|b| b.is_ascii_digit()) {
        return s;
    }
    let n = numero.trim_start_matches('0');
    format!("{lettera}/{}", if n.is_empty() { "0" } else { n })
}

fn maiuscolo(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

fn foglio() -> Tipo {
    Tipo::Modello(
        Modello::new(
            "^[0-9]{1,4}[A-Z]?$",
            "da 1 a 4 cifre, eventualmente seguite da una lettera",
        )
        .con_normalizzazione(maiuscolo),
    )
}
fn particella() -> Tipo {
    Tipo::Modello(
        Modello::new(
            "^[0-9]{1,5}[A-Z]?$",
            "da 1 a 5 cifre, eventualmente seguite da una lettera",
        )
        .con_normalizzazione(maiuscolo),
    )
}

pub fn dominio() -> &'static Dominio {
    static D: OnceLock<Dominio> = OnceLock::new();
    D.get_or_init(|| {
        use Limite::{AnnoCorrente, Escluso, Incluso};
        use Obbligo::{Condizionato, No, Si};
        Dominio {
            nome: "patrimonio",
            titolo: "Banca dati patrimoniale",
            descrizione: "Il patrimonio di edilizia residenziale pubblica dell'ente: complessi, fabbricati e unità immobiliari. Ogni flusso contiene il patrimonio completo e attuale dell'ente.",
            tabelle: vec![
                Tabella {
                    nome: "complessi",
                    obbligatoria: false,
                    chiave: &["codice_complesso"],
                    descrizione: "Complessi edilizi (quartieri o insediamenti) che raggruppano fabbricati.",
                    riferimenti: vec![],
                    campi: vec![
                        Campo::new("codice_complesso", Tipo::Codice, Si, "Codice del complesso, unico nel flusso."),
                        Campo::new("denominazione", Tipo::Testo { min: 1, max: 200 }, Si, "Nome del complesso."),
                        Campo::new("comune_istat", Tipo::Comune, Si, "Codice ISTAT del Comune."),
                        Campo::new("note", Tipo::Testo { min: 0, max: 1000 }, No, "Note libere."),
                    ],
                },
                Tabella {
                    nome: "fabbricati",
                    obbligatoria: true,
                    chiave: &["codice_fabbricato"],
                    descrizione: "Fabbricati (edifici).",
                    riferimenti: vec![Riferimento { campi: &["codice_complesso"], tabella: "complessi", campi_destinazione: &["codice_complesso"] }],
                    campi: vec![
                        Campo::new("codice_fabbricato", Tipo::Codice, Si, "Codice del fabbricato, unico nel flusso."),
                        Campo::new("codice_complesso", Tipo::Codice, No, "Complesso a cui appartiene (deve esistere in «complessi»)."),
                        Campo::new("comune_istat", Tipo::Comune, Si, "Codice ISTAT del Comune in cui si trova."),
                        Campo::new("indirizzo", Tipo::Testo { min: 3, max: 200 }, Si, "Via e nome, es. «Via Giulio Petroni»."),
                        Campo::new(
                            "numero_civico",
                            Tipo::Modello(
                                Modello::new("^([0-9]{1,5}[A-Z]?(/[A-Z0-9]{1,3})?|SNC)$", "un numero civico come 12, 12A, 12/B oppure SNC")
                                    .senza_maiuscole()
                                    .con_normalizzazione(maiuscolo),
                            ),
                            No,
                            "Numero civico; SNC se senza numero.",
                        ),
                        Campo::new("cap", Tipo::Modello(Modello::new("^7[0-6][0-9]{3}$", "un CAP della Puglia di 5 cifre (70000–76999)")), No, "Codice di avviamento postale."),
                        Campo::new("latitudine", Tipo::Numero { passo: None }, No, "Latitudine WGS84 in gradi decimali.").tra(Incluso(39.7), Incluso(42.3)),
                        Campo::new("longitudine", Tipo::Numero { passo: None }, No, "Longitudine WGS84 in gradi decimali.").tra(Incluso(14.9), Incluso(18.6)),
                        Campo::new("foglio", foglio(), No, "Foglio catastale."),
                        Campo::new("particella", particella(), No, "Particella catastale."),
                        Campo::new("anno_costruzione", Tipo::Intero, No, "Anno di costruzione.").tra(Incluso(1800.0), AnnoCorrente),
                        Campo::new("numero_piani", Tipo::Intero, No, "Numero di piani fuori terra.").tra(Incluso(1.0), Incluso(40.0)),
                        Campo::new("ascensore", Tipo::Booleano, No, "Presenza di ascensore (SI/NO)."),
                        Campo::new("titolo_possesso", Tipo::Enum(TITOLI_POSSESSO), Si, "PROPRIETA, COMPROPRIETA o GESTIONE (gestito per conto di altri)."),
                        Campo::new("cf_proprietario", Tipo::CfGiuridica, Condizionato("obbligatorio se titolo_possesso = GESTIONE"), "Codice fiscale (11 cifre) del proprietario, se l'ente gestisce per conto di altri."),
                        Campo::new("stato_conservazione", Tipo::Enum(STATI_CONSERVAZIONE), No, "BUONO, MEDIOCRE o SCADENTE."),
                    ],
                },
                Tabella {
                    nome: "unita",
                    obbligatoria: true,
                    chiave: &["codice_unita"],
                    descrizione: "Unità immobiliari catastali: alloggi e altre unità.",
                    riferimenti: vec![Riferimento { campi: &["codice_fabbricato"], tabella: "fabbricati", campi_destinazione: &["codice_fabbricato"] }],
                    campi: vec![
                        Campo::new("codice_unita", Tipo::Codice, Si, "Codice dell'unità, unico nel flusso."),
                        Campo::new("codice_fabbricato", Tipo::Codice, Si, "Fabbricato in cui si trova (deve esistere in «fabbricati»)."),
                        Campo::new("tipologia", Tipo::Enum(TIPOLOGIE), Si, "Tipologia dell'unità."),
                        Campo::new("sezione_urbana", Tipo::Modello(Modello::new("^[A-Z0-9]{1,3}$", "da 1 a 3 lettere o cifre").con_normalizzazione(maiuscolo)), No, "Sezione urbana catastale."),
                        Campo::new("foglio", foglio(), Si, "Foglio catastale."),
                        Campo::new("particella", particella(), Si, "Particella catastale."),
                        Campo::new("subalterno", Tipo::Modello(Modello::new("^[0-9]{1,4}$", "da 1 a 4 cifre")), Si, "Subalterno catastale."),
                        Campo::new(
                            "categoria_catastale",
                            Tipo::Modello(
                                Modello::new("^(A/([1-9]|1[01])|B/[1-8]|C/[1-7]|D/([1-9]|10)|E/[1-9]|F/[1-6])$", "una categoria catastale come A/3, C/6 (A03 e A3 sono letti come A/3)")
                                    .con_normalizzazione(normalizza_categoria),
                            ),
                            Si,
                            "Categoria catastale.",
                        ),
                        Campo::new("rendita_catastale", Tipo::Denaro, No, "Rendita catastale in euro.").tra(Incluso(0.0), Incluso(100000.0)),
                        Campo::new("piano", Tipo::Modello(Modello::new("^(S[1-3]|T|R|[1-9][0-9]?)$", "S1–S3 (interrato), T (terra), R (rialzato) o un numero da 1 a 99").con_normalizzazione(maiuscolo)), No, "Piano."),
                        Campo::new("scala", Tipo::Testo { min: 0, max: 5 }, No, "Scala."),
                        Campo::new("interno", Tipo::Testo { min: 0, max: 6 }, No, "Interno."),
                        Campo::new("superficie_utile_mq", Tipo::Numero { passo: None }, Condizionato("obbligatorio se tipologia = ALLOGGIO"), "Superficie utile in metri quadrati.").tra(Escluso(0.0), Incluso(1000.0)),
                        Campo::new("numero_vani", Tipo::Numero { passo: Some(0.5) }, No, "Numero di vani, a passi di 0,5.").tra(Incluso(0.5), Incluso(30.0)),
                        Campo::new("classe_energetica", Tipo::Enum(CLASSI_ENERGETICHE), No, "Classe energetica."),
                        Campo::new("accessibile_disabili", Tipo::Booleano, No, "Accessibile a persone con disabilità (SI/NO)."),
                        Campo::new("regime", Tipo::Enum(REGIMI), Si, "Regime dell'unità."),
                        Campo::new("stato_occupazione", Tipo::Enum(STATI_OCCUPAZIONE), Si, "Stato di occupazione."),
                        Campo::new("data_assegnazione", Tipo::Data, Condizionato("obbligatoria se stato_occupazione = ASSEGNATO"), "Data di assegnazione; non successiva a oggi.").non_futura(),
                        Campo::new("canone_mensile", Tipo::Denaro, Condizionato("obbligatorio se stato_occupazione = ASSEGNATO"), "Canone mensile in euro.").tra(Incluso(0.0), Incluso(5000.0)),
                        Campo::new("numero_occupanti", Tipo::Intero, No, "Numero di occupanti.").tra(Incluso(0.0), Incluso(20.0)),
                        Campo::new("anno_ultimo_intervento", Tipo::Intero, No, "Anno dell'ultimo intervento.").tra(Incluso(1900.0), AnnoCorrente),
                        Campo::new("cup_ultimo_intervento", Tipo::Cup, No, "CUP dell'ultimo intervento."),
                    ],
                },
            ],
            controlli: vec![
                Controllo { codice: "chiave_duplicata", gravita: Gravita::Errore, regola: "codice ripetuto nella stessa tabella (segnalato sulla riga successiva)" },
                Controllo { codice: "riferimento_mancante", gravita: Gravita::Errore, regola: "codice_complesso o codice_fabbricato che non esiste nella tabella a cui rimanda" },
                Controllo { codice: "catasto_duplicato", gravita: Gravita::Errore, regola: "due unità con gli stessi comune del fabbricato, sezione urbana, foglio, particella e subalterno" },
                Controllo { codice: "coordinate_incomplete", gravita: Gravita::Errore, regola: "indicata solo una tra latitudine e longitudine" },
                Controllo { codice: "obbligatorio_condizionato", gravita: Gravita::Errore, regola: "manca un campo obbligatorio in quella situazione (vedi i campi)" },
                Controllo { codice: "data_futura", gravita: Gravita::Errore, regola: "data successiva alla data di validazione" },
                Controllo { codice: "incoerente", gravita: Gravita::Avviso, regola: "data_assegnazione o canone_mensile indicati per un'unità non ASSEGNATO; numero_occupanti > 0 per un'unità né ASSEGNATO né OCCUPATO_SENZA_TITOLO; anno_ultimo_intervento precedente all'anno di costruzione del fabbricato" },
                Controllo { codice: "categoria_incoerente", gravita: Gravita::Avviso, regola: "tipologia e categoria catastale non corrispondono (ALLOGGIO: A/1–A/9 o A/11; UFFICIO: A/10; NEGOZIO: C/1; MAGAZZINO: C/2 o C/3; BOX e POSTO_AUTO: C/6 o C/7)" },
                Controllo { codice: "valore_anomalo", gravita: Gravita::Avviso, regola: "alloggio sotto i 28 m²; canone mensile oltre 1000 €" },
                Controllo { codice: "coordinate_mancanti", gravita: Gravita::Avviso, regola: "fabbricato senza coordinate" },
                Controllo { codice: "senza_unita", gravita: Gravita::Avviso, regola: "fabbricato a cui non rimanda nessuna unità" },
                Controllo { codice: "fuori_territorio", gravita: Gravita::Avviso, regola: "solo se l'ente dichiarante è noto: un Comune che dichiara un fabbricato in un altro comune, un'ARCA fuori dalle sue province" },
                Controllo { codice: "catasto_conteso", gravita: Gravita::Avviso, regola: "solo nella piattaforma: la stessa unità catastale è nel patrimonio accettato di un altro ente" },
                Controllo { codice: "rimozione", gravita: Gravita::Avviso, regola: "solo nella piattaforma: un'unità del patrimonio attuale dell'ente manca nel flusso e sarà chiusa all'accettazione" },
            ],            registro: Some(registro()),
        }
    })
}

/// The asset register: complexes, buildings (located by their coordinates) and units (located
/// where their building is; `catasto` is their cadastral identity across entities).
fn registro() -> RegistroDominio {
    RegistroDominio {
        fusione: Fusione::Istantanea,
        aperto: true,
        etichette_campi: &[
            ("codice_complesso", "Codice del complesso"),
            ("codice_fabbricato", "Codice del fabbricato"),
            ("codice_unita", "Codice dell'unità"),
            ("comune_istat", "Comune (codice ISTAT)"),
            ("numero_civico", "Numero civico"),
            ("cap", "CAP"),
            ("anno_costruzione", "Anno di costruzione"),
            ("numero_piani", "Numero di piani"),
            ("titolo_possesso", "Titolo di possesso"),
            ("cf_proprietario", "Codice fiscale del proprietario"),
            ("stato_conservazione", "Stato di conservazione"),
            ("sezione_urbana", "Sezione urbana"),
            ("categoria_catastale", "Categoria catastale"),
            ("rendita_catastale", "Rendita catastale (€)"),
            ("superficie_utile_mq", "Superficie utile (m²)"),
            ("numero_vani", "Numero di vani"),
            ("classe_energetica", "Classe energetica"),
            (
                "accessibile_disabili",
                "Accessibile a persone con disabilità",
            ),
            ("stato_occupazione", "Stato di occupazione"),
            ("data_assegnazione", "Data di assegnazione"),
            ("canone_mensile", "Canone mensile (€)"),
            ("numero_occupanti", "Numero di occupanti"),
            ("anno_ultimo_intervento", "Anno dell'ultimo intervento"),
            ("cup_ultimo_intervento", "CUP dell'ultimo intervento"),
        ],
        etichette_valori: &[
            ("PROPRIETA", "Proprietà"),
            ("COMPROPRIETA", "Comproprietà"),
            ("ERS", "ERS"),
            ("ERP_SOVVENZIONATA", "ERP sovvenzionata"),
            ("ERP_AGEVOLATA", "ERP agevolata"),
        ],
        tabelle: vec![
            RegistroTabella {
                tabella: "fabbricati",
                etichetta: "Fabbricati",
                con_articolo: "il fabbricato",
                singolare: "Fabbricato",
                chiave: ChiaveRegistro::Campi,
                genitore: None,
                elencati: &[
                    "comune_istat",
                    "indirizzo",
                    "numero_civico",
                    "codice_complesso",
                    "anno_costruzione",
                    "titolo_possesso",
                    "stato_conservazione",
                ],
                filtri: &[
                    Filtro::Campo("comune_istat"),
                    Filtro::Campo("titolo_possesso"),
                    Filtro::Campo("stato_conservazione"),
                ],
                ordinabili: &[
                    "comune_istat",
                    "indirizzo",
                    "codice_complesso",
                    "stato_conservazione",
                ],
                cercati: &[Cerca::Campo("codice_complesso"), Cerca::Campo("indirizzo")],
                descrittivi: &["indirizzo", "numero_civico"],
                posizione: Some(Posizione::Coordinate {
                    latitudine: "latitudine",
                    longitudine: "longitudine",
                }),
                indicizzati: &["comune_istat"],
                incrocio: None,
            },
            RegistroTabella {
                tabella: "unita",
                etichetta: "Unità immobiliari",
                con_articolo: "l'unità",
                singolare: "Unità immobiliare",
                chiave: ChiaveRegistro::Campi,
                genitore: Some(Genitore {
                    tabella: "fabbricati",
                    campo: "codice_fabbricato",
                }),
                elencati: &[
                    "codice_fabbricato",
                    "tipologia",
                    "sezione_urbana",
                    "foglio",
                    "particella",
                    "subalterno",
                    "categoria_catastale",
                    "superficie_utile_mq",
                    "regime",
                    "stato_occupazione",
                ],
                filtri: &[
                    Filtro::Genitore("comune_istat"),
                    Filtro::Campo("codice_fabbricato"),
                    Filtro::Campo("tipologia"),
                    Filtro::Campo("stato_occupazione"),
                    Filtro::Campo("regime"),
                    Filtro::Campo("classe_energetica"),
                ],
                ordinabili: &[
                    "codice_fabbricato",
                    "tipologia",
                    "categoria_catastale",
                    "regime",
                    "stato_occupazione",
                ],
                cercati: &[
                    Cerca::Campo("codice_fabbricato"),
                    Cerca::Genitore("indirizzo"),
                    Cerca::Unione(&["foglio", "particella", "subalterno"]),
                ],
                descrittivi: &["tipologia", "categoria_catastale"],
                posizione: Some(Posizione::DelGenitore),
                indicizzati: &[],
                incrocio: Some("catasto"),
            },
            RegistroTabella {
                tabella: "complessi",
                etichetta: "Complessi",
                con_articolo: "il complesso",
                singolare: "Complesso",
                chiave: ChiaveRegistro::Campi,
                genitore: None,
                elencati: &["denominazione", "comune_istat"],
                filtri: &[Filtro::Campo("comune_istat")],
                ordinabili: &["denominazione", "comune_istat"],
                cercati: &[Cerca::Campo("denominazione")],
                descrittivi: &["denominazione"],
                posizione: None,
                indicizzati: &[],
                incrocio: None,
            },
        ],
    }
}

#[cfg(test)]
mod test {
    #[test]
    fn categorie() {
        for (i, o) in [
            ("A03", "A/3"),
            ("a3", "A/3"),
            ("A/03", "A/3"),
            ("C/6", "C/6"),
            ("A10", "A/10"),
            ("X", "X"),
            ("A/3b", "A/3B"),
        ] {
            assert_eq!(super::normalizza_categoria(i), o);
        }
    }
}
