//! The sample files of the public documentation (`tests/dati/`) and their golden reports.
//!
//! - The samples are generated from the data below (fictitious, realistic: Comune di Bari,
//!   valid ISTAT codes of Puglia, CUPs of the right form, partite IVA with their check digit).
//!   `GENERA_CAMPIONI=1 cargo test -p flussi --test campioni` writes them; otherwise a test
//!   checks that the committed files hold exactly this data.
//! - Each sample is validated with a fixed "today" (26/11/2026) and its JSON report compared
//!   with the committed `tests/dati/<name>.report.json`; `AGGIORNA_SNAPSHOT=1` writes the
//!   snapshots instead of comparing.

mod aiuto_flussi;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use aiuto_flussi::*;
use flussi::lettori::dati::Dati;

fn dati() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dati")
}

/// The format of the downloads: `;` (Italian spreadsheets), BOM (so that Excel reads UTF-8),
/// CRLF.
const FORMATO: FormatoCsv = FormatoCsv {
    separatore: ';',
    bom: true,
    crlf: true,
};

/// A table from a text block: first line the header, `;` between values, no quoting.
fn tabella(nome: &str, testo: &str) -> Tabella {
    let mut righe = testo
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(';')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        });
    let colonne = righe.next().unwrap();
    let t = Tabella {
        nome: nome.to_string(),
        colonne,
        righe: righe.collect(),
    };
    for r in &t.righe {
        assert_eq!(r.len(), t.colonne.len(), "{nome}: {r:?}");
    }
    t
}

// ---------------------------------------------------------------------------------------------
// patrimonio
// ---------------------------------------------------------------------------------------------

const COMPLESSI: &str = "
codice_complesso;denominazione;comune_istat;note
C-SPAOLO;Quartiere San Paolo – lotto 3;072006;Complesso ERP realizzato tra il 1975 e il 1980.
C-JAPIGIA;Quartiere Japigia – via Caldarola;072006;
";

const FABBRICATI_VALIDI: &str = "
codice_fabbricato;codice_complesso;comune_istat;indirizzo;numero_civico;cap;latitudine;longitudine;foglio;particella;anno_costruzione;numero_piani;ascensore;titolo_possesso;cf_proprietario;stato_conservazione
BA-SP-001;C-SPAOLO;072006;Via Giulio Petroni;12;70124;41,1109;16,8795;41;512;1976;5;SI;PROPRIETA;;MEDIOCRE
BA-SP-002;C-SPAOLO;072006;Via Tommaso Fiore;8/A;70132;41,1281;16,7983;39;188;1979;4;NO;PROPRIETA;;BUONO
BA-JA-001;C-JAPIGIA;072006;Via Caldarola;45;70126;41,1034;16,8902;44;1021;1984;7;SI;GESTIONE;80012340727;BUONO
";

