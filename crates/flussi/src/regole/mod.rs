//! The domain rules beyond single values: conditional requirements, coherence between fields,
//! and the checks across rows and tables named in each flow's spec.

mod contabilita;
mod patrimonio;

use crate::motore::{Dichiarante, Opzioni, Riga, segnala};
use crate::report::{Posizione, Raccolta, Segnalazione};
use crate::spec::{Dominio, Gravita};

/// What a rule sees besides the row: the domain, the options and the issue collector.
pub struct Contesto<'a> {
    pub dominio: &'static Dominio,
    pub opzioni: &'a Opzioni,
    pub out: &'a mut Raccolta,
    /// Required tables missing from the flow: checks that need them do not run.
    pub mancanti: &'a std::collections::HashSet<&'static str>,
}

impl Contesto<'_> {
    /// An issue on a row and field of table `ti`, with the value as read.
    pub fn su(
        &mut self,
        ti: usize,
        r: &Riga<'_>,
        campo: &str,
        codice: &str,
        gravita: Gravita,
        messaggio: String,
    ) {
        segnala(
            self.out,
            ti,
            r.tabella,
            Some(r.numero),
            Some(campo),
            r.letto(campo),
            codice,
            gravita,
            messaggio,
        );
    }

    /// An issue on a row remembered by number (checks that run at the end).
    #[allow(clippy::too_many_arguments)]
    pub fn su_riga(
        &mut self,
        tabella: &str,
        riga: u64,
        campo: &str,
        valore: Option<String>,
        codice: &str,
        gravita: Gravita,
        messaggio: String,
    ) {
        let ti = self.dominio.indice_tabella(tabella).unwrap_or(0);
        let t = &self.dominio.tabelle[ti];
        segnala(
            self.out,
            ti,
            t,
            Some(riga),
            Some(campo),
            valore.as_deref(),
            codice,
            gravita,
            messaggio,
        );
    }

    /// A check that could not run (offline, reference data missing).
    pub fn non_eseguito(&mut self, campo: &str, messaggio: String) {
        self.out.aggiungi(
            Posizione {
                tabella: 0,
                riga: 0,
                campo: 0,
            },
            Segnalazione {
                tabella: None,
                riga: None,
                campo: Some(campo.into()),
                valore: None,
                codice: "controllo_non_eseguito".into(),
                gravita: Gravita::Avviso,
                messaggio,
            },
        );
    }

    /// A check of table `tabella` that could not run, said once (instead of one issue per row
    /// that would only repeat that a table is missing).
    pub fn non_eseguito_su(&mut self, tabella: &str, campo: &str, messaggio: String) {
        let ti = self.dominio.indice_tabella(tabella).unwrap_or(0);
        let t = &self.dominio.tabelle[ti];
        segnala(
            self.out,
            ti,
            t,
            None,
            Some(campo),
            None,
            "controllo_non_eseguito",
            Gravita::Avviso,
            messaggio,
        );
    }

    /// `fuori_territorio`: whether a Comune is outside the declaring entity's territory.
    pub fn fuori_territorio(&self, istat: &str) -> Option<String> {
        match self.opzioni.dichiarante.as_ref()? {
            Dichiarante::Comune(c) if c != istat => Some(format!(
                "il Comune dichiarante ({c}) non coincide con quello indicato ({istat})"
            )),
            Dichiarante::Arca(province) => {
                let p = crate::riferimento::comune(istat).map(|c| c.sigla_provincia.clone())?;
                (!province.contains(&p)).then(|| {
                    format!(
                        "la provincia {p} non è tra quelle dell'ARCA ({})",
                        province.join(", ")
                    )
                })
            }
            _ => None,
        }
    }
}

/// Rules of a domain: called for every row (after the value rules and the key/reference
/// checks), then once at the end.
pub trait Regole {
    fn riga(&mut self, cx: &mut Contesto<'_>, ti: usize, r: &Riga<'_>);
    fn fine(&mut self, _cx: &mut Contesto<'_>) {}
}

struct Nessuna;
impl Regole for Nessuna {
    fn riga(&mut self, _: &mut Contesto<'_>, _: usize, _: &Riga<'_>) {}
}

pub fn per_dominio(nome: &str) -> Box<dyn Regole> {
    match nome {
        "patrimonio" => Box::new(patrimonio::Patrimonio::default()),
        "contabilita" => Box::new(contabilita::Contabilita::default()),
        _ => Box::new(Nessuna),
    }
}
