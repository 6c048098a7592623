//! Realistic, deterministic `programmi` and `contabilita` flows (`flusso-contabilita.md`), with
//! the machinery of the `patrimonio` generator (its PRNG, territory and writers).
//!
//! - `programmi`: the Region's programme list, fixed ([`PROGRAMMI`]): the spec's instruments
//!   with plausible acts, dates and amounts, from Law 457/1978 to the PNRR.
//! - `contabilita`: `n` interventions of an entity with their SAL, disbursements, payments and
//!   buildings. Every intervention is planned from its own sub-seed ([`PianoIntervento`]), and
//!   the tables are written one after the other by planning again, so memory does not grow
//!   with `n`. States are mixed as in a real historical database: tested and finished works,
//!   works in progress (some late, some stalled: no SAL for more than a year), suspended,
//!   awarded, in design, programmed and revoked ones. Dates are counted back from the
//!   reference day (`oggi`), so the mix holds whenever the file is generated; no date but a
//!   planned end is after it.
//! - **Valid**: with the programme list and the entity's buildings as references, a generated
//!   flow has no error and no warning (tests).

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};

use super::{
    FormatoGenerato, MAX_RIGHE_XLSX, Prng, Scrittore, ScrittoreCartella, ScrittoreXlsx,
    ScrittoreZip, Territorio, cf_giuridica, euro, mescola,
};
use crate::spec::{Tabella, contabilita, programmi};

/// A programme of the Region's list.
#[derive(Clone, Copy, Debug)]
pub struct Programma {
    pub codice: &'static str,
    pub denominazione: &'static str,
    pub tipo: &'static str,
    pub strumento: &'static str,
    pub fonte: &'static str,
    pub atto: &'static str,
    /// (year, month, day)
    pub data_atto: (i32, u32, u32),
    /// Euro cents.
    pub importo: i64,
}

/// The programme list the demo loads and generated interventions refer to.
pub const PROGRAMMI: &[Programma] = &[
    Programma {
        codice: "L457-1992",
        denominazione: "Legge 457/1978 – Programma quadriennale 1992-1995 di edilizia residenziale sovvenzionata",
        tipo: "SEMPLICE",
        strumento: "L457_1978",
        fonte: "STATALE",
        atto: "DGR 5600/1992",
        data_atto: (1992, 11, 23),
        importo: 18_540_000_000,
    },
    Programma {
        codice: "L457-1996",
        denominazione: "Legge 457/1978 – Programma 1996-1997 di recupero del patrimonio ERP",
        tipo: "SEMPLICE",
        strumento: "L457_1978",
        fonte: "STATALE",
        atto: "DGR 3120/1996",
        data_atto: (1996, 6, 18),
        importo: 7_230_000_000,
    },
    Programma {
        codice: "PRU-1997",
        denominazione: "Programmi di recupero urbano (art. 11 L. 493/1993)",
        tipo: "COMPLESSO",
        strumento: "PRU",
        fonte: "STATALE",
        atto: "DGR 1230/1997",
        data_atto: (1997, 4, 15),
        importo: 9_650_000_000,
    },
    Programma {
        codice: "PRUSST-1999",
        denominazione: "Programmi di riqualificazione urbana e di sviluppo sostenibile del territorio",
        tipo: "COMPLESSO",
        strumento: "PRUSST",
        fonte: "MISTA",
        atto: "DM LLPP 1169/1999",
        data_atto: (1999, 9, 8),
        importo: 6_120_000_000,
    },
    Programma {
        codice: "CDQ2-2003",
        denominazione: "Contratti di quartiere II",
        tipo: "COMPLESSO",
        strumento: "CONTRATTO_QUARTIERE",
        fonte: "MISTA",
        atto: "DGR 2203/2003",
        data_atto: (2003, 12, 22),
        importo: 12_040_000_000,
    },
    Programma {
        codice: "PIANOCASA-2009",
        denominazione: "Piano nazionale di edilizia abitativa (DPCM 16 luglio 2009)",
        tipo: "SEMPLICE",
        strumento: "PIANO_CASA",
        fonte: "STATALE",
        atto: "DGR 2289/2009",
        data_atto: (2009, 11, 30),
        importo: 6_430_000_000,
    },
    Programma {
        codice: "PORFESR-2010",
        denominazione: "POR Puglia FESR 2007-2013 Asse VII – Rigenerazione urbana e abitare sociale",
        tipo: "COMPLESSO",
        strumento: "POR_FESR",
        fonte: "UE",
        atto: "DGR 1762/2010",
        data_atto: (2010, 7, 27),
        importo: 8_200_000_000,
    },
    Programma {
        codice: "FSC-2017",
        denominazione: "FSC 2014-2020 Patto per la Puglia – Recupero di alloggi ERP",
        tipo: "SEMPLICE",
        strumento: "FSC",
        fonte: "STATALE",
        atto: "DGR 545/2017",
        data_atto: (2017, 4, 11),
        importo: 5_000_000_000,
    },
    Programma {
        codice: "PORFESR-2017",
        denominazione: "POR Puglia FESR-FSE 2014-2020 Azione 9.13 – Riqualificazione di alloggi pubblici",
        tipo: "SEMPLICE",
        strumento: "POR_FESR",
        fonte: "UE",
        atto: "DGR 1471/2017",
        data_atto: (2017, 9, 26),
        importo: 4_500_000_000,
    },
    Programma {
        codice: "MANUT-2019",
        denominazione: "Programma regionale di manutenzione straordinaria del patrimonio ERP 2019",
        tipo: "SEMPLICE",
        strumento: "ALTRO",
        fonte: "REGIONALE",
        atto: "DGR 2311/2019",
        data_atto: (2019, 12, 9),
        importo: 3_000_000_000,
    },
    Programma {
        codice: "PNRR-SVS-2021",
        denominazione: "PNC Sicuro, verde e sociale – Riqualificazione dell'edilizia residenziale pubblica",
        tipo: "SEMPLICE",
        strumento: "PNRR_SVS",
        fonte: "PNRR",
        atto: "DGR 1536/2021",
        data_atto: (2021, 9, 27),
        importo: 14_860_000_000,
    },
    Programma {
        codice: "PINQUA-2021",
        denominazione: "PNRR M5C2 Investimento 2.3 – Programma innovativo nazionale per la qualità dell'abitare",
        tipo: "COMPLESSO",
        strumento: "PNRR_PINQUA",
        fonte: "PNRR",
        atto: "DM MIMS 383/2021",
        data_atto: (2021, 10, 7),
        importo: 21_000_000_000,
    },
];

