//! Rules of the `contabilita` flow (`flusso-contabilita.md`, "Checks across rows and tables").
//! Money in cents; comparisons tolerate 1 cent. "In order" = by date, then by file position.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use super::{Contesto, Regole};
use crate::motore::Riga;
use crate::spec::Gravita::{Avviso, Errore};
use crate::valori::Valore;

const TOLLERANZA: i64 = 1;

struct Intervento {
    stato: Option<String>,
    finanziato: Option<i64>,
    totale: Option<i64>,
    inizio: Option<NaiveDate>,
}

struct Sal {
    riga: u64,
    numero: i64,
    data: Option<NaiveDate>,
    importo: Option<i64>,
    cumulato: Option<i64>,
    cumulato_letto: Option<String>,
    percentuale: Option<f64>,
    percentuale_letta: Option<String>,
    data_letta: Option<String>,
    numero_letto: Option<String>,
}

struct Movimento {
    riga: u64,
    data: NaiveDate,
    importo: i64,
    letto: Option<String>,
    saldo: bool,
    data_letta: Option<String>,
    tipo_letto: Option<String>,
}

#[derive(Default)]
pub struct Contabilita {
    interventi: HashMap<String, Intervento>,
    sal: BTreeMap<String, Vec<Sal>>,
    sal_chiavi: HashSet<(String, i64)>,
    erogazioni: BTreeMap<String, Vec<Movimento>>,
    pagamenti: BTreeMap<String, Vec<Movimento>>,
}

fn euro(c: i64) -> String {
    format!("{},{:02} €", c / 100, (c % 100).abs())
}

const CON_AGGIUDICAZIONE: &[&str] = &[
    "AGGIUDICATO",
    "LAVORI_IN_CORSO",
    "SOSPESO",
    "ULTIMATO",
    "COLLAUDATO",
];
const CON_INIZIO: &[&str] = &["LAVORI_IN_CORSO", "SOSPESO", "ULTIMATO", "COLLAUDATO"];
const CON_FINE: &[&str] = &["ULTIMATO", "COLLAUDATO"];

impl Regole for Contabilita {
    fn riga(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        match r.tabella.nome {
            "interventi" => self.intervento(cx, ti, r),
            "sal" => self.sal(cx, ti, r),
            "erogazioni" => self.movimento(cx, ti, r, true),
            "pagamenti" => self.pagamento(cx, ti, r),
            "interventi_fabbricati" => {
                if let (Some(f), Some(noti)) = (
                    r.testo("codice_fabbricato"),
                    cx.opzioni.riferimenti.fabbricati.as_ref(),
                ) && !noti.contains(f)
                {
                    cx.su(
                        ti,
                        r,
                        "codice_fabbricato",
                        "fabbricato_sconosciuto",
                        Avviso,
                        format!("Il fabbricato «{f}» non è nel patrimonio dell'ente."),
                    );
                }
            }
            _ => {}
        }
    }

    fn fine(&mut self, cx: &mut Contesto<'_>) {
        if cx.opzioni.riferimenti.programmi.is_none() {
            cx.non_eseguito("codice_programma", "Il controllo dei programmi (programma_sconosciuto) non è stato eseguito: indichi il file dei programmi con --programmi.".into());
        }
        if cx.opzioni.riferimenti.fabbricati.is_none() {
            cx.non_eseguito("codice_fabbricato", "Il controllo dei fabbricati (fabbricato_sconosciuto) non è stato eseguito: indichi il flusso del patrimonio con --patrimonio.".into());
        }
        self.fine_sal(cx);
        self.fine_erogazioni(cx);
        self.fine_pagamenti(cx);
    }
}

