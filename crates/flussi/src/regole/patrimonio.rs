//! Rules of the `patrimonio` flow (`flusso-patrimonio.md`, "Checks across rows and tables").

use std::collections::{HashMap, HashSet};

use super::{Contesto, Regole};
use crate::motore::Riga;
use crate::spec::Gravita::{Avviso, Errore};
use crate::valori::Valore;

struct Fabbricato {
    riga: u64,
    comune: Option<String>,
    anno_costruzione: Option<i64>,
    usato: bool,
}

#[derive(Default)]
pub struct Patrimonio {
    fabbricati: HashMap<String, Fabbricato>,
    /// Buildings in file order, for `senza_unita` at the end.
    ordine: Vec<String>,
    /// Fingerprints of (comune, sezione, foglio, particella, subalterno).
    catasto: HashSet<u128>,
}

fn categoria_ammessa(tipologia: &str, cat: &str) -> Option<bool> {
    let ok = match tipologia {
        "ALLOGGIO" => cat.starts_with("A/") && cat != "A/10",
        "UFFICIO" => cat == "A/10",
        "NEGOZIO" => cat == "C/1",
        "MAGAZZINO" => cat == "C/2" || cat == "C/3",
        "BOX" | "POSTO_AUTO" => cat == "C/6" || cat == "C/7",
        _ => return None,
    };
    Some(ok)
}

impl Regole for Patrimonio {
    fn riga(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        match r.tabella.nome {
            "fabbricati" => self.fabbricato(cx, ti, r),
            "unita" => self.unita(cx, ti, r),
            _ => {}
        }
    }

    fn fine(&mut self, cx: &mut Contesto<'_>) {
        for codice in &self.ordine {
            if let Some(f) = self.fabbricati.get(codice)
                && !f.usato
            {
                cx.su_riga(
                    "fabbricati",
                    f.riga,
                    "codice_fabbricato",
                    Some(codice.clone()),
                    "senza_unita",
                    Avviso,
                    format!(
                        "Nessuna unità della tabella unita appartiene al fabbricato «{codice}»."
                    ),
                );
            }
        }
    }
}

impl Patrimonio {
    fn fabbricato(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        let lat = r.letto("latitudine").is_some();
        let lon = r.letto("longitudine").is_some();
        if lat != lon && r.utilizzabile("latitudine") && r.utilizzabile("longitudine") {
            let manca = if lat { "longitudine" } else { "latitudine" };
            cx.su(ti, r, manca, "coordinate_incomplete", Errore, format!("È indicata solo una delle coordinate: manca {manca}. Indichi entrambe o nessuna."));
        }
        if !lat && !lon {
            cx.su(
                ti,
                r,
                "latitudine",
                "coordinate_mancanti",
                Avviso,
                "Il fabbricato non ha coordinate: indicarle permette di vederlo sulla mappa."
                    .into(),
            );
        }
        if r.testo("titolo_possesso") == Some("GESTIONE") && r.letto("cf_proprietario").is_none() {
            cx.su(ti, r, "cf_proprietario", "obbligatorio_condizionato", Errore, "Per un fabbricato in GESTIONE serve il codice fiscale del proprietario (cf_proprietario).".into());
        }
        if let Some(c) = r.testo("comune_istat")
            && let Some(m) = cx.fuori_territorio(c)
        {
            cx.su(
                ti,
                r,
                "comune_istat",
                "fuori_territorio",
                Avviso,
                format!("Il fabbricato è fuori dal territorio dell'ente: {m}."),
            );
        }
        if let Some(codice) = r.testo("codice_fabbricato")
            && !self.fabbricati.contains_key(codice)
        {
            self.ordine.push(codice.to_string());
            self.fabbricati.insert(
                codice.to_string(),
                Fabbricato {
                    riga: r.numero,
                    comune: if r.utilizzabile("comune_istat") {
                        r.testo("comune_istat").map(str::to_string)
                    } else {
                        None
                    },
                    anno_costruzione: r.v("anno_costruzione").and_then(Valore::intero),
                    usato: false,
                },
            );
        }
    }