impl Programma {
    pub fn data(&self) -> NaiveDate {
        let (a, m, g) = self.data_atto;
        NaiveDate::from_ymd_opt(a, m, g).unwrap_or(NaiveDate::MIN)
    }
}

colonne!(col_p: codice_programma, denominazione, tipo, strumento, fonte, atto, data_atto,
    importo_programma);
colonne!(col_i: cup, codice_programma, titolo, comune_istat, tipo_intervento, alloggi_previsti,
    alloggi_realizzati, importo_finanziato, importo_cofinanziamento, importo_totale, stato, cig,
    impresa_esecutrice, piva_impresa, ribasso_percentuale, data_aggiudicazione, data_inizio_lavori,
    data_fine_prevista, data_fine_effettiva, data_collaudo);
colonne!(col_s: cup, numero_sal, data_sal, importo_sal, importo_cumulato, percentuale_avanzamento);
colonne!(col_e: cup, data_erogazione, importo, tipo, atto);
colonne!(col_m: cup, numero_mandato, data_mandato, importo, beneficiario, piva_beneficiario,
    causale, numero_sal);
colonne!(col_f: cup, codice_fabbricato);

fn tabelle() -> [(&'static Tabella, &'static [&'static str]); 5] {
    let d = contabilita::dominio();
    let t = |n: &str| d.tabella(n).expect("tabella del dominio contabilita");
    [
        (t("interventi"), col_i::NOMI),
        (t("sal"), col_s::NOMI),
        (t("erogazioni"), col_e::NOMI),
        (t("pagamenti"), col_m::NOMI),
        (t("interventi_fabbricati"), col_f::NOMI),
    ]
}

/// The generator writes exactly the spec's fields in the spec's order, or refuses to run.
fn verifica_colonne() -> io::Result<()> {
    let p = programmi::dominio()
        .tabella("programmi")
        .ok_or_else(|| io::Error::other("tabella programmi"))?;
    for (t, nomi) in tabelle().into_iter().chain([(p, col_p::NOMI)]) {
        let spec: Vec<&str> = t.campi.iter().map(|c| c.nome).collect();
        if spec != nomi {
            return Err(io::Error::other(format!(
                "il generatore non è allineato alla specifica della tabella {}: {:?} invece di {:?}",
                t.nome, nomi, spec
            )));
        }
    }
    Ok(())
}

/// Writes the Region's programme list ([`PROGRAMMI`]) as a `programmi` flow; gives the
/// number of programmes written.
pub fn genera_programmi(formato: FormatoGenerato, output: &Path) -> io::Result<u64> {
    verifica_colonne()?;
    match formato {
        FormatoGenerato::ZipCsv => scrivi_programmi(ScrittoreZip::new(output)?),
        FormatoGenerato::CartellaCsv => scrivi_programmi(ScrittoreCartella::new(output)?),
        FormatoGenerato::Xlsx => scrivi_programmi(ScrittoreXlsx::new(output, "programmi")),
    }
}

fn scrivi_programmi(mut w: impl Scrittore) -> io::Result<u64> {
    let t = programmi::dominio()
        .tabella("programmi")
        .ok_or_else(|| io::Error::other("tabella programmi"))?;
    w.inizia(t)?;
    let mut celle = vec![String::new(); col_p::NOMI.len()];
    for p in PROGRAMMI {
        celle.iter_mut().for_each(String::clear);
        celle[col_p::codice_programma].push_str(p.codice);
        celle[col_p::denominazione].push_str(p.denominazione);
        celle[col_p::tipo].push_str(p.tipo);
        celle[col_p::strumento].push_str(p.strumento);
        celle[col_p::fonte].push_str(p.fonte);
        celle[col_p::atto].push_str(p.atto);
        let _ = write!(celle[col_p::data_atto], "{}", p.data().format("%Y-%m-%d"));
        euro(&mut celle[col_p::importo_programma], p.importo);
        w.riga(&celle)?;
    }
    w.finisci()?;
    w.chiudi()?;
    Ok(PROGRAMMI.len() as u64)
}

/// What to generate for `contabilita`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpzioniContabilita {
    pub interventi: u64,
    pub seme: u64,
    /// The declaring entity (as for `patrimonio`: its Comuni are where the works are).
    pub ente: String,
    /// The entity's buildings are `FAB000001` … `FAB{fabbricati}` (the codes the `patrimonio`
    /// generator gives); `0`: no `interventi_fabbricati` rows.
    pub fabbricati: u64,
    /// The reference day: dates are counted back from it, none is after it but planned ends.
    pub oggi: NaiveDate,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiepilogoContabilita {
    pub interventi: u64,
    pub sal: u64,
    pub erogazioni: u64,
    pub pagamenti: u64,
    pub fabbricati: u64,
}

const STATI: &[(&str, u32)] = &[
    ("COLLAUDATO", 30),
    ("ULTIMATO", 14),
    ("LAVORI_IN_CORSO", 26),
    ("SOSPESO", 4),
    ("AGGIUDICATO", 7),
    ("IN_PROGETTAZIONE", 8),
    ("PROGRAMMATO", 6),
    ("REVOCATO", 5),
];

const TIPI: &[(&str, u32)] = &[
    ("RECUPERO", 26),
    ("MANUTENZIONE_STRAORDINARIA", 24),
    ("NUOVA_COSTRUZIONE", 16),
    ("EFFICIENTAMENTO_ENERGETICO", 18),
    ("DEMOLIZIONE_RICOSTRUZIONE", 6),
    ("ACQUISTO", 4),
    ("URBANIZZAZIONE", 6),
];

const COGNOMI_IMPRESA: &[&str] = &[
    "De Santis",
    "Lorusso",
    "Colucci",
    "Mastrangelo",
    "Pellegrino",
    "Loiacono",
    "D'Amato",
    "Schiavone",
    "Palumbo",
    "Caputo",
    "Morea",
    "Sasso",
];
const FORME_IMPRESA: &[&str] = &[
    "{} Costruzioni S.r.l.",
    "Edil {} S.p.A.",
    "Impresa {} & C. S.a.s.",
    "{} Appalti S.r.l.",
    "Consorzio Stabile {} S.c.a r.l.",
];
const VIE: &[&str] = &[
    "via Giuseppe Di Vittorio",
    "via Aldo Moro",
    "viale della Repubblica",
    "via Papa Giovanni XXIII",
    "quartiere San Paolo",
    "rione Carmine",
    "via Martiri di via Fani",
    "via delle Rose",
    "comparto 167",
    "via Enrico Berlinguer",
];

fn giorni(d: NaiveDate, n: i64) -> NaiveDate {
    d + Duration::days(n)
}

/// A payment: (mandate, date, amount, beneficiary, VAT number, reason, SAL number).
type Pagamento = (
    String,
    NaiveDate,
    i64,
    String,
    String,
    &'static str,
    Option<usize>,
);

/// One intervention, planned from its sub-seed.
#[derive(Clone, Debug)]
struct PianoIntervento {
    cup: String,
    programma: &'static Programma,
    comune: usize,
    titolo: String,
    tipo: &'static str,
    alloggi_previsti: i64,
    alloggi_realizzati: Option<i64>,
    finanziato: i64,
    cofinanziamento: Option<i64>,
    stato: &'static str,
    impresa: Option<(String, String)>,
    cig: Option<String>,
    ribasso: Option<i64>,
    aggiudicazione: Option<NaiveDate>,
    inizio: Option<NaiveDate>,
    fine_prevista: Option<NaiveDate>,
    fine_effettiva: Option<NaiveDate>,
    collaudo: Option<NaiveDate>,
    /// (date, amount, cumulative, percentage in hundredths)
    sal: Vec<(NaiveDate, i64, i64, i64)>,
    /// (date, amount, type, act)
    erogazioni: Vec<(NaiveDate, i64, &'static str, String)>,
    pagamenti: Vec<Pagamento>,
    fabbricati: Vec<u64>,
}

struct GeneratoreContabilita {
    territorio: Territorio,
    o: OpzioniContabilita,
    /// Three digits of the CUP from the entity, so two entities' CUP differ.
    tag: u64,
}

fn impresa(r: &mut Prng) -> (String, String) {
    let forma = r.elemento(FORME_IMPRESA);
    let cognome = *r.elemento::<&str>(COGNOMI_IMPRESA);
    (forma.replace("{}", cognome), cf_giuridica(r))
}

impl GeneratoreContabilita {
    fn piano(&self, i: u64) -> PianoIntervento {
        let mut r = Prng::new(mescola(self.o.seme, 0xAC_0000_0000 + i));
        let oggi = self.o.oggi;
        let stato = r.pesato(STATI);
        let tipo = r.pesato(TIPI);
        let comune = self.territorio.scegli(&mut r);
        let alloggi_previsti = match tipo {
            "URBANIZZAZIONE" => 0,
            "ACQUISTO" => r.tra(2, 12),
            _ => r.tra(6, 48),
        };
        let per_alloggio = match tipo {
            "NUOVA_COSTRUZIONE" | "DEMOLIZIONE_RICOSTRUZIONE" => r.tra(95_000, 165_000),
            "ACQUISTO" => r.tra(90_000, 140_000),
            "RECUPERO" => r.tra(40_000, 95_000),
            "EFFICIENTAMENTO_ENERGETICO" => r.tra(15_000, 38_000),
            _ => r.tra(9_000, 42_000),
        };
        let finanziato = if alloggi_previsti == 0 {
            r.tra(300_000, 2_400_000) * 100
        } else {
            // Whole hundreds of euro, as programmes allot them, with some odd cents.
            let e = alloggi_previsti * per_alloggio / 100 * 100;
            e * 100 + if r.prob(0.2) { r.tra(1, 99) } else { 0 }
        };
        let cofinanziamento = if r.prob(0.45) {
            Some(finanziato / 100 * r.tra(5, 30) / 100 * 100)
        } else {
            None
        };
        let totale = finanziato + cofinanziamento.unwrap_or(0);

        // Dates, counted back from the reference day.
        let mut p = PianoIntervento {
            cup: String::new(),
            programma: &PROGRAMMI[0],
            comune,
            titolo: String::new(),
            tipo,
            alloggi_previsti,
            alloggi_realizzati: None,
            finanziato,
            cofinanziamento,
            stato,
            impresa: None,
            cig: None,
            ribasso: None,
            aggiudicazione: None,
            inizio: None,
            fine_prevista: None,
            fine_effettiva: None,
            collaudo: None,
            sal: vec![],
            erogazioni: vec![],
            pagamenti: vec![],
            fabbricati: vec![],
        };
        let durata_prevista = r.tra(420, 1_100);
        let riferimento = match stato {
            "COLLAUDATO" | "ULTIMATO" => {
                let fine = if stato == "COLLAUDATO" {
                    // Tested 2–12 months after the end, any time in the last 20 years.
                    let collaudo = giorni(oggi, -r.tra(30, 7_300));
                    p.collaudo = Some(collaudo);
                    giorni(collaudo, -r.tra(60, 360))
                } else {
                    giorni(oggi, -r.tra(15, 900))
                };
                // Most works end late: 90–160 % of the planned time.
                let effettiva = durata_prevista * r.tra(90, 160) / 100;
                let inizio = giorni(fine, -effettiva);
                p.fine_effettiva = Some(fine);
                p.inizio = Some(inizio);
                p.fine_prevista = Some(giorni(inizio, durata_prevista));
                p.aggiudicazione = Some(giorni(inizio, -r.tra(20, 180)));
                p.aggiudicazione
            }
            "LAVORI_IN_CORSO" | "SOSPESO" => {
                let inizio = giorni(oggi, -r.tra(120, 2_400));
                p.inizio = Some(inizio);
                p.fine_prevista = Some(giorni(inizio, durata_prevista));
                p.aggiudicazione = Some(giorni(inizio, -r.tra(20, 180)));
                p.aggiudicazione
            }
            "AGGIUDICATO" => {
                p.aggiudicazione = Some(giorni(oggi, -r.tra(10, 420)));
                p.aggiudicazione
            }
            _ => Some(giorni(oggi, -r.tra(90, 2_500))),
        }
        .unwrap_or(oggi);
        // A programme approved at least four months before.
        let idonei: Vec<&'static Programma> = PROGRAMMI
            .iter()
            .filter(|p| p.data() <= giorni(riferimento, -120))
            .collect();
        p.programma = if idonei.is_empty() {
            &PROGRAMMI[0]
        } else {
            // Recent programmes are likelier for recent works.
            let k = idonei.len();
            idonei[k - 1 - (r.sotto(k as u64).min(r.sotto(k as u64))) as usize]
        };
        let anno = p
            .aggiudicazione
            .unwrap_or(riferimento)
            .year()
            .rem_euclid(100);
        let _ = write!(
            p.cup,
            "{}{:02}{}{:02}{:03}{:06}",
            r.elemento(&['B', 'C', 'D', 'E', 'F', 'G', 'H', 'J']),
            r.tra(11, 99),
            r.elemento(&['B', 'D', 'E', 'H', 'J']),
            anno,
            self.tag,
            i % 1_000_000
        );
        let via = r.elemento(VIE);
        p.titolo = match tipo {
            "NUOVA_COSTRUZIONE" => {
                format!("Costruzione di {alloggi_previsti} alloggi ERP in {via}")
            }
            "RECUPERO" => format!("Recupero edilizio di {alloggi_previsti} alloggi in {via}"),
            "MANUTENZIONE_STRAORDINARIA" => {
                format!("Manutenzione straordinaria di {alloggi_previsti} alloggi in {via}")
            }
            "EFFICIENTAMENTO_ENERGETICO" => format!(
                "Efficientamento energetico di {alloggi_previsti} alloggi in {via}: cappotto, infissi e impianti"
            ),
            "DEMOLIZIONE_RICOSTRUZIONE" => {
                format!("Demolizione e ricostruzione di {alloggi_previsti} alloggi in {via}")
            }
            "ACQUISTO" => format!("Acquisto di {alloggi_previsti} alloggi da destinare a ERP"),
            _ => format!("Opere di urbanizzazione primaria in {via}"),
        };
        if p.aggiudicazione.is_some() {
            let (nome, piva) = impresa(&mut r);
            p.impresa = Some((nome, piva));
            let mut cig = String::new();
            for _ in 0..10 {
                let c = r.sotto(36) as u8;
                cig.push(char::from(if c < 10 { b'0' + c } else { b'A' + c - 10 }));
            }
            p.cig = Some(cig);
            p.ribasso = Some(r.tra(300, 3_200));
        }

        // SAL: from the start to the end (finished), or to the last one (in progress; over a
        // year ago for a stalled site).
        if let Some(inizio) = p.inizio {
            let finito = p.fine_effettiva.is_some();
            let ultimo = if let Some(f) = p.fine_effettiva {
                Some(f)
            } else {
                let da_inizio = (oggi - inizio).num_days();
                let fermo = stato == "LAVORI_IN_CORSO" && da_inizio > 500 && r.prob(0.3);
                let indietro = if fermo {
                    r.tra(380, (da_inizio - 60).min(1_000))
                } else {
                    r.tra(5, (da_inizio - 60).clamp(6, 330))
                };
                (da_inizio - indietro >= 60).then(|| giorni(oggi, -indietro))
            };
            if let Some(ultimo) = ultimo {
                let arco = (ultimo - inizio).num_days().max(1);
                let n = (1 + arco / 150).clamp(1, 9);
                let finale = if finito { 10_000 } else { r.tra(1_200, 9_000) };
                let lavori = totale * 85 / 100;
                let mut prec = 0i64;
                for k in 1..=n {
                    let data = if k == n {
                        ultimo
                    } else {
                        giorni(inizio, arco * k / n - r.tra(0, 20).min(arco / n / 2))
                    };
                    let perc = finale * k / n;
                    let cumulato = lavori * perc / 10_000;
                    p.sal.push((data, cumulato - prec, cumulato, perc));
                    prec = cumulato;
                }
            }
        }

        // Disbursements: an advance after the award, a payment on account after some SAL,
        // the balance after the end; never more than the funding.
        if let Some(aggiudicazione) = p.aggiudicazione
            && stato != "REVOCATO"
        {
            let mut somma = 0i64;
            let mut n_atto = r.tra(10, 400);
            let mut eroga =
                |p: &mut PianoIntervento, data: NaiveDate, importo: i64, tipo: &'static str| {
                    let importo = importo.min(finanziato - somma);
                    if importo <= 0 {
                        return;
                    }
                    somma += importo;
                    n_atto += 1 + (n_atto % 7);
                    let data = data.min(oggi);
                    let atto = format!("DD {}/{}", n_atto % 2_000, data.year());
                    p.erogazioni.push((data, importo, tipo, atto));
                };
            if r.prob(0.85) {
                eroga(
                    &mut p,
                    giorni(aggiudicazione, r.tra(20, 90)),
                    finanziato / 5,
                    "ANTICIPAZIONE",
                );
            }
            let mut perc_prec = 0;
            let sal = p.sal.clone();
            for (data, _, _, perc) in &sal {
                if r.prob(0.6) {
                    let quota = finanziato / 10_000 * (perc - perc_prec) * 3 / 4;
                    eroga(&mut p, giorni(*data, r.tra(20, 90)), quota, "ACCONTO");
                    perc_prec = *perc;
                }
            }
            if stato == "COLLAUDATO" || (stato == "ULTIMATO" && r.prob(0.4)) {
                let dopo = p.collaudo.or(p.fine_effettiva).unwrap_or(oggi);
                let ultima = p.erogazioni.last().map_or(dopo, |e| e.0).max(dopo);
                // The rest of the funding (the closure caps every amount at it).
                eroga(&mut p, giorni(ultima, r.tra(30, 150)), finanziato, "SALDO");
            }
        }

        // Payments: the works of each SAL to the contractor, technical fees to a firm.
        if let (Some((impresa, piva)), Some(aggiudicazione)) = (p.impresa.clone(), p.aggiudicazione)
        {
            let mut n = 0;
            let mut mandato = |data: NaiveDate| {
                n += 1;
                format!("{}/{:05}", data.year(), 100 + n * 37)
            };
            let (tecnico, piva_t) = (
                format!("Studio tecnico associato {}", r.elemento(COGNOMI_IMPRESA)),
                cf_giuridica(&mut r),
            );
            let data = giorni(aggiudicazione, r.tra(10, 60)).min(oggi);
            p.pagamenti.push((
                mandato(data),
                data,
                totale / 10_000 * r.tra(250, 450),
                tecnico.clone(),
                piva_t.clone(),
                "SPESE_TECNICHE",
                None,
            ));
            let sal = p.sal.clone();
            for (k, (data, importo, _, _)) in sal.iter().enumerate() {
                let importo = importo / 100 * r.tra(95, 100);
                if importo <= 0 || r.prob(0.1) {
                    continue;
                }
                let data = giorni(*data, r.tra(10, 60)).min(oggi);
                p.pagamenti.push((
                    mandato(data),
                    data,
                    importo,
                    impresa.clone(),
                    piva.clone(),
                    "LAVORI",
                    Some(k + 1),
                ));
            }
            if p.fine_effettiva.is_some() {
                let data = giorni(
                    p.collaudo.or(p.fine_effettiva).unwrap_or(oggi),
                    r.tra(10, 60),
                )
                .min(oggi);
                p.pagamenti.push((
                    mandato(data),
                    data,
                    totale / 10_000 * r.tra(150, 300),
                    tecnico,
                    piva_t,
                    "SPESE_TECNICHE",
                    None,
                ));
            }
        }

        if p.fine_effettiva.is_some() {
            p.alloggi_realizzati = Some(if r.prob(0.9) {
                alloggi_previsti
            } else {
                alloggi_previsti * 9 / 10
            });
        }
        // The buildings concerned: existing ones for works on them; a new building only once
        // it is finished (it is in the register from then on).
        let nuovo = matches!(tipo, "NUOVA_COSTRUZIONE" | "DEMOLIZIONE_RICOSTRUZIONE");
        if self.o.fabbricati > 0
            && tipo != "URBANIZZAZIONE"
            && (!nuovo || p.fine_effettiva.is_some())
        {
            let quanti = r.tra(1, 3).min(self.o.fabbricati as i64) as usize;
            while p.fabbricati.len() < quanti {
                let f = 1 + r.sotto(self.o.fabbricati);
                if !p.fabbricati.contains(&f) {
                    p.fabbricati.push(f);
                }
            }
        }
        p
    }

    fn scrivi(&self, mut w: impl Scrittore) -> io::Result<RiepilogoContabilita> {
        let [ti, ts, te, tm, tf] = tabelle();
        let mut riep = RiepilogoContabilita::default();
        let mut celle: Vec<String> = Vec::new();
        let data = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        let pulisci = |celle: &mut Vec<String>, n: usize| {
            celle.resize(n, String::new());
            celle.iter_mut().for_each(String::clear);
        };
        let perc = |s: &mut String, h: i64| {
            if h % 100 == 0 {
                let _ = write!(s, "{}", h / 100);
            } else {
                let _ = write!(s, "{}.{:02}", h / 100, h % 100);
            }
        };

        w.inizia(ti.0)?;
        for i in 0..self.o.interventi {
            let p = self.piano(i);
            pulisci(&mut celle, ti.1.len());
            let c = &mut celle;
            c[col_i::cup].push_str(&p.cup);
            c[col_i::codice_programma].push_str(p.programma.codice);
            c[col_i::titolo].push_str(&p.titolo);
            c[col_i::comune_istat].push_str(&self.territorio.comuni[p.comune].istat);
            c[col_i::tipo_intervento].push_str(p.tipo);
            let _ = write!(c[col_i::alloggi_previsti], "{}", p.alloggi_previsti);
            if let Some(a) = p.alloggi_realizzati {
                let _ = write!(c[col_i::alloggi_realizzati], "{a}");
            }
            euro(&mut c[col_i::importo_finanziato], p.finanziato);
            if let Some(x) = p.cofinanziamento {
                euro(&mut c[col_i::importo_cofinanziamento], x);
            }
            euro(
                &mut c[col_i::importo_totale],
                p.finanziato + p.cofinanziamento.unwrap_or(0),
            );
            c[col_i::stato].push_str(p.stato);
            if let Some(x) = &p.cig {
                c[col_i::cig].push_str(x);
            }
            if let Some((nome, piva)) = &p.impresa {
                c[col_i::impresa_esecutrice].push_str(nome);
                c[col_i::piva_impresa].push_str(piva);
            }
            if let Some(x) = p.ribasso {
                perc(&mut c[col_i::ribasso_percentuale], x);
            }
            for (col, d) in [
                (col_i::data_aggiudicazione, p.aggiudicazione),
                (col_i::data_inizio_lavori, p.inizio),
                (col_i::data_fine_prevista, p.fine_prevista),
                (col_i::data_fine_effettiva, p.fine_effettiva),
                (col_i::data_collaudo, p.collaudo),
            ] {
                if let Some(s) = data(d) {
                    c[col].push_str(&s);
                }
            }
            w.riga(&celle)?;
            riep.interventi += 1;
        }
        w.finisci()?;

        w.inizia(ts.0)?;
        for i in 0..self.o.interventi {
            let p = self.piano(i);
            for (k, (d, importo, cumulato, pc)) in p.sal.iter().enumerate() {
                pulisci(&mut celle, ts.1.len());
                celle[col_s::cup].push_str(&p.cup);
                let _ = write!(celle[col_s::numero_sal], "{}", k + 1);
                let _ = write!(celle[col_s::data_sal], "{}", d.format("%Y-%m-%d"));
                euro(&mut celle[col_s::importo_sal], *importo);
                euro(&mut celle[col_s::importo_cumulato], *cumulato);
                perc(&mut celle[col_s::percentuale_avanzamento], *pc);
                w.riga(&celle)?;
                riep.sal += 1;
            }
        }
        w.finisci()?;

        w.inizia(te.0)?;
        for i in 0..self.o.interventi {
            let p = self.piano(i);
            for (d, importo, tipo, atto) in &p.erogazioni {
                pulisci(&mut celle, te.1.len());
                celle[col_e::cup].push_str(&p.cup);
                let _ = write!(celle[col_e::data_erogazione], "{}", d.format("%Y-%m-%d"));
                euro(&mut celle[col_e::importo], *importo);
                celle[col_e::tipo].push_str(tipo);
                celle[col_e::atto].push_str(atto);
                w.riga(&celle)?;
                riep.erogazioni += 1;
            }
        }
        w.finisci()?;

        w.inizia(tm.0)?;
        for i in 0..self.o.interventi {
            let p = self.piano(i);
            for (n, d, importo, benef, piva, causale, sal) in &p.pagamenti {
                pulisci(&mut celle, tm.1.len());
                celle[col_m::cup].push_str(&p.cup);
                celle[col_m::numero_mandato].push_str(n);
                let _ = write!(celle[col_m::data_mandato], "{}", d.format("%Y-%m-%d"));
                euro(&mut celle[col_m::importo], *importo);
                celle[col_m::beneficiario].push_str(benef);
                celle[col_m::piva_beneficiario].push_str(piva);
                celle[col_m::causale].push_str(causale);
                if let Some(s) = sal {
                    let _ = write!(celle[col_m::numero_sal], "{s}");
                }
                w.riga(&celle)?;
                riep.pagamenti += 1;
            }
        }
        w.finisci()?;

        w.inizia(tf.0)?;
        for i in 0..self.o.interventi {
            let p = self.piano(i);
            for f in &p.fabbricati {
                pulisci(&mut celle, tf.1.len());
                celle[col_f::cup].push_str(&p.cup);
                let _ = write!(celle[col_f::codice_fabbricato], "FAB{f:06}");
                w.riga(&celle)?;
                riep.fabbricati += 1;
            }
        }
        w.finisci()?;
        w.chiudi()?;
        Ok(riep)
    }
}

/// Writes a `contabilita` flow of `o.interventi` interventions to `output`.
/// Errors: an unknown entity, too many rows for XLSX (`InvalidInput`), or a write failure.
pub fn genera_contabilita(
    o: &OpzioniContabilita,
    formato: FormatoGenerato,
    output: &Path,
) -> io::Result<RiepilogoContabilita> {
    verifica_colonne()?;
    // Each intervention has at most ~12 payments: the largest sheet stays under the limit.
    if formato == FormatoGenerato::Xlsx && o.interventi * 12 > MAX_RIGHE_XLSX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "un foglio XLSX contiene al massimo {MAX_RIGHE_XLSX} righe: per {} interventi usare un file .zip",
                o.interventi
            ),
        ));
    }
    let territorio = Territorio::per_ente(&o.ente)?;
    let tag = o
        .ente
        .trim()
        .to_ascii_uppercase()
        .bytes()
        .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1_000;
    let g = GeneratoreContabilita {
        territorio,
        o: o.clone(),
        tag,
    };
    match formato {
        FormatoGenerato::ZipCsv => g.scrivi(ScrittoreZip::new(output)?),
        FormatoGenerato::CartellaCsv => g.scrivi(ScrittoreCartella::new(output)?),
        FormatoGenerato::Xlsx => g.scrivi(ScrittoreXlsx::new(output, "contabilità")),
    }
}

