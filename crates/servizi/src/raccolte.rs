//! Collection campaigns (*raccolte*, spec README §6): the Region asks a set of entities for a
//! domain's flow by a deadline, with a later closing date. Each target's state comes from its
//! flows of the domain uploaded while the campaign was open, or from its "nothing to report"
//! declaration; the reporting rate is compliant targets over targets.
//!
//! Definitions (ARCHITECTURE.md, «Raccolte»):
//! - a flow counts for a campaign when it is of the campaign's domain and was uploaded from
//!   the opening instant to the end of the closing day (Rome);
//! - *compliant*: a counting flow accepted (then maybe superseded), or "nothing to report";
//! - *answered* at the earliest submission of a counting flow that is not rejected, or at the
//!   declaration; *late* when today is past the deadline and the answer is missing or came
//!   after the deadline day.

use std::collections::BTreeMap;

use archivio::{FlussoRaccolta, NuovaRaccolta, NuovaVoce, Obiettivo, Raccolta};
use chrono::{DateTime, NaiveDate, Utc};
use dominio::orologio::{inizio_giorno, oggi_a};
use dominio::politica::{Azione, Soggetto, autorizza};
use dominio::{Area, CodiceEnte, DominioFlusso, ErroreDominio, Testo};
use serde::Serialize;

use crate::{ErroreServizio, Esito, Piattaforma, audit::attore};

/// Most targets a campaign can have (every entity of the registry fits).
pub const MAX_OBIETTIVI: usize = 400;
/// Longest campaign, opening to closing.
pub const MAX_GIORNI: i64 = 3 * 366;

/// A target's state (README §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatoObiettivo {
    NonAvviato,
    Caricato,
    Valido,
    Inviato,
    Accettato,
    NullaDaDichiarare,
}

impl StatoObiettivo {
    pub fn etichetta(self) -> &'static str {
        match self {
            Self::NonAvviato => "Non avviato",
            Self::Caricato => "Caricato",
            Self::Valido => "Valido",
            Self::Inviato => "Inviato",
            Self::Accettato => "Accettato",
            Self::NullaDaDichiarare => "Nulla da dichiarare",
        }
    }

    pub fn conforme(self) -> bool {
        matches!(self, Self::Accettato | Self::NullaDaDichiarare)
    }
}

/// One target of a campaign, with its state.
#[derive(Clone, Debug, Serialize)]
pub struct RigaObiettivo {
    pub ente: String,
    pub denominazione: String,
    pub tipo: String,
    pub pilota: bool,
    pub registrato: bool,
    pub stato: StatoObiettivo,
    pub etichetta: &'static str,
    pub conforme: bool,
    pub in_ritardo: bool,
    /// The flow that gives the state.
    pub flusso: Option<i64>,
    pub risposto_il: Option<DateTime<Utc>>,
    pub conforme_il: Option<DateTime<Utc>>,
    pub nulla_motivo: Option<String>,
}

/// A campaign with its targets and figures.
#[derive(Clone, Debug, Serialize)]
pub struct QuadroRaccolta {
    pub raccolta: Raccolta,
    pub dominio_etichetta: &'static str,
    pub righe: Vec<RigaObiettivo>,
    pub obiettivi: usize,
    pub conformi: usize,
    pub in_ritardo: usize,
    /// Compliant over targets, in percent (0 with no target).
    pub tasso: f64,
    /// Open for submissions today (not past the closing date).
    pub aperta: bool,
    pub scaduta: bool,
    /// The reporting rate over time: (day, compliant targets that day).
    pub serie: Vec<(NaiveDate, usize)>,
}

/// An entity's reporting rate over the campaigns that targeted it.
#[derive(Clone, Debug, Serialize)]
pub struct TassoEnte {
    pub ente: String,
    pub denominazione: String,
    pub raccolte: usize,
    pub conformi: usize,
    pub in_ritardo: usize,
    pub tasso: f64,
}