const UNITA_VALIDE: &str = "
codice_unita;codice_fabbricato;tipologia;sezione_urbana;foglio;particella;subalterno;categoria_catastale;rendita_catastale;piano;scala;interno;superficie_utile_mq;numero_vani;classe_energetica;accessibile_disabili;regime;stato_occupazione;data_assegnazione;canone_mensile;numero_occupanti;anno_ultimo_intervento;cup_ultimo_intervento
BA-SP-001-01;BA-SP-001;ALLOGGIO;;41;512;1;A/3;413,17;T;A;1;68,50;4;F;SI;ERP_SOVVENZIONATA;ASSEGNATO;12/05/1998;85,40;3;2019;B97H18000450002
BA-SP-001-02;BA-SP-001;ALLOGGIO;;41;512;2;A/3;413,17;T;A;2;72,00;4,5;F;NO;ERP_SOVVENZIONATA;ASSEGNATO;03/11/2004;112,75;4;2019;B97H18000450002
BA-SP-001-03;BA-SP-001;ALLOGGIO;;41;512;3;A/4;309,87;1;A;3;54,20;3;G;NO;ERP_SOVVENZIONATA;SFITTO_ASSEGNABILE;;;0;2019;B97H18000450002
BA-SP-001-04;BA-SP-001;ALLOGGIO;;41;512;4;A/3;413,17;1;A;4;68,50;4;F;NO;ERP_SOVVENZIONATA;ASSEGNATO;21/02/2011;64,10;2;2019;B97H18000450002
BA-SP-001-21;BA-SP-001;BOX;;41;512;21;C/6;52,68;S1;;;;;;NO;ERP_SOVVENZIONATA;ASSEGNATO;01/06/2015;25,00;;;
BA-SP-002-01;BA-SP-002;ALLOGGIO;;39;188;1;A/4;240,15;T;B;1;47,80;3;G;SI;ERP_SOVVENZIONATA;OCCUPATO_SENZA_TITOLO;;;2;;
BA-SP-002-02;BA-SP-002;ALLOGGIO;;39;188;2;A/3;490,63;1;B;2;81,30;5;G;NO;ERP_AGEVOLATA;ASSEGNATO;15/09/2008;143,20;5;;
BA-SP-002-03;BA-SP-002;ALLOGGIO;;39;188;3;A/3;490,63;2;B;3;81,30;5;G;NO;ERP_SOVVENZIONATA;SFITTO_DA_RISTRUTTURARE;;;0;;
BA-SP-002-10;BA-SP-002;NEGOZIO;;39;188;10;C/1;1245,00;T;;;38;;;SI;ALTRO;ASSEGNATO;01/01/2017;420,00;;;
BA-JA-001-01;BA-JA-001;ALLOGGIO;;44;1021;1;A/3;398,28;R;C;1;62,00;3,5;D;SI;ERS;ASSEGNATO;30/06/2020;260,00;2;2018;J92F17000130001
BA-JA-001-02;BA-JA-001;ALLOGGIO;;44;1021;2;A/2;612,20;1;C;2;95,40;5,5;D;NO;ERS;ASSEGNATO;30/06/2020;345,00;4;2018;J92F17000130001
BA-JA-001-03;BA-JA-001;ALLOGGIO;;44;1021;3;A/3;398,28;2;C;3;62,00;3,5;D;NO;ERS;IN_RISTRUTTURAZIONE;;;0;2026;J92F17000130001
";

/// Typical mistakes: a cadastral code instead of the ISTAT code, one coordinate only, a
/// sub-unit written «1 bis», a rent with the euro sign, a future date, a copied row with its
/// code unchanged, a unit of an undeclared building, a missing rent, a box with a dwelling's
/// category, an unknown type, the same cadastral unit twice, an extra column.
const FABBRICATI_ERRATI: &str = "
codice_fabbricato;codice_complesso;comune_istat;indirizzo;numero_civico;cap;latitudine;longitudine;foglio;particella;anno_costruzione;numero_piani;ascensore;titolo_possesso;cf_proprietario;stato_conservazione
BA-SP-001;C-SPAOLO;072006;Via Giulio Petroni;12;70124;41,1109;16,8795;41;512;1976;5;SI;PROPRIETA;;MEDIOCRE
BA-SP-002;C-SPAOLO;072006;Via Tommaso Fiore;8/A;70132;41,1281;;39;188;1979;4;NO;PROPRIETA;;BUONO
BA-JA-001;C-JAPIGIA;A662;Via Caldarola;45;70126;41,1034;16,8902;44;1021;1984;7;SI;GESTIONE;80012340727;BUONO
";