impl Contabilita {
    fn intervento(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        let stato = r.testo("stato").map(str::to_string);
        if let Some(s) = stato.as_deref() {
            let richiesti: &[(&str, &[&str])] = &[
                ("data_aggiudicazione", CON_AGGIUDICAZIONE),
                ("data_inizio_lavori", CON_INIZIO),
                ("data_fine_effettiva", CON_FINE),
                ("data_collaudo", &["COLLAUDATO"]),
            ];
            for (campo, stati) in richiesti {
                if stati.contains(&s) && r.letto(campo).is_none() {
                    cx.su(
                        ti,
                        r,
                        campo,
                        "obbligatorio_condizionato",
                        Errore,
                        format!("Per un intervento nello stato {s} serve il campo {campo}."),
                    );
                }
            }
        }
        if r.letto("data_inizio_lavori").is_some() && r.letto("data_fine_prevista").is_none() {
            cx.su(
                ti,
                r,
                "data_fine_prevista",
                "obbligatorio_condizionato",
                Errore,
                "Se è indicata la data di inizio lavori serve anche la data di fine prevista."
                    .into(),
            );
        }
        let c = |n: &str| r.v(n).and_then(Valore::centesimi);
        if let (Some(fin), Some(tot)) = (c("importo_finanziato"), c("importo_totale"))
            && r.utilizzabile("importo_cofinanziamento")
        {
            let cof = c("importo_cofinanziamento").unwrap_or(0);
            if (fin + cof - tot).abs() > TOLLERANZA {
                cx.su(ti, r, "importo_totale", "somma_incoerente", Errore, format!("L'importo totale ({}) non è la somma di finanziamento ({}) e cofinanziamento ({}).", euro(tot), euro(fin), euro(cof)));
            }
        }
        let d = |n: &str| r.v(n).and_then(Valore::data);
        let coppie = [
            (
                "data_aggiudicazione",
                "data_inizio_lavori",
                "l'aggiudicazione è successiva all'inizio dei lavori",
            ),
            (
                "data_inizio_lavori",
                "data_fine_prevista",
                "la fine prevista è precedente all'inizio dei lavori",
            ),
            (
                "data_inizio_lavori",
                "data_fine_effettiva",
                "la fine effettiva è precedente all'inizio dei lavori",
            ),
            (
                "data_fine_effettiva",
                "data_collaudo",
                "il collaudo è precedente alla fine effettiva dei lavori",
            ),
        ];
        for (prima, dopo, frase) in coppie {
            if let (Some(a), Some(b)) = (d(prima), d(dopo))
                && a > b
            {
                // Reported on the later field of the pair.
                cx.su(
                    ti,
                    r,
                    dopo,
                    "data_incoerente",
                    Errore,
                    format!(
                        "Le date non sono coerenti: {frase} ({prima} {}, {dopo} {}).",
                        a.format("%d/%m/%Y"),
                        b.format("%d/%m/%Y")
                    ),
                );
            }
        }
        if let (Some(real), Some(prev)) = (
            r.v("alloggi_realizzati").and_then(Valore::intero),
            r.v("alloggi_previsti").and_then(Valore::intero),
        ) && real > prev
        {
            cx.su(
                ti,
                r,
                "alloggi_realizzati",
                "incoerente",
                Avviso,
                format!("Gli alloggi realizzati ({real}) superano quelli previsti ({prev})."),
            );
        }
        if let (Some(p), Some(noti)) = (
            r.testo("codice_programma"),
            cx.opzioni.riferimenti.programmi.as_ref(),
        ) && !noti.contains(p)
        {
            cx.su(
                ti,
                r,
                "codice_programma",
                "programma_sconosciuto",
                Errore,
                format!("Il programma «{p}» non è tra i programmi di finanziamento della Regione."),
            );
        }
        if let Some(co) = r.testo("comune_istat")
            && let Some(m) = cx.fuori_territorio(co)
        {
            cx.su(
                ti,
                r,
                "comune_istat",
                "fuori_territorio",
                Avviso,
                format!("L'intervento è fuori dal territorio dell'ente: {m}."),
            );
        }
        if let Some(cup) = r.testo("cup") {
            self.interventi
                .entry(cup.to_string())
                .or_insert(Intervento {
                    stato,
                    finanziato: c("importo_finanziato"),
                    totale: c("importo_totale"),
                    inizio: d("data_inizio_lavori"),
                });
        }
    }