/// A campaign as typed in the form.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
pub struct DomandaRaccolta {
    #[serde(default)]
    pub titolo: String,
    #[serde(default)]
    pub dominio: String,
    #[serde(default)]
    pub scadenza: String,
    #[serde(default)]
    pub chiusura: String,
    /// `pilota`, `provincia`, `tipo`, `elenco`, or `registrati`.
    #[serde(default)]
    pub selezione: String,
    #[serde(default)]
    pub provincia: String,
    #[serde(default)]
    pub tipo: String,
    /// Entity codes, separated by commas, spaces or new lines.
    #[serde(default)]
    pub elenco: String,
}

fn tasso(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        (n as f64 * 1000.0 / d as f64).round() / 10.0
    }
}

fn data(campo: &'static str, s: &str) -> Result<NaiveDate, ErroreDominio> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ErroreDominio::valore(campo, "Indichi una data valida (gg/mm/aaaa)."))
}

/// The state of each target, from its flows and its declaration (pure).
pub fn righe(
    r: &Raccolta,
    obiettivi: &[Obiettivo],
    flussi: &[FlussoRaccolta],
    oggi: NaiveDate,
) -> Vec<RigaObiettivo> {
    let fine = r
        .chiusura
        .succ_opt()
        .map(inizio_giorno)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut per_ente: BTreeMap<&str, Vec<&FlussoRaccolta>> = BTreeMap::new();
    for f in flussi.iter().filter(|f| f.caricato_il < fine) {
        per_ente.entry(f.ente.as_str()).or_default().push(f);
    }
    obiettivi
        .iter()
        .map(|o| {
            let mut stato = StatoObiettivo::NonAvviato;
            let mut flusso = None;
            let mut risposto_il: Option<DateTime<Utc>> = None;
            let mut conforme_il: Option<DateTime<Utc>> = None;
            for f in per_ente.get(o.ente.as_str()).into_iter().flatten() {
                let s = match f.stato.as_str() {
                    "accettato" | "superato" => StatoObiettivo::Accettato,
                    "inviato" => StatoObiettivo::Inviato,
                    "valido" => StatoObiettivo::Valido,
                    "ritirato" => continue,
                    _ => StatoObiettivo::Caricato,
                };
                if s >= stato {
                    stato = s;
                    flusso = Some(f.id);
                }
                if matches!(s, StatoObiettivo::Accettato | StatoObiettivo::Inviato)
                    && let Some(i) = f.inviato_il
                {
                    risposto_il = Some(risposto_il.map_or(i, |x| x.min(i)));
                }
                if s == StatoObiettivo::Accettato
                    && let Some(e) = f.esito_il
                {
                    conforme_il = Some(conforme_il.map_or(e, |x| x.min(e)));
                }
            }
            if let Some(n) = o.nulla_il {
                risposto_il = Some(risposto_il.map_or(n, |x| x.min(n)));
                conforme_il = Some(conforme_il.map_or(n, |x| x.min(n)));
                if stato != StatoObiettivo::Accettato {
                    stato = StatoObiettivo::NullaDaDichiarare;
                    flusso = None;
                }
            }
            let in_ritardo =
                oggi > r.scadenza && risposto_il.is_none_or(|t| oggi_a(t) > r.scadenza);
            RigaObiettivo {
                ente: o.ente.clone(),
                denominazione: o.denominazione.clone(),
                tipo: o.tipo.clone(),
                pilota: o.pilota,
                registrato: o.registrato_il.is_some(),
                etichetta: stato.etichetta(),
                conforme: stato.conforme(),
                stato,
                in_ritardo,
                flusso,
                risposto_il,
                conforme_il,
                nulla_motivo: o.nulla_motivo.clone(),
            }
        })
        .collect()
}

/// Compliant targets on each day from the opening to today or the closing (weekly beyond
/// 120 days, so the chart stays readable).
fn serie(r: &Raccolta, righe: &[RigaObiettivo], oggi: NaiveDate) -> Vec<(NaiveDate, usize)> {
    let inizio = oggi_a(r.aperta_il);
    let fine = oggi.min(r.chiusura);
    if fine < inizio {
        return vec![];
    }
    let giorni = (fine - inizio).num_days();
    let passo = if giorni > 120 { 7 } else { 1 };
    let date_conformi: Vec<NaiveDate> = righe
        .iter()
        .filter_map(|x| x.conforme_il.map(oggi_a))
        .collect();
    let mut v = Vec::new();
    let mut d = inizio;
    loop {
        v.push((d, date_conformi.iter().filter(|c| **c <= d).count()));
        if d >= fine {
            break;
        }
        d = (d + chrono::Duration::days(passo)).min(fine);
    }
    v
}