const UNITA_ERRATE: &str = "
codice_unita;codice_fabbricato;tipologia;sezione_urbana;foglio;particella;subalterno;categoria_catastale;rendita_catastale;piano;scala;interno;superficie_utile_mq;numero_vani;classe_energetica;accessibile_disabili;regime;stato_occupazione;data_assegnazione;canone_mensile;numero_occupanti;anno_ultimo_intervento;cup_ultimo_intervento;note
BA-SP-001-01;BA-SP-001;ALLOGGIO;;41;512;1 bis;A/3;413,17;T;A;1;68,50;4;F;SI;ERP_SOVVENZIONATA;ASSEGNATO;12/05/1998;85,40;3;2019;B97H18000450002;
BA-SP-001-02;BA-SP-001;ALLOGGIO;;41;512;2;A/3;413,17;T;A;2;72,00;4,5;F;NO;ERP_SOVVENZIONATA;ASSEGNATO;03/11/2004;€ 112,75;4;2019;B97H18000450002;
BA-SP-001-03;BA-SP-001;ALLOGGIO;;41;512;3;A/4;309,87;1;A;3;54,20;3;G;NO;ERP_SOVVENZIONATA;SFITTO_ASSEGNABILE;;;0;2019;B97H18000450002;
BA-SP-001-04;BA-SP-001;ALLOGGIO;;41;512;3;A/3;413,17;1;A;4;68,50;4;F;NO;ERP_SOVVENZIONATA;ASSEGNATO;21/02/2011;64,10;2;2019;B97H18000450002;subalterno da verificare
BA-SP-001-21;BA-SP-001;BOX;;41;512;21;A/3;52,68;S1;;;;;;NO;ERP_SOVVENZIONATA;ASSEGNATO;01/06/2015;25,00;;;;
BA-SP-002-01;BA-SP-002;ALLOGGIO;;39;188;1;A/4;240,15;T;B;1;47,80;3;G;SI;ERP_SOVVENZIONATA;OCCUPATO_SENZA_TITOLO;;;2;;;
BA-SP-002-02;BA-SP-002;ALLOGGIO;;39;188;2;A/3;490,63;1;B;2;81,30;5;G;NO;ERP_AGEVOLATA;ASSEGNATO;15/09/2027;143,20;5;;;
BA-SP-002-02;BA-SP-002;ALLOGGIO;;39;188;5;A/3;490,63;2;B;3;81,30;5;G;NO;ERP_SOVVENZIONATA;SFITTO_DA_RISTRUTTURARE;;;0;;;copiata dalla riga sopra
BA-SP-002-10;BA-SP-002;NEGOZIO;;39;188;10;C/1;1245,00;T;;;38;;;SI;ALTRO;ASSEGNATO;01/01/2017;;;;;
BA-SP-003-01;BA-SP-003;ALLOGGIO;;39;190;1;A/3;398,28;T;A;1;58,00;3;G;NO;ERP_SOVVENZIONATA;ASSEGNATO;10/10/2010;90,00;2;;;
BA-JA-001-01;BA-JA-001;Appartamento;;44;1021;1;A/3;398,28;R;C;1;62,00;3,5;D;SI;ERS;ASSEGNATO;30/06/2020;260,00;2;2018;J92F17000130001;
BA-JA-001-02;BA-JA-001;ALLOGGIO;;44;1021;2;A/2;612,20;1;C;2;95,40;5,5;D;NO;ERS;ASSEGNATO;30/06/2020;345,00;4;2018;J92F17000130001;
";

fn byte_patrimonio_valido() -> Vec<u8> {
    zip_csv_con(
        &[
            tabella("complessi", COMPLESSI),
            tabella("fabbricati", FABBRICATI_VALIDI),
            tabella("unita", UNITA_VALIDE),
        ],
        FORMATO,
    )
}

fn byte_patrimonio_errori() -> Vec<u8> {
    zip_csv_con(
        &[
            tabella("complessi", COMPLESSI),
            tabella("fabbricati", FABBRICATI_ERRATI),
            tabella("unita", UNITA_ERRATE),
        ],
        FORMATO,
    )
}

// ---------------------------------------------------------------------------------------------
// programmi
// ---------------------------------------------------------------------------------------------