    fn sal(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        let Some(cup) = r.testo("cup") else { return };
        if let Some(i) = self.interventi.get(cup) {
            if let Some(s) = i.stato.as_deref()
                && (s == "PROGRAMMATO" || s == "IN_PROGETTAZIONE")
            {
                cx.su(
                    ti,
                    r,
                    "cup",
                    "incoerente",
                    Errore,
                    format!("Un SAL non è possibile per un intervento nello stato {s}."),
                );
            }
            if let (Some(inizio), Some(data)) = (i.inizio, r.v("data_sal").and_then(Valore::data))
                && data < inizio
            {
                cx.su(
                    ti,
                    r,
                    "data_sal",
                    "data_incoerente",
                    Errore,
                    format!(
                        "Il SAL è datato {} ma i lavori sono iniziati il {}.",
                        data.format("%d/%m/%Y"),
                        inizio.format("%d/%m/%Y")
                    ),
                );
            }
        }
        let Some(numero) = r.v("numero_sal").and_then(Valore::intero) else {
            return;
        };
        self.sal_chiavi.insert((cup.to_string(), numero));
        self.sal.entry(cup.to_string()).or_default().push(Sal {
            riga: r.numero,
            numero,
            data: r.v("data_sal").and_then(Valore::data),
            data_letta: r.letto("data_sal").map(str::to_string),
            numero_letto: r.letto("numero_sal").map(str::to_string),
            importo: if r.utilizzabile("importo_sal") {
                r.v("importo_sal").and_then(Valore::centesimi)
            } else {
                None
            },
            cumulato: r.v("importo_cumulato").and_then(Valore::centesimi),
            cumulato_letto: r.letto("importo_cumulato").map(str::to_string),
            percentuale: r.v("percentuale_avanzamento").and_then(Valore::numero),
            percentuale_letta: r.letto("percentuale_avanzamento").map(str::to_string),
        });
    }

    fn pagamento(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        if let (Some(cup), Some(n)) = (r.testo("cup"), r.v("numero_sal").and_then(Valore::intero))
            && !self.sal_chiavi.contains(&(cup.to_string(), n))
        {
            cx.su(
                ti,
                r,
                "numero_sal",
                "riferimento_mancante",
                Errore,
                format!(
                    "Il pagamento rimanda al SAL n. {n} del CUP {cup}, che non è nella tabella sal."
                ),
            );
        }
        self.movimento(cx, ti, r, false);
    }

    fn movimento(&mut self, _cx: &mut Contesto<'_>, _ti: usize, r: &Riga<'_>, erogazione: bool) {
        let campo_data = if erogazione {
            "data_erogazione"
        } else {
            "data_mandato"
        };
        let (Some(cup), Some(data), Some(importo)) = (
            r.testo("cup"),
            r.v(campo_data).and_then(Valore::data),
            r.v("importo").and_then(Valore::centesimi),
        ) else {
            return;
        };
        let m = Movimento {
            riga: r.numero,
            data,
            importo,
            letto: r.letto("importo").map(str::to_string),
            saldo: erogazione && r.testo("tipo") == Some("SALDO"),
            data_letta: r.letto(campo_data).map(str::to_string),
            tipo_letto: r.letto("tipo").map(str::to_string),
        };
        let mappa = if erogazione {
            &mut self.erogazioni
        } else {
            &mut self.pagamenti
        };
        mappa.entry(cup.to_string()).or_default().push(m);
    }

    fn fine_sal(&mut self, cx: &mut Contesto<'_>) {
        for (cup, lista) in &mut self.sal {
            lista.sort_by_key(|s| (s.numero, s.riga));
            let totale = self.interventi.get(cup).and_then(|i| i.totale);
            let mut somma = 0i64;
            let mut somma_valida = true;
            let mut prec: Option<&Sal> = None;
            let mut atteso = 1i64;
            let mut gap_segnalato = false;
            for s in lista.iter() {
                match s.importo {
                    Some(i) => somma += i,
                    None => somma_valida = false,
                }
                if somma_valida
                    && let Some(c) = s.cumulato
                    && (c - somma).abs() > TOLLERANZA
                {
                    cx.su_riga("sal", s.riga, "importo_cumulato", s.cumulato_letto.clone(), "cumulato_errato", Errore, format!("L'importo cumulato ({}) non è la somma degli importi dei SAL fino al n. {} ({}).", euro(c), s.numero, euro(somma)));
                }
                if let (Some(c), Some(t)) = (s.cumulato, totale)
                    && c > t + TOLLERANZA
                {
                    cx.su_riga(
                        "sal",
                        s.riga,
                        "importo_cumulato",
                        s.cumulato_letto.clone(),
                        "somma_eccedente",
                        Avviso,
                        format!(
                            "L'importo cumulato ({}) supera l'importo totale dell'intervento ({}).",
                            euro(c),
                            euro(t)
                        ),
                    );
                }
                if let Some(p) = prec {
                    if let (Some(a), Some(b)) = (p.data, s.data)
                        && b < a
                    {
                        cx.su_riga(
                            "sal",
                            s.riga,
                            "data_sal",
                            s.data_letta.clone(),
                            "sequenza",
                            Errore,
                            format!(
                                "Il SAL n. {} ha una data precedente a quella del SAL n. {}.",
                                s.numero, p.numero
                            ),
                        );
                    }
                    if let (Some(a), Some(b)) = (p.percentuale, s.percentuale)
                        && b < a
                    {
                        cx.su_riga(
                            "sal",
                            s.riga,
                            "percentuale_avanzamento",
                            s.percentuale_letta.clone(),
                            "sequenza",
                            Errore,
                            format!(
                                "L'avanzamento del SAL n. {} è inferiore a quello del SAL n. {}.",
                                s.numero, p.numero
                            ),
                        );
                    }
                }
                // A repeated number is `chiave_duplicata`, not a gap.
                if s.numero > atteso && !gap_segnalato {
                    gap_segnalato = true;
                    let m = if atteso == 1 {
                        format!(
                            "I SAL del CUP {cup} non iniziano dal n. 1: il primo è il n. {}.",
                            s.numero
                        )
                    } else {
                        format!(
                            "I SAL del CUP {cup} non sono numerati di seguito: dopo il n. {} viene il n. {}.",
                            atteso - 1,
                            s.numero
                        )
                    };
                    cx.su_riga(
                        "sal",
                        s.riga,
                        "numero_sal",
                        s.numero_letto.clone(),
                        "sequenza",
                        Avviso,
                        m,
                    );
                }
                atteso = atteso.max(s.numero + 1);
                prec = Some(s);
            }
        }
    }