impl Piattaforma {
    async fn quadro_di(&self, r: Raccolta) -> Esito<QuadroRaccolta> {
        let oggi = self.orologio.oggi();
        let obiettivi = self.db.obiettivi(Some(r.id)).await?;
        let flussi = self.db.flussi_raccolta(&r).await?;
        let righe = righe(&r, &obiettivi, &flussi, oggi);
        let conformi = righe.iter().filter(|x| x.conforme).count();
        let serie = serie(&r, &righe, oggi);
        Ok(QuadroRaccolta {
            dominio_etichetta: DominioFlusso::parse(&r.dominio)
                .map(|d| d.etichetta())
                .unwrap_or(""),
            obiettivi: righe.len(),
            conformi,
            in_ritardo: righe.iter().filter(|x| x.in_ritardo).count(),
            tasso: tasso(conformi, righe.len()),
            aperta: oggi <= r.chiusura,
            scaduta: oggi > r.scadenza,
            serie,
            righe,
            raccolta: r,
        })
    }

    /// Every campaign with its figures (Region staff).
    pub async fn raccolte(&self, s: &Soggetto) -> Esito<Vec<QuadroRaccolta>> {
        autorizza(s, &Azione::VedereMonitoraggio)?;
        let mut v = Vec::new();
        for r in self.db.raccolte().await? {
            v.push(self.quadro_di(r).await?);
        }
        Ok(v)
    }

    /// One campaign (Region staff).
    pub async fn raccolta(&self, s: &Soggetto, id: i64) -> Esito<QuadroRaccolta> {
        autorizza(s, &Azione::VedereMonitoraggio)?;
        let r = self
            .db
            .raccolta(id)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        self.quadro_di(r).await
    }

    /// The reporting rate per entity over all campaigns (Region staff), by name.
    pub async fn tassi_enti(&self, s: &Soggetto) -> Esito<Vec<TassoEnte>> {
        let mut per: BTreeMap<String, TassoEnte> = BTreeMap::new();
        for q in self.raccolte(s).await? {
            for x in q.righe {
                let t = per.entry(x.ente.clone()).or_insert_with(|| TassoEnte {
                    ente: x.ente.clone(),
                    denominazione: x.denominazione.clone(),
                    raccolte: 0,
                    conformi: 0,
                    in_ritardo: 0,
                    tasso: 0.0,
                });
                t.raccolte += 1;
                t.conformi += usize::from(x.conforme);
                t.in_ritardo += usize::from(x.in_ritardo);
            }
        }
        let mut v: Vec<TassoEnte> = per
            .into_values()
            .map(|mut t| {
                t.tasso = tasso(t.conformi, t.raccolte);
                t
            })
            .collect();
        v.sort_by(|a, b| a.denominazione.cmp(&b.denominazione));
        Ok(v)
    }

    /// The campaigns that target an entity, with its row in each: for the Region and for the
    /// entity's own people (who declare "nothing to report" from there).
    pub async fn raccolte_ente(
        &self,
        s: &Soggetto,
        ente: &CodiceEnte,
    ) -> Esito<Vec<(QuadroRaccolta, RigaObiettivo)>> {
        autorizza(s, &Azione::VedereEnte(ente))?;
        let mut v = Vec::new();
        for o in self.db.obiettivi_ente(ente.as_str()).await? {
            let Some(r) = self.db.raccolta(o.raccolta).await? else {
                continue;
            };
            let q = self.quadro_di(r).await?;
            if let Some(riga) = q.righe.iter().find(|x| x.ente == ente.as_str()).cloned() {
                v.push((q, riga));
            }
        }
        Ok(v)
    }