const PROGRAMMI: &str = "
codice_programma;denominazione;tipo;strumento;fonte;atto;data_atto;importo_programma
L457-IV-BIENNIO;Legge 457/1978 – quarto biennio;SEMPLICE;L457_1978;STATALE;DGR 1876/1986;14/10/1986;120000000,00
CDQ-II;Contratti di quartiere II;COMPLESSO;CONTRATTO_QUARTIERE;MISTA;DGR 2117/2003;23/12/2003;85000000,00
PIANO-CASA-2009;Piano nazionale di edilizia abitativa;COMPLESSO;PIANO_CASA;STATALE;DGR 1452/2011;28/06/2011;47500000,00
PINQUA-2021;Programma innovativo nazionale per la qualità dell'abitare;COMPLESSO;PNRR_PINQUA;PNRR;DGR 1023/2021;30/06/2021;198000000,00
PNRR-SVS-2022;Sicuro, verde e sociale;SEMPLICE;PNRR_SVS;PNRR;DGR 1320/2022;26/09/2022;78500000,00
";

fn byte_programmi_valido() -> Vec<u8> {
    csv_con(&tabella("programmi", PROGRAMMI), FORMATO)
}

// ---------------------------------------------------------------------------------------------
// contabilita
// ---------------------------------------------------------------------------------------------

const INTERVENTI_VALIDI: &str = "
cup;codice_programma;titolo;comune_istat;tipo_intervento;alloggi_previsti;alloggi_realizzati;importo_finanziato;importo_cofinanziamento;importo_totale;stato;cig;impresa_esecutrice;piva_impresa;ribasso_percentuale;data_aggiudicazione;data_inizio_lavori;data_fine_prevista;data_fine_effettiva;data_collaudo
B97H18000450002;CDQ-II;Manutenzione straordinaria del fabbricato di via Petroni 12;072006;MANUTENZIONE_STRAORDINARIA;10;10;850000,00;150000,00;1000000,00;COLLAUDATO;7584123A9F;Costruzioni Adriatiche S.r.l.;05123450727;18,35;16/04/2018;02/07/2018;31/10/2019;20/12/2019;12/03/2020
J92F17000130001;PIANO-CASA-2009;Efficientamento energetico del fabbricato di via Caldarola 45;072006;EFFICIENTAMENTO_ENERGETICO;3;;640000,00;;640000,00;LAVORI_IN_CORSO;8123456B7C;Edil Sud Costruzioni S.p.A.;07987650723;9,8;12/09/2022;07/11/2022;31/03/2027;;
J94E21000780001;PINQUA-2021;Recupero di 24 alloggi nel quartiere San Paolo;072006;RECUPERO;24;;4200000,00;800000,00;5000000,00;AGGIUDICATO;9012345C1D;Consorzio Stabile Levante;06135790720;12,4;15/07/2025;;;;
";

const SAL_VALIDI: &str = "
cup;numero_sal;data_sal;importo_sal;importo_cumulato;percentuale_avanzamento
B97H18000450002;1;30/11/2018;320000,00;320000,00;35
B97H18000450002;2;31/05/2019;380000,00;700000,00;78
B97H18000450002;3;20/12/2019;212000,00;912000,00;100
J92F17000130001;1;30/06/2023;150000,00;150000,00;24
J92F17000130001;2;18/12/2024;210000,00;360000,00;56
";

const EROGAZIONI_VALIDE: &str = "
cup;data_erogazione;importo;tipo;atto
B97H18000450002;15/06/2018;170000,00;ANTICIPAZIONE;DD 112/2018
B97H18000450002;20/02/2019;300000,00;ACCONTO;DD 34/2019
B97H18000450002;10/07/2019;250000,00;ACCONTO;DD 201/2019
B97H18000450002;05/05/2020;130000,00;SALDO;DD 98/2020
J92F17000130001;03/10/2022;128000,00;ANTICIPAZIONE;DD 310/2022
J92F17000130001;01/03/2024;200000,00;ACCONTO;DD 57/2024
";