#[cfg(test)]
mod test {
    use std::collections::HashSet;

    use super::*;
    use crate::lettori::dati::Dati;
    use crate::{Dichiarante, Opzioni, valida_file};

    fn oggi() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn opz(interventi: u64, ente: &str) -> OpzioniContabilita {
        OpzioniContabilita {
            interventi,
            seme: 9,
            ente: ente.into(),
            fabbricati: 150,
            oggi: oggi(),
        }
    }

    fn valida(p: &Path, ente: &str, fabbricati: u64) -> crate::Report {
        let mut o = Opzioni::new(oggi());
        o.dichiarante = Dichiarante::da_codice(ente);
        o.riferimenti.programmi = Some(PROGRAMMI.iter().map(|p| p.codice.to_string()).collect());
        o.riferimenti.fabbricati = Some(
            (1..=fabbricati)
                .map(|f| format!("FAB{f:06}"))
                .collect::<HashSet<_>>(),
        );
        let nome = p.file_name().unwrap().to_string_lossy().to_string();
        valida_file(
            &nome,
            Dati::File(p.into()),
            contabilita::dominio(),
            &o,
            None,
        )
    }

    fn assert_pulito(r: &crate::Report) {
        assert!(
            r.valido && r.errori == 0 && r.avvisi == 0,
            "errori {} avvisi {} conteggi {:?} prime segnalazioni {:#?}",
            r.errori,
            r.avvisi,
            r.conteggi,
            r.segnalazioni.iter().take(8).collect::<Vec<_>>()
        );
    }