    /// The codes a selection picks (entities other than the Region).
    pub async fn seleziona_obiettivi(
        &self,
        d: &DomandaRaccolta,
    ) -> Result<(Vec<String>, String), ErroreDominio> {
        let enti = self
            .db
            .enti()
            .await
            .map_err(|e| ErroreDominio::Conflitto(e.to_string()))?;
        let enti: Vec<_> = enti.into_iter().filter(|e| e.tipo != "REGIONE").collect();
        let (codici, descrizione): (Vec<String>, String) = match d.selezione.as_str() {
            "pilota" => (
                enti.iter()
                    .filter(|e| e.pilota)
                    .map(|e| e.codice.clone())
                    .collect(),
                "enti pilota".into(),
            ),
            "registrati" => (
                enti.iter()
                    .filter(|e| e.registrato_il.is_some())
                    .map(|e| e.codice.clone())
                    .collect(),
                "enti registrati".into(),
            ),
            "provincia" => {
                let p = d.provincia.trim().to_ascii_uppercase();
                (
                    enti.iter()
                        .filter(|e| {
                            crate::monitoraggio::provincia(e)
                                .split(", ")
                                .any(|x| x == p)
                        })
                        .map(|e| e.codice.clone())
                        .collect(),
                    format!("enti della provincia {p}"),
                )
            }
            "tipo" => {
                let t = d.tipo.trim().to_ascii_uppercase();
                (
                    enti.iter()
                        .filter(|e| e.tipo == t)
                        .map(|e| e.codice.clone())
                        .collect(),
                    if t == "ARCA" {
                        "ARCA".into()
                    } else {
                        "Comuni".into()
                    },
                )
            }
            "elenco" => {
                let mut v = Vec::new();
                for c in d
                    .elenco
                    .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                    .filter(|c| !c.is_empty())
                    .take(MAX_OBIETTIVI + 1)
                {
                    let c = c.to_ascii_uppercase();
                    if !enti.iter().any(|e| e.codice == c) {
                        return Err(ErroreDominio::valore(
                            "elenco",
                            format!(
                                "Il codice «{}» non è di un ente del registro.",
                                c.chars().take(20).collect::<String>()
                            ),
                        ));
                    }
                    v.push(c);
                }
                v.sort();
                v.dedup();
                let n = v.len();
                (v, format!("elenco di {n} enti"))
            }
            _ => {
                return Err(ErroreDominio::valore(
                    "selezione",
                    "Scelga come selezionare gli enti.",
                ));
            }
        };
        if codici.is_empty() {
            return Err(ErroreDominio::valore(
                "selezione",
                "La selezione non comprende alcun ente.",
            ));
        }
        if codici.len() > MAX_OBIETTIVI {
            return Err(ErroreDominio::valore(
                "elenco",
                format!("Al massimo {MAX_OBIETTIVI} enti per raccolta."),
            ));
        }
        Ok((codici, descrizione))
    }