const PAGAMENTI_VALIDI: &str = "
cup;numero_mandato;data_mandato;importo;beneficiario;piva_beneficiario;causale;numero_sal
B97H18000450002;2019/0123;14/02/2019;45000,00;Studio Tecnico Associato Lorusso;02468020728;SPESE_TECNICHE;
B97H18000450002;2018/1457;20/12/2018;320000,00;Costruzioni Adriatiche S.r.l.;05123450727;LAVORI;1
B97H18000450002;2019/0688;28/06/2019;380000,00;Costruzioni Adriatiche S.r.l.;05123450727;LAVORI;2
B97H18000450002;2020/0102;31/01/2020;212000,00;Costruzioni Adriatiche S.r.l.;05123450727;LAVORI;3
J92F17000130001;2023/0815;28/07/2023;150000,00;Edil Sud Costruzioni S.p.A.;07987650723;LAVORI;1
J92F17000130001;2025/0044;30/01/2025;210000,00;Edil Sud Costruzioni S.p.A.;07987650723;LAVORI;2
";

const INTERVENTI_FABBRICATI_VALIDI: &str = "
cup;codice_fabbricato
B97H18000450002;BA-SP-001
J92F17000130001;BA-JA-001
J94E21000780001;BA-SP-001
J94E21000780001;BA-SP-002
";

/// Typical mistakes: a programme the Region does not have, a wrong total, a wrong check digit,
/// an unknown state, a test before the end of works, a CUP one digit short, a wrong cumulative
/// amount, progress going down, an impossible date, disbursements beyond the financing, a
/// payment for a SAL that does not exist, an unknown building.
const INTERVENTI_ERRATI: &str = "
cup;codice_programma;titolo;comune_istat;tipo_intervento;alloggi_previsti;alloggi_realizzati;importo_finanziato;importo_cofinanziamento;importo_totale;stato;cig;impresa_esecutrice;piva_impresa;ribasso_percentuale;data_aggiudicazione;data_inizio_lavori;data_fine_prevista;data_fine_effettiva;data_collaudo
B97H18000450002;CDQ-II;Manutenzione straordinaria del fabbricato di via Petroni 12;072006;MANUTENZIONE_STRAORDINARIA;10;10;850000,00;150000,00;1000000,00;COLLAUDATO;7584123A9F;Costruzioni Adriatiche S.r.l.;05123450727;18,35;16/04/2018;02/07/2018;31/10/2019;20/12/2019;12/12/2019
J92F17000130001;PIANO-CASA-2009;Efficientamento energetico del fabbricato di via Caldarola 45;072006;EFFICIENTAMENTO_ENERGETICO;3;;640000,00;;700000,00;LAVORI_IN_CORSO;8123456B7C;Edil Sud Costruzioni S.p.A.;07987650724;9,8;12/09/2022;07/11/2022;31/03/2027;;
J94E21000780001;PRU-2010;Recupero di 24 alloggi nel quartiere San Paolo;072006;RECUPERO;24;;4200000,00;800000,00;5000000,00;in corso;9012345C1D;Consorzio Stabile Levante;06135790720;12,4;15/07/2025;;;;
";

const SAL_ERRATI: &str = "
cup;numero_sal;data_sal;importo_sal;importo_cumulato;percentuale_avanzamento
B97H18000450002;1;30/11/2018;320000,00;320000,00;35
B97H18000450002;2;31/05/2019;380000,00;720000,00;78
B97H18000450002;3;20/12/2019;212000,00;912000,00;70
J92F17000130001;1;30/06/2023;150000,00;150000,00;24
J92F17000130001;2;31/06/2024;210000,00;360000,00;56
";

