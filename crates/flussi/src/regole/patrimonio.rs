//! Rules of the `patrimonio` flow (`flusso-patrimonio.md`, "Checks across rows and tables").
//!
//! The state kept across rows is compact, because a flow may have millions of units: the
//! buildings in one arena of codes with an index of their own, the cadastral identifiers as
//! fingerprints ([`Impronte`]).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use super::{Contesto, Regole};
use crate::impronte::Impronte;
use crate::motore::Riga;
use crate::spec::Gravita::{Avviso, Errore};
use crate::spec::Tabella;
use crate::valori::Valore;

/// What the unit rules need of a building.
struct Fabbricato {
    riga: u64,
    /// Year of construction, `i32::MIN` when not known.
    anno_costruzione: i32,
    /// Index into [`Fabbricati::comuni`], `u16::MAX` when not known.
    comune: u16,
    usato: bool,
}

/// The buildings of the flow in file order, found by code: codes in one string, an
/// open-addressing index of `(hash tag, position + 1)` over them.
#[derive(Default)]
struct Fabbricati {
    stato: foldhash::quality::RandomState,
    testo: String,
    fine: Vec<usize>,
    dati: Vec<Fabbricato>,
    indice: Vec<u64>,
    comuni: Vec<String>,
    per_comune: HashMap<String, u16>,
}

impl Fabbricati {
    fn codice(&self, i: usize) -> &str {
        let inizio = if i == 0 { 0 } else { self.fine[i - 1] };
        &self.testo[inizio..self.fine[i]]
    }

    /// The slot of `codice` in the index: where it is, or the free slot where it would go.
    fn posto(&self, codice: &str) -> (usize, u64, Option<usize>) {
        let h = self.stato.hash_one(codice);
        let etichetta = h >> 32;
        let maschera = self.indice.len() - 1;
        let mut p = (h as usize) & maschera;
        loop {
            let x = self.indice[p];
            if x == 0 {
                return (p, etichetta, None);
            }
            if x >> 32 == etichetta {
                let i = (x & 0xffff_ffff) as usize - 1;
                if self.codice(i) == codice {
                    return (p, etichetta, Some(i));
                }
            }
            p = (p + 1) & maschera;
        }
    }

    fn trova(&self, codice: &str) -> Option<usize> {
        if self.indice.is_empty() {
            return None;
        }
        self.posto(codice).2
    }

    /// Adds a building not yet present.
    fn aggiungi(&mut self, codice: &str, f: Fabbricato) {
        // At most half full (4 bytes of tag and 4 of position per slot).
        if (self.dati.len() + 1) * 2 > self.indice.len() {
            let n = (self.indice.len() * 2).max(1024);
            self.indice = vec![0; n];
            for i in 0..self.dati.len() {
                let (p, etichetta, _) = self.posto(self.codice(i));
                self.indice[p] = (etichetta << 32) | (i as u64 + 1);
            }
        }
        let (p, etichetta, _) = self.posto(codice);
        self.indice[p] = (etichetta << 32) | (self.dati.len() as u64 + 1);
        self.testo.push_str(codice);
        self.fine.push(self.testo.len());
        self.dati.push(f);
    }

    fn comune(&mut self, c: &str) -> u16 {
        if let Some(&i) = self.per_comune.get(c) {
            return i;
        }
        let Ok(i) = u16::try_from(self.comuni.len()) else {
            return u16::MAX;
        };
        self.comuni.push(c.to_string());
        self.per_comune.insert(c.to_string(), i);
        i
    }
}

/// Field indices of the two tables, resolved once.
struct Indici {
    f_latitudine: usize,
    f_longitudine: usize,
    f_titolo_possesso: usize,
    f_cf_proprietario: usize,
    f_comune_istat: usize,
    f_codice_fabbricato: usize,
    f_anno_costruzione: usize,
    u_tipologia: usize,
    u_stato_occupazione: usize,
    u_superficie_utile_mq: usize,
    u_data_assegnazione: usize,
    u_canone_mensile: usize,
    u_numero_occupanti: usize,
    u_categoria_catastale: usize,
    u_codice_fabbricato: usize,
    u_anno_ultimo_intervento: usize,
    u_sezione_urbana: usize,
    u_foglio: usize,
    u_particella: usize,
    u_subalterno: usize,
}