    fn unita(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        let tipologia = r.testo("tipologia");
        let stato = r.testo("stato_occupazione");
        if tipologia == Some("ALLOGGIO") && r.letto("superficie_utile_mq").is_none() {
            cx.su(
                ti,
                r,
                "superficie_utile_mq",
                "obbligatorio_condizionato",
                Errore,
                "Per un ALLOGGIO serve la superficie utile (superficie_utile_mq).".into(),
            );
        }
        if stato == Some("ASSEGNATO") {
            for campo in ["data_assegnazione", "canone_mensile"] {
                if r.letto(campo).is_none() {
                    cx.su(
                        ti,
                        r,
                        campo,
                        "obbligatorio_condizionato",
                        Errore,
                        format!("Per un'unità ASSEGNATO serve il campo {campo}."),
                    );
                }
            }
        } else if let Some(s) = stato {
            for campo in ["data_assegnazione", "canone_mensile"] {
                if r.v(campo).is_some() {
                    cx.su(ti, r, campo, "incoerente", Avviso, format!("Il campo {campo} è indicato ma l'unità non risulta ASSEGNATO (stato: {s})."));
                }
            }
            if let Some(n) = r.v("numero_occupanti").and_then(Valore::intero)
                && n > 0
                && s != "OCCUPATO_SENZA_TITOLO"
            {
                cx.su(ti, r, "numero_occupanti", "incoerente", Avviso, format!("Risultano {n} occupanti ma l'unità non è né ASSEGNATO né OCCUPATO_SENZA_TITOLO (stato: {s})."));
            }
        }
        if let (Some(t), Some(cat)) = (tipologia, r.testo("categoria_catastale"))
            && categoria_ammessa(t, cat) == Some(false)
        {
            cx.su(
                ti,
                r,
                "categoria_catastale",
                "categoria_incoerente",
                Avviso,
                format!("La categoria catastale {cat} non è tipica di un'unità di tipologia {t}."),
            );
        }
        if tipologia == Some("ALLOGGIO")
            && let Some(s) = r.v("superficie_utile_mq").and_then(Valore::numero)
            && s < 28.0
        {
            cx.su(ti, r, "superficie_utile_mq", "valore_anomalo", Avviso, format!("Un alloggio di {} m² è insolitamente piccolo (meno di 28 m²): verifichi il dato.", crate::valori::formatta_numero(s).replace('.', ",")));
        }
        if let Some(c) = r.v("canone_mensile").and_then(Valore::centesimi)
            && c > 100_000
        {
            cx.su(ti, r, "canone_mensile", "valore_anomalo", Avviso, "Un canone mensile oltre 1000 € è insolito per un alloggio pubblico: verifichi il dato.".into());
        }
        let Some(codice_f) = r.testo("codice_fabbricato") else {
            return;
        };
        let Some(f) = self.fabbricati.get_mut(codice_f) else {
            return;
        };
        f.usato = true;
        if let (Some(anno_i), Some(anno_c)) = (
            r.v("anno_ultimo_intervento").and_then(Valore::intero),
            f.anno_costruzione,
        ) && anno_i < anno_c
        {
            cx.su(ti, r, "anno_ultimo_intervento", "incoerente", Avviso, format!("L'ultimo intervento ({anno_i}) risulta precedente alla costruzione del fabbricato ({anno_c})."));
        }
        let campi = ["sezione_urbana", "foglio", "particella", "subalterno"];
        if let Some(comune) = f.comune.clone()
            && campi.iter().all(|c| r.utilizzabile(c))
            && ["foglio", "particella", "subalterno"]
                .iter()
                .all(|c| r.testo(c).is_some())
        {
            let t = |c: &str| r.testo(c).unwrap_or_default().to_string();
            let k = (
                comune,
                t("sezione_urbana"),
                t("foglio"),
                t("particella"),
                t("subalterno"),
            );
            if !self
                .catasto
                .insert(crate::motore::impronta(&[&k.0, &k.1, &k.2, &k.3, &k.4]))
            {
                let sezione = if k.1.is_empty() {
                    String::new()
                } else {
                    format!("sezione {}, ", k.1)
                };
                cx.su(ti, r, "subalterno", "catasto_duplicato", Errore, format!("L'unità catastale (comune {}, {sezione}foglio {}, particella {}, subalterno {}) è già dichiarata in una riga precedente.", k.0, k.2, k.3, k.4));
            }
        }
    }
}