const EROGAZIONI_ERRATE: &str = "
cup;data_erogazione;importo;tipo;atto
B97H18000450002;15/06/2018;170000,00;ANTICIPAZIONE;DD 112/2018
B97H18000450002;20/02/2019;300000,00;ACCONTO;DD 34/2019
B97H18000450002;10/07/2019;300000,00;ACCONTO;DD 201/2019
B97H18000450002;05/05/2020;130000,00;SALDO;DD 98/2020
J92F17000130001;03/10/2022;128000,00;ANTICIPAZIONE;DD 310/2022
";

const PAGAMENTI_ERRATI: &str = "
cup;numero_mandato;data_mandato;importo;beneficiario;piva_beneficiario;causale;numero_sal
B97H18000450002;2018/1457;20/12/2018;320000,00;Costruzioni Adriatiche S.r.l.;05123450727;LAVORI;1
B97H18000450002;2019/0688;28/06/2019;380000,00;Costruzioni Adriatiche S.r.l.;05123450727;LAVORI;2
B97H18000450002;2020/0102;31/01/2020;212000,00;Costruzioni Adriatiche S.r.l.;05123450727;LAVORI;4
";

const INTERVENTI_FABBRICATI_ERRATI: &str = "
cup;codice_fabbricato
B97H18000450002;BA-SP-001
J92F1700013001;BA-JA-001
J94E21000780001;BA-SP-009
";

fn contabilita_zip(
    interventi: &str,
    sal: &str,
    erogazioni: &str,
    pagamenti: &str,
    fabbricati: &str,
) -> Vec<u8> {
    zip_csv_con(
        &[
            tabella("interventi", interventi),
            tabella("sal", sal),
            tabella("erogazioni", erogazioni),
            tabella("pagamenti", pagamenti),
            tabella("interventi_fabbricati", fabbricati),
        ],
        FORMATO,
    )
}

fn byte_contabilita_valido() -> Vec<u8> {
    contabilita_zip(
        INTERVENTI_VALIDI,
        SAL_VALIDI,
        EROGAZIONI_VALIDE,
        PAGAMENTI_VALIDI,
        INTERVENTI_FABBRICATI_VALIDI,
    )
}

fn byte_contabilita_errori() -> Vec<u8> {
    contabilita_zip(
        INTERVENTI_ERRATI,
        SAL_ERRATI,
        EROGAZIONI_ERRATE,
        PAGAMENTI_ERRATI,
        INTERVENTI_FABBRICATI_ERRATI,
    )
}

/// Every sample: (file name, domain, generated bytes).
fn campioni() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        (
            "patrimonio-valido.zip",
            "patrimonio",
            byte_patrimonio_valido(),
        ),
        (
            "patrimonio-errori.zip",
            "patrimonio",
            byte_patrimonio_errori(),
        ),
        (
            "contabilita-valido.zip",
            "contabilita",
            byte_contabilita_valido(),
        ),
        (
            "contabilita-errori.zip",
            "contabilita",
            byte_contabilita_errori(),
        ),
        ("programmi-valido.csv", "programmi", byte_programmi_valido()),
    ]
}

/// The members of a ZIP (name, content), or the file itself as one member.
fn contenuto(nome: &str, byte: &[u8]) -> Vec<(String, Vec<u8>)> {
    if !nome.ends_with(".zip") {
        return vec![(nome.to_string(), byte.to_vec())];
    }
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(byte)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut m = z.by_index(i).unwrap();
            let mut v = Vec::new();
            m.read_to_end(&mut v).unwrap();
            (m.name().map(|n| n.to_string()).unwrap_or_default(), v)
        })
        .collect()
}