fn indici(t: &Tabella) -> Indici {
    let dominio = crate::spec::patrimonio::dominio();
    let f = dominio.tabella("fabbricati").unwrap_or(t);
    let u = dominio.tabella("unita").unwrap_or(t);
    let fi = |c: &str| f.indice(c).unwrap_or(usize::MAX);
    let ui = |c: &str| u.indice(c).unwrap_or(usize::MAX);
    Indici {
        f_latitudine: fi("latitudine"),
        f_longitudine: fi("longitudine"),
        f_titolo_possesso: fi("titolo_possesso"),
        f_cf_proprietario: fi("cf_proprietario"),
        f_comune_istat: fi("comune_istat"),
        f_codice_fabbricato: fi("codice_fabbricato"),
        f_anno_costruzione: fi("anno_costruzione"),
        u_tipologia: ui("tipologia"),
        u_stato_occupazione: ui("stato_occupazione"),
        u_superficie_utile_mq: ui("superficie_utile_mq"),
        u_data_assegnazione: ui("data_assegnazione"),
        u_canone_mensile: ui("canone_mensile"),
        u_numero_occupanti: ui("numero_occupanti"),
        u_categoria_catastale: ui("categoria_catastale"),
        u_codice_fabbricato: ui("codice_fabbricato"),
        u_anno_ultimo_intervento: ui("anno_ultimo_intervento"),
        u_sezione_urbana: ui("sezione_urbana"),
        u_foglio: ui("foglio"),
        u_particella: ui("particella"),
        u_subalterno: ui("subalterno"),
    }
}

static INDICI: OnceLock<Indici> = OnceLock::new();