    fn fine_erogazioni(&mut self, cx: &mut Contesto<'_>) {
        for (cup, lista) in &mut self.erogazioni {
            lista.sort_by_key(|m| (m.data, m.riga));
            let int = self.interventi.get(cup);
            let finanziato = int.and_then(|i| i.finanziato);
            let stato = int.and_then(|i| i.stato.clone());
            let mut somma = 0i64;
            let mut eccedenza_segnalata = false;
            let mut saldo: Option<&Movimento> = None;
            for m in lista.iter() {
                somma += m.importo;
                if let Some(f) = finanziato
                    && somma > f + TOLLERANZA
                    && !eccedenza_segnalata
                {
                    eccedenza_segnalata = true;
                    cx.su_riga("erogazioni", m.riga, "importo", m.letto.clone(), "somma_eccedente", Errore, format!("Con questa erogazione il totale erogato ({}) supera l'importo finanziato ({}).", euro(somma), euro(f)));
                }
                if let Some(s) = saldo
                    && m.data > s.data
                {
                    cx.su_riga(
                        "erogazioni",
                        m.riga,
                        "data_erogazione",
                        m.data_letta.clone(),
                        "sequenza",
                        Errore,
                        format!(
                            "Erogazione successiva al SALDO del {}.",
                            s.data.format("%d/%m/%Y")
                        ),
                    );
                }
                if m.saldo {
                    if saldo.is_some() {
                        cx.su_riga(
                            "erogazioni",
                            m.riga,
                            "tipo",
                            m.tipo_letto.clone(),
                            "saldo_multiplo",
                            Errore,
                            format!("Per il CUP {cup} c'è già un'erogazione a SALDO."),
                        );
                    } else {
                        saldo = Some(m);
                        if let Some(s) = stato.as_deref()
                            && s != "ULTIMATO"
                            && s != "COLLAUDATO"
                        {
                            cx.su_riga("erogazioni", m.riga, "tipo", m.tipo_letto.clone(), "incoerente", Avviso, format!("Erogazione a SALDO per un intervento nello stato {s} (né ULTIMATO né COLLAUDATO)."));
                        }
                    }
                }
            }
        }
    }

    fn fine_pagamenti(&mut self, cx: &mut Contesto<'_>) {
        for (cup, lista) in &mut self.pagamenti {
            lista.sort_by_key(|m| (m.data, m.riga));
            let Some(totale) = self.interventi.get(cup).and_then(|i| i.totale) else {
                continue;
            };
            let mut somma = 0i64;
            for m in lista.iter() {
                somma += m.importo;
                if somma > totale + TOLLERANZA {
                    cx.su_riga("pagamenti", m.riga, "importo", m.letto.clone(), "somma_eccedente", Errore, format!("Con questo pagamento il totale pagato ({}) supera l'importo totale dell'intervento ({}).", euro(somma), euro(totale)));
                    break;
                }
            }
        }
    }
}