#[test]
fn campioni_corrispondono_ai_dati() {
    let genera = std::env::var("GENERA_CAMPIONI").is_ok_and(|v| v == "1");
    for (nome, _, byte) in campioni() {
        let p = dati().join(nome);
        if genera {
            std::fs::create_dir_all(dati()).unwrap();
            std::fs::write(&p, &byte).unwrap();
            continue;
        }
        let su_disco = std::fs::read(&p).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (per crearlo: GENERA_CAMPIONI=1 cargo test -p flussi --test campioni)",
                p.display()
            )
        });
        assert_eq!(
            contenuto(nome, &su_disco),
            contenuto(nome, &byte),
            "{nome} non corrisponde ai dati del generatore: GENERA_CAMPIONI=1 per rigenerarlo"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Golden reports.
// ---------------------------------------------------------------------------------------------

fn file_campione(nome: &str) -> Dati {
    let p = dati().join(nome);
    assert!(p.is_file(), "manca {}", p.display());
    Dati::File(p)
}

/// The reference sets the command line would load with `--programmi programmi-valido.csv
/// --patrimonio patrimonio-valido.zip`.
fn riferimenti_dai_campioni() -> flussi::Riferimenti {
    let limiti = flussi::lettori::Limiti::default();
    let programmi = flussi::valori_di(
        "programmi-valido.csv",
        file_campione("programmi-valido.csv"),
        flussi::spec::dominio("programmi").unwrap(),
        "programmi",
        "codice_programma",
        &limiti,
        None,
    )
    .unwrap();
    let fabbricati = flussi::valori_di(
        "patrimonio-valido.zip",
        file_campione("patrimonio-valido.zip"),
        flussi::spec::dominio("patrimonio").unwrap(),
        "fabbricati",
        "codice_fabbricato",
        &limiti,
        None,
    )
    .unwrap();
    flussi::Riferimenti {
        programmi: Some(programmi),
        fabbricati: Some(fabbricati),
    }
}

fn opzioni_campione(dominio: &str) -> flussi::Opzioni {
    let mut o = opzioni();
    match dominio {
        "patrimonio" => o.dichiarante = flussi::Dichiarante::da_codice("072006"),
        "contabilita" => {
            o.dichiarante = flussi::Dichiarante::da_codice("072006");
            o.riferimenti = riferimenti_dai_campioni();
        }
        _ => o.dichiarante = flussi::Dichiarante::da_codice("REGIONE"),
    }
    o
}

fn report_campione(nome: &str, dominio: &str) -> flussi::Report {
    let r = flussi::valida_file(
        nome,
        file_campione(nome),
        flussi::spec::dominio(dominio).unwrap(),
        &opzioni_campione(dominio),
        None,
    );
    invarianti(&r);
    r
}

/// Compares the report with its snapshot (or writes it with `AGGIORNA_SNAPSHOT=1`).
fn confronta_con_snapshot(nome: &str, r: &flussi::Report) {
    let base = nome.rsplit_once('.').map(|(b, _)| b).unwrap_or(nome);
    let p = dati().join(format!("{base}.report.json"));
    let mut testo = r.json();
    testo.push('\n');
    if std::env::var("AGGIORNA_SNAPSHOT").is_ok_and(|v| v == "1") {
        std::fs::write(&p, testo).unwrap();
        return;
    }
    let atteso = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (per crearlo: AGGIORNA_SNAPSHOT=1 cargo test -p flussi --test campioni)",
            p.display()
        )
    });
    let a: serde_json::Value = serde_json::from_str(&atteso).unwrap();
    let t: serde_json::Value = serde_json::from_str(&testo).unwrap();
    if a != t {
        // Show the first issue that differs, then fail on the whole text.
        let sa = a["segnalazioni"].as_array().cloned().unwrap_or_default();
        let st = t["segnalazioni"].as_array().cloned().unwrap_or_default();
        for (i, (x, y)) in sa.iter().zip(&st).enumerate() {
            assert_eq!(x, y, "{nome}: segnalazione n. {i} diversa dallo snapshot");
        }
        assert_eq!(
            atteso,
            testo,
            "{nome}: il rapporto è diverso dallo snapshot {} (AGGIORNA_SNAPSHOT=1 per aggiornarlo, dopo aver verificato la differenza)",
            p.display()
        );
    }
}