#[derive(Default)]
pub struct Patrimonio {
    fabbricati: Fabbricati,
    /// Fingerprints of (comune, sezione, foglio, particella, subalterno).
    catasto: Impronte,
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
        let f = &self.fabbricati;
        if cx.mancanti.contains("unita") {
            // Without the units every building would be «senza unità»: say it once.
            if !f.dati.is_empty() {
                cx.non_eseguito_su(
                    "fabbricati",
                    "codice_fabbricato",
                    "Il controllo dei fabbricati senza unità (senza_unita) non è stato eseguito: manca la tabella unita.".into(),
                );
            }
            return;
        }
        for (i, d) in f.dati.iter().enumerate() {
            if !d.usato {
                let codice = f.codice(i);
                cx.su_riga(
                    "fabbricati",
                    d.riga,
                    "codice_fabbricato",
                    Some(codice.to_string()),
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
        let x = INDICI.get_or_init(|| indici(r.tabella));
        let lat = r.letto_i(x.f_latitudine).is_some();
        let lon = r.letto_i(x.f_longitudine).is_some();
        if lat != lon && r.utilizzabile_i(x.f_latitudine) && r.utilizzabile_i(x.f_longitudine) {
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
        if r.testo_i(x.f_titolo_possesso) == Some("GESTIONE")
            && r.letto_i(x.f_cf_proprietario).is_none()
        {
            cx.su(ti, r, "cf_proprietario", "obbligatorio_condizionato", Errore, "Per un fabbricato in GESTIONE serve il codice fiscale del proprietario (cf_proprietario).".into());
        }
        if let Some(c) = r.testo_i(x.f_comune_istat)
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
        if let Some(codice) = r.testo_i(x.f_codice_fabbricato)
            && self.fabbricati.trova(codice).is_none()
        {
            let comune = match r.testo_i(x.f_comune_istat) {
                Some(c) if r.utilizzabile_i(x.f_comune_istat) => self.fabbricati.comune(c),
                _ => u16::MAX,
            };
            let anno_costruzione = r
                .v_i(x.f_anno_costruzione)
                .and_then(Valore::intero)
                .and_then(|a| i32::try_from(a).ok())
                .filter(|&a| a != i32::MIN)
                .unwrap_or(i32::MIN);
            self.fabbricati.aggiungi(
                codice,
                Fabbricato {
                    riga: r.numero,
                    anno_costruzione,
                    comune,
                    usato: false,
                },
            );
        }
    }

    fn unita(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>) {
        let x = INDICI.get_or_init(|| indici(r.tabella));
        let tipologia = r.testo_i(x.u_tipologia);
        let stato = r.testo_i(x.u_stato_occupazione);
        if tipologia == Some("ALLOGGIO") && r.letto_i(x.u_superficie_utile_mq).is_none() {
            cx.su(
                ti,
                r,
                "superficie_utile_mq",
                "obbligatorio_condizionato",
                Errore,
                "Per un ALLOGGIO serve la superficie utile (superficie_utile_mq).".into(),
            );
        }
        let assegnazione = [
            ("data_assegnazione", x.u_data_assegnazione),
            ("canone_mensile", x.u_canone_mensile),
        ];
        if stato == Some("ASSEGNATO") {
            for (campo, i) in assegnazione {
                if r.letto_i(i).is_none() {
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
            for (campo, i) in assegnazione {
                if r.v_i(i).is_some() {
                    cx.su(ti, r, campo, "incoerente", Avviso, format!("Il campo {campo} è indicato ma l'unità non risulta ASSEGNATO (stato: {s})."));
                }
            }
            if let Some(n) = r.v_i(x.u_numero_occupanti).and_then(Valore::intero)
                && n > 0
                && s != "OCCUPATO_SENZA_TITOLO"
            {
                cx.su(ti, r, "numero_occupanti", "incoerente", Avviso, format!("Risultano {n} occupanti ma l'unità non è né ASSEGNATO né OCCUPATO_SENZA_TITOLO (stato: {s})."));
            }
        }
        if let (Some(t), Some(cat)) = (tipologia, r.testo_i(x.u_categoria_catastale))
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
            && let Some(s) = r.v_i(x.u_superficie_utile_mq).and_then(Valore::numero)
            && s < 28.0
        {
            cx.su(ti, r, "superficie_utile_mq", "valore_anomalo", Avviso, format!("Un alloggio di {} m² è insolitamente piccolo (meno di 28 m²): verifichi il dato.", crate::valori::formatta_numero(s).replace('.', ",")));
        }
        if let Some(c) = r.v_i(x.u_canone_mensile).and_then(Valore::centesimi)
            && c > 100_000
        {
            cx.su(ti, r, "canone_mensile", "valore_anomalo", Avviso, "Un canone mensile oltre 1000 € è insolito per un alloggio pubblico: verifichi il dato.".into());
        }
        let Some(codice_f) = r.testo_i(x.u_codice_fabbricato) else {
            return;
        };
        let Some(i) = self.fabbricati.trova(codice_f) else {
            return;
        };
        let f = &mut self.fabbricati.dati[i];
        f.usato = true;
        let (anno_c, comune) = (f.anno_costruzione, f.comune);
        if let Some(anno_i) = r.v_i(x.u_anno_ultimo_intervento).and_then(Valore::intero)
            && anno_c != i32::MIN
            && anno_i < i64::from(anno_c)
        {
            cx.su(ti, r, "anno_ultimo_intervento", "incoerente", Avviso, format!("L'ultimo intervento ({anno_i}) risulta precedente alla costruzione del fabbricato ({anno_c})."));
        }
        let campi = [
            x.u_sezione_urbana,
            x.u_foglio,
            x.u_particella,
            x.u_subalterno,
        ];
        if let Some(comune) = self.fabbricati.comuni.get(usize::from(comune))
            && campi.iter().all(|&c| r.utilizzabile_i(c))
            && campi[1..].iter().all(|&c| r.testo_i(c).is_some())
        {
            let t = |c: usize| r.testo_i(c).unwrap_or_default();
            let k = [
                comune.as_str(),
                t(x.u_sezione_urbana),
                t(x.u_foglio),
                t(x.u_particella),
                t(x.u_subalterno),
            ];
            if !self.catasto.inserisci(self.catasto.impronta(&k)) {
                let sezione = if k[1].is_empty() {
                    String::new()
                } else {
                    format!("sezione {}, ", k[1])
                };
                cx.su(ti, r, "subalterno", "catasto_duplicato", Errore, format!("L'unità catastale (comune {}, {sezione}foglio {}, particella {}, subalterno {}) è già dichiarata in una riga precedente.", k[0], k[2], k[3], k[4]));
            }
        }
    }
}