    #[test]
    fn colonne_nell_ordine_della_specifica() {
        verifica_colonne().unwrap();
    }

    #[test]
    fn programmi_validi() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("programmi.zip");
        assert_eq!(
            genera_programmi(FormatoGenerato::ZipCsv, &p).unwrap(),
            PROGRAMMI.len() as u64
        );
        let mut o = Opzioni::new(oggi());
        o.dichiarante = Dichiarante::da_codice("REGIONE");
        let r = valida_file(
            "programmi.zip",
            Dati::File(p),
            programmi::dominio(),
            &o,
            None,
        );
        assert_pulito(&r);
        // Every instrument of the spec but ALTRO-like duplicates appears at least once.
        let strumenti: HashSet<&str> = PROGRAMMI.iter().map(|p| p.strumento).collect();
        assert!(strumenti.len() >= 9, "{strumenti:?}");
    }

    #[test]
    fn contabilita_valida_senza_avvisi_con_stati_misti() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("contabilita.zip");
        let riep = genera_contabilita(&opz(3_000, "ARCA-PC"), FormatoGenerato::ZipCsv, &p).unwrap();
        assert_eq!(riep.interventi, 3_000);
        assert!(riep.sal > 3_000 && riep.pagamenti > 3_000 && riep.erogazioni > 2_000);
        assert!(riep.fabbricati > 1_500, "{riep:?}");
        assert_pulito(&valida(&p, "ARCA-PC", 150));

        // The mix: every state, late and stalled sites among those in progress.
        let g = GeneratoreContabilita {
            territorio: Territorio::per_ente("ARCA-PC").unwrap(),
            o: opz(3_000, "ARCA-PC"),
            tag: 1,
        };
        let piani: Vec<PianoIntervento> = (0..3_000).map(|i| g.piano(i)).collect();
        for (s, _) in STATI {
            assert!(piani.iter().any(|p| p.stato == *s), "{s}");
        }
        let in_corso: Vec<&PianoIntervento> = piani
            .iter()
            .filter(|p| p.stato == "LAVORI_IN_CORSO")
            .collect();
        let fermi = in_corso
            .iter()
            .filter(|p| {
                let ultimo = p.sal.last().map(|s| s.0).or(p.inizio).unwrap();
                (oggi() - ultimo).num_days() > 365
            })
            .count();
        let in_ritardo = in_corso
            .iter()
            .filter(|p| p.fine_prevista.unwrap() < oggi())
            .count();
        assert!(fermi * 10 > in_corso.len(), "{fermi} di {}", in_corso.len());
        assert!(fermi * 2 < in_corso.len(), "{fermi} di {}", in_corso.len());
        assert!(in_ritardo > fermi && in_ritardo < in_corso.len());
    }

    #[test]
    fn un_comune_e_xlsx() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("andria.xlsx");
        genera_contabilita(&opz(300, "110001"), FormatoGenerato::Xlsx, &p).unwrap();
        assert_pulito(&valida(&p, "110001", 150));
        // Without buildings, no links (and still clean against an empty register).
        let p = dir.path().join("senza.zip");
        let mut o = opz(200, "110001");
        o.fabbricati = 0;
        let riep = genera_contabilita(&o, FormatoGenerato::ZipCsv, &p).unwrap();
        assert_eq!(riep.fabbricati, 0);
        assert_pulito(&valida(&p, "110001", 0));
    }

    #[test]
    fn stesso_seme_stessi_byte_e_cup_diversi_tra_enti() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        genera_contabilita(&opz(400, "ARCA-PC"), FormatoGenerato::ZipCsv, &a).unwrap();
        genera_contabilita(&opz(400, "ARCA-PC"), FormatoGenerato::ZipCsv, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let cup = |ente: &str| -> HashSet<String> {
            let g = GeneratoreContabilita {
                territorio: Territorio::per_ente(ente).unwrap(),
                o: opz(400, ente),
                tag: 0,
            };
            let t = |e: &str| {
                e.bytes()
                    .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                    % 1_000
            };
            let g = GeneratoreContabilita { tag: t(ente), ..g };
            (0..400).map(|i| g.piano(i).cup[6..].to_string()).collect()
        };
        assert!(cup("ARCA-PC").is_disjoint(&cup("ARCA-JON")));
    }
}