#[test]
fn snapshot_patrimonio_valido() {
    let r = report_campione("patrimonio-valido.zip", "patrimonio");
    esattamente(&r, &[]);
    assert_eq!(
        r.tabelle
            .iter()
            .map(|(t, i)| (t.as_str(), i.righe))
            .collect::<Vec<_>>(),
        [("complessi", 2), ("fabbricati", 3), ("unita", 12)]
    );
    confronta_con_snapshot("patrimonio-valido.zip", &r);
}

#[test]
fn snapshot_patrimonio_errori() {
    let r = report_campione("patrimonio-errori.zip", "patrimonio");
    assert!(!r.valido);
    let codici: BTreeSet<&str> = r.segnalazioni.iter().map(|s| s.codice.as_str()).collect();
    for c in [
        "comune_sconosciuto",
        "coordinate_incomplete",
        "formato",
        "tipo",
        "data_futura",
        "chiave_duplicata",
        "riferimento_mancante",
        "obbligatorio_condizionato",
        "categoria_incoerente",
        "valore_non_ammesso",
        "catasto_duplicato",
        "campo_sconosciuto",
    ] {
        assert!(codici.contains(c), "manca {c} nel campione con errori");
    }
    confronta_con_snapshot("patrimonio-errori.zip", &r);
}

#[test]
fn snapshot_contabilita_valido() {
    let r = report_campione("contabilita-valido.zip", "contabilita");
    esattamente(&r, &[]);
    assert_eq!(
        r.tabelle
            .iter()
            .map(|(t, i)| (t.as_str(), i.righe))
            .collect::<Vec<_>>(),
        [
            ("interventi", 3),
            ("sal", 5),
            ("erogazioni", 6),
            ("pagamenti", 6),
            ("interventi_fabbricati", 4)
        ]
    );
    confronta_con_snapshot("contabilita-valido.zip", &r);
}

#[test]
fn contabilita_valido_fuori_linea_solo_avvisi() {
    // Without the reference files, the valid sample is still valid, with the two warnings.
    let r = flussi::valida_file(
        "contabilita-valido.zip",
        file_campione("contabilita-valido.zip"),
        flussi::spec::dominio("contabilita").unwrap(),
        &opzioni(),
        None,
    );
    assert!(r.valido);
    assert_eq!(r.avvisi, 2);
    assert_eq!(r.conteggi.get("controllo_non_eseguito"), Some(&2));
}

#[test]
fn snapshot_contabilita_errori() {
    let r = report_campione("contabilita-errori.zip", "contabilita");
    assert!(!r.valido);
    let codici: BTreeSet<&str> = r.segnalazioni.iter().map(|s| s.codice.as_str()).collect();
    for c in [
        "programma_sconosciuto",
        "somma_incoerente",
        "partita_iva",
        "valore_non_ammesso",
        "data_incoerente",
        "cup",
        "cumulato_errato",
        "sequenza",
        "tipo",
        "somma_eccedente",
        "riferimento_mancante",
        "fabbricato_sconosciuto",
    ] {
        assert!(codici.contains(c), "manca {c} nel campione con errori");
    }
    confronta_con_snapshot("contabilita-errori.zip", &r);
}

#[test]
fn snapshot_programmi_valido() {
    let r = report_campione("programmi-valido.csv", "programmi");
    esattamente(&r, &[]);
    assert_eq!(r.tabelle[0].1.righe, 5);
    confronta_con_snapshot("programmi-valido.csv", &r);
}

#[test]
fn campioni_in_memoria_come_su_disco() {
    // The same bytes in memory give the same report as the file on disk.
    for (nome, dominio, _) in campioni() {
        let su_disco = report_campione(nome, dominio);
        let byte = std::fs::read(dati().join(nome)).unwrap();
        let in_memoria = flussi::valida_file(
            nome,
            Dati::Byte(Arc::new(byte)),
            flussi::spec::dominio(dominio).unwrap(),
            &opzioni_campione(dominio),
            None,
        );
        assert_eq!(su_disco, in_memoria, "{nome}");
    }
}