    /// Opens a campaign (a Region administrator); its id.
    pub async fn apri_raccolta(
        &self,
        s: &Soggetto,
        d: &DomandaRaccolta,
    ) -> Result<i64, crate::enti::Rifiuto> {
        autorizza(s, &Azione::GestireSolleciti).map_err(ErroreServizio::from)?;
        let mut err = crate::enti::ErroriCampi::default();
        let titolo = match Testo::parse(&d.titolo, "titolo", "Titolo", 3, 200) {
            Ok(t) => Some(t),
            Err(e) => {
                err.0.push(("titolo".into(), e.to_string()));
                None
            }
        };
        let dominio = DominioFlusso::parse(&d.dominio)
            .ok()
            .filter(|x| matches!(x, DominioFlusso::Patrimonio | DominioFlusso::Contabilita));
        if dominio.is_none() {
            err.0.push((
                "dominio".into(),
                "Scelga il dominio dei flussi richiesti.".into(),
            ));
        }
        let scadenza = data("scadenza", &d.scadenza)
            .map_err(|e| err.0.push(("scadenza".into(), e.to_string())))
            .ok();
        let chiusura = data("chiusura", &d.chiusura)
            .map_err(|e| err.0.push(("chiusura".into(), e.to_string())))
            .ok();
        let oggi = self.orologio.oggi();
        if let (Some(sc), Some(ch)) = (scadenza, chiusura) {
            if sc < oggi {
                err.0.push((
                    "scadenza".into(),
                    "La scadenza non può essere già passata.".into(),
                ));
            }
            if ch < sc {
                err.0.push((
                    "chiusura".into(),
                    "La chiusura non può precedere la scadenza.".into(),
                ));
            } else if (ch - oggi).num_days() > MAX_GIORNI {
                err.0.push((
                    "chiusura".into(),
                    "Una raccolta dura al massimo tre anni.".into(),
                ));
            }
        }
        let selezione = match self.seleziona_obiettivi(d).await {
            Ok(v) => Some(v),
            Err(ErroreDominio::Valore { campo, messaggio }) => {
                err.0.push((campo.into(), messaggio));
                None
            }
            Err(e) => return Err(ErroreServizio::from(e).into()),
        };
        let (
            Some(titolo),
            Some(dominio),
            Some(scadenza),
            Some(chiusura),
            Some((codici, descr)),
            true,
        ) = (
            titolo,
            dominio,
            scadenza,
            chiusura,
            selezione,
            err.0.is_empty(),
        )
        else {
            return Err(crate::enti::Rifiuto::Campi(err));
        };
        let chi = attore(s);
        let adesso = self.orologio.ora();
        let mut tx = self.db.inizia().await.map_err(ErroreServizio::from)?;
        let id = tx
            .crea_raccolta(
                &NuovaRaccolta {
                    titolo: titolo.as_str(),
                    dominio: dominio.as_str(),
                    scadenza,
                    chiusura,
                    selezione: &descr,
                    aperta_da: &chi,
                },
                &codici,
                adesso,
            )
            .await
            .map_err(ErroreServizio::from)?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: None,
                azione: "raccolta.aperta",
                oggetto: format!("raccolta:{id}"),
                dettagli: serde_json::json!({
                    "titolo": titolo.as_str(), "dominio": dominio.as_str(),
                    "scadenza": scadenza, "chiusura": chiusura, "obiettivi": codici.len(),
                }),
            },
            adesso,
        )
        .await
        .map_err(ErroreServizio::from)?;
        tx.commit().await.map_err(ErroreServizio::from)?;
        Ok(id)
    }

    /// "Nothing to report" for an entity in a campaign, with the reason: its legal
    /// representative or a referent of the campaign's area, while the campaign is open.
    pub async fn dichiara_nulla(
        &self,
        s: &Soggetto,
        raccolta: i64,
        ente: &CodiceEnte,
        motivo: &str,
    ) -> Esito<()> {
        let r = self
            .db
            .raccolta(raccolta)
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        let area = DominioFlusso::parse(&r.dominio)
            .map(|d| d.area())
            .unwrap_or(Area::Programmi);
        autorizza(s, &Azione::DichiarareNulla(ente, area))?;
        if !self
            .db
            .obiettivi_ente(ente.as_str())
            .await?
            .iter()
            .any(|o| o.raccolta == raccolta)
        {
            return Err(ErroreServizio::NonTrovato);
        }
        let motivo = crate::solleciti::testo_lungo(motivo, "motivo", "Motivo", 5, 2000)?;
        if self.orologio.oggi() > r.chiusura {
            return Err(ErroreServizio::Conflitto(
                "La raccolta è chiusa: non si possono più fare dichiarazioni.".into(),
            ));
        }
        let chi = attore(s);
        let adesso = self.orologio.ora();
        let mut tx = self.db.inizia().await?;
        tx.dichiara_nulla(raccolta, ente.as_str(), motivo.as_str(), &chi, adesso)
            .await
            .map_err(|e| match e {
                archivio::ErroreArchivio::NonTrovato => ErroreServizio::Conflitto(
                    "L'ente ha già dichiarato di non avere nulla da dichiarare in questa raccolta."
                        .into(),
                ),
                e => e.into(),
            })?;
        tx.audit(
            NuovaVoce {
                attore: &chi,
                ente: Some(ente.as_str()),
                azione: "raccolta.nulla_da_dichiarare",
                oggetto: format!("raccolta:{raccolta}"),
                dettagli: serde_json::json!({ "motivo": motivo.as_str() }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
