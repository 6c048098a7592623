//! Adoption monitoring (spec README §6): who registered, which pilots did not, who sent
//! which flows and how old each entity's last accepted flow is; and the status paragraph in
//! the style of the Region's notice of 12 March 2018, written from the same figures.

use std::collections::BTreeMap;

use archivio::Ente;
use chrono::{DateTime, Utc};
use dominio::politica::{Azione, Soggetto, autorizza};
use serde::Serialize;

use crate::{Esito, Piattaforma};

/// The domains, in the order pages and the paragraph list them.
pub const DOMINI: [&str; 2] = ["patrimonio", "contabilita"];

/// The adoption figures of `api.md` («Monitoring»), plus the lists behind them.
#[derive(Clone, Debug, Serialize)]
pub struct Adesione {
    pub enti_registrati: usize,
    pub pilota_totali: usize,
    pub pilota_registrati: usize,
    pub non_pilota_registrati: usize,
    /// Codes, sorted.
    pub pilota_non_registrati: Vec<String>,
    /// Per domain, the codes of the entities with a flow from `inviato` on, sorted.
    pub con_flussi: BTreeMap<String, Vec<String>>,
    /// Per domain, the codes of the entities with an accepted flow, sorted.
    pub con_flussi_accettati: BTreeMap<String, Vec<String>>,
}

/// One domain's flows of an entity on the dashboard.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StatoDominio {
    pub ultimo_stato: Option<String>,
    pub ultimo_il: Option<DateTime<Utc>>,
    pub ultimo_accettato_il: Option<DateTime<Utc>>,
    /// Days since the last accepted flow (Rome dates).
    pub eta_giorni: Option<i64>,
}

/// One entity's row on the dashboard.
#[derive(Clone, Debug, Serialize)]
pub struct RigaAdesione {
    pub codice: String,
    pub denominazione: String,
    pub tipo: String,
    pub provincia: String,
    pub pilota: bool,
    pub registrato_il: Option<DateTime<Utc>>,
    /// Active referents per area (`PATRIMONIO`, `PROGRAMMI`).
    pub referenti: BTreeMap<String, usize>,
    pub domini: BTreeMap<String, StatoDominio>,
}

/// Filters of the dashboard's table.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
pub struct FiltroAdesione {
    pub q: Option<String>,
    pub tipo: Option<String>,
    pub provincia: Option<String>,
    /// `si` / `no`.
    pub registrato: Option<String>,
    pub pilota: Option<String>,
    /// A domain: only entities with a flow of it (`si`) or without (`no`).
    pub patrimonio: Option<String>,
    pub contabilita: Option<String>,
}

fn si_no(v: &Option<String>, b: bool) -> bool {
    match v.as_deref() {
        Some("si") => b,
        Some("no") => !b,
        _ => true,
    }
}

impl FiltroAdesione {
    fn ammette(&self, r: &RigaAdesione) -> bool {
        let testo = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase)
        };
        if let Some(q) = testo(&self.q)
            && !r.denominazione.to_lowercase().contains(&q)
            && !r.codice.to_lowercase().contains(&q)
        {
            return false;
        }
        if let Some(t) = testo(&self.tipo)
            && !r.tipo.eq_ignore_ascii_case(&t)
        {
            return false;
        }
        if let Some(p) = testo(&self.provincia)
            && !r.provincia.to_lowercase().split(", ").any(|x| x == p)
        {
            return false;
        }
        let ha = |d: &str| r.domini.get(d).is_some_and(|s| s.ultimo_stato.is_some());
        si_no(&self.registrato, r.registrato_il.is_some())
            && si_no(&self.pilota, r.pilota)
            && si_no(&self.patrimonio, ha("patrimonio"))
            && si_no(&self.contabilita, ha("contabilita"))
    }
}

/// The province(s) an entity belongs to, for filters and the table.
pub fn provincia(e: &Ente) -> String {
    e.sigla_provincia
        .clone()
        .or_else(|| e.province_competenza.as_ref().map(|p| p.replace('|', ", ")))
        .unwrap_or_default()
}

impl Piattaforma {
    /// The adoption figures (Region staff and Region tokens).
    pub async fn adesione(&self, s: &Soggetto) -> Esito<Adesione> {
        autorizza(s, &Azione::VedereMonitoraggio)?;
        let enti = self.db.enti().await?;
        let enti: Vec<&Ente> = enti.iter().filter(|e| e.tipo != "REGIONE").collect();
        let reg = |e: &&&Ente| e.registrato_il.is_some();
        let mut pilota_non_registrati: Vec<String> = enti
            .iter()
            .filter(|e| e.pilota && e.registrato_il.is_none())
            .map(|e| e.codice.clone())
            .collect();
        pilota_non_registrati.sort();
        let vuoto = || -> BTreeMap<String, Vec<String>> {
            DOMINI.iter().map(|d| (d.to_string(), vec![])).collect()
        };
        let mut con_flussi = vuoto();
        for (d, e) in self.db.enti_con_flussi().await? {
            con_flussi.entry(d).or_default().push(e);
        }
        let mut con_flussi_accettati = vuoto();
        for (e, d, _) in self.db.ultimi_accettati().await? {
            con_flussi_accettati.entry(d).or_default().push(e);
        }
        for v in con_flussi
            .values_mut()
            .chain(con_flussi_accettati.values_mut())
        {
            v.sort();
            v.dedup();
        }
        Ok(Adesione {
            enti_registrati: enti.iter().filter(reg).count(),
            pilota_totali: enti.iter().filter(|e| e.pilota).count(),
            pilota_registrati: enti.iter().filter(|e| e.pilota).filter(reg).count(),
            non_pilota_registrati: enti.iter().filter(|e| !e.pilota).filter(reg).count(),
            pilota_non_registrati,
            con_flussi,
            con_flussi_accettati,
        })
    }

    /// The dashboard's table: every entity but the Region, filtered.
    pub async fn righe_adesione(
        &self,
        s: &Soggetto,
        filtro: &FiltroAdesione,
    ) -> Esito<Vec<RigaAdesione>> {
        autorizza(s, &Azione::VedereMonitoraggio)?;
        let oggi = self.orologio.oggi();
        let mut referenti: BTreeMap<(String, String), usize> = BTreeMap::new();
        for i in self.db.persone_con_incarichi().await? {
            if i.ruolo == "REFERENTE" {
                for a in i.aree.split(',').filter(|a| !a.is_empty()) {
                    *referenti
                        .entry((i.ente.clone(), a.to_string()))
                        .or_default() += 1;
                }
            }
        }
        let mut domini: BTreeMap<(String, String), StatoDominio> = BTreeMap::new();
        for f in self.db.ultimi_flussi().await? {
            let d = domini.entry((f.ente, f.dominio)).or_default();
            d.ultimo_stato = Some(f.stato);
            d.ultimo_il = Some(f.caricato_il);
        }
        for (e, dom, quando) in self.db.ultimi_accettati().await? {
            let d = domini.entry((e, dom)).or_default();
            d.ultimo_accettato_il = Some(quando);
            d.eta_giorni = Some((oggi - dominio::orologio::oggi_a(quando)).num_days());
        }
        Ok(self
            .db
            .enti()
            .await?
            .into_iter()
            .filter(|e| e.tipo != "REGIONE")
            .map(|e| RigaAdesione {
                referenti: ["PATRIMONIO", "PROGRAMMI"]
                    .iter()
                    .map(|a| {
                        let n = referenti
                            .get(&(e.codice.clone(), a.to_string()))
                            .copied()
                            .unwrap_or(0);
                        (a.to_string(), n)
                    })
                    .collect(),
                domini: DOMINI
                    .iter()
                    .map(|d| {
                        let s = domini
                            .get(&(e.codice.clone(), d.to_string()))
                            .cloned()
                            .unwrap_or_default();
                        (d.to_string(), s)
                    })
                    .collect(),
                provincia: provincia(&e),
                codice: e.codice,
                denominazione: e.denominazione,
                tipo: e.tipo,
                pilota: e.pilota,
                registrato_il: e.registrato_il,
            })
            .filter(|r| filtro.ammette(r))
            .collect())
    }

    /// The status paragraph (api.md `GET /api/v1/monitoraggio/comunicato`), as of today.
    pub async fn comunicato(&self, s: &Soggetto) -> Esito<String> {
        let a = self.adesione(s).await?;
        let enti = self.db.enti().await?;
        Ok(scrivi_comunicato(&a, &enti, self.orologio.oggi()))
    }
}

/// `a, b e c`.
fn elenco(v: &[String]) -> String {
    match v {
        [] => String::new(),
        [x] => x.clone(),
        [testa @ .., ultimo] => format!("{} e {ultimo}", testa.join(", ")),
    }
}

/// Entities named as the notice does: the ARCA by name, then «il Comune di X» or «i Comuni
/// di X, Y e Z», each group sorted by name.
fn nomina(codici: &[String], enti: &[Ente]) -> String {
    let mut arca = Vec::new();
    let mut comuni = Vec::new();
    for c in codici {
        match enti.iter().find(|e| &e.codice == c) {
            Some(e) if e.tipo == "COMUNE" => comuni.push(
                e.denominazione
                    .strip_prefix("Comune di ")
                    .unwrap_or(&e.denominazione)
                    .to_string(),
            ),
            Some(e) => arca.push(e.denominazione.clone()),
            None => arca.push(c.clone()),
        }
    }
    arca.sort();
    comuni.sort();
    let mut parti = arca;
    match comuni.len() {
        0 => {}
        1 => parti.push(format!("il Comune di {}", comuni[0])),
        _ => parti.push(format!("i Comuni di {}", elenco(&comuni))),
    }
    elenco(&parti)
}

fn enti_n(n: usize) -> String {
    if n == 1 {
        "1 ente".into()
    } else {
        format!("{n} enti")
    }
}

/// What a domain's flows are called in the paragraph.
fn nome_flussi(dominio: &str) -> &'static str {
    match dominio {
        "patrimonio" => "del patrimonio",
        _ => "della contabilità storica dei cantieri finanziati",
    }
}

/// The paragraph, from the figures (pure, so tests can read it against fixed data).
pub fn scrivi_comunicato(a: &Adesione, enti: &[Ente], oggi: chrono::NaiveDate) -> String {
    let codici = |f: &dyn Fn(&Ente) -> bool| -> Vec<String> {
        enti.iter()
            .filter(|e| e.tipo != "REGIONE" && f(e))
            .map(|e| e.codice.clone())
            .collect()
    };
    let pilota_reg = codici(&|e| e.pilota && e.registrato_il.is_some());
    let altri_reg = codici(&|e| !e.pilota && e.registrato_il.is_some());
    let data = oggi.format("%d/%m/%Y");
    let mut t = if a.enti_registrati == 0 {
        format!("Alla data del {data} nessun ente risulta registrato sulla piattaforma PUSH.")
    } else {
        let verbo = if a.enti_registrati == 1 {
            "risulta registrato"
        } else {
            "risultano registrati"
        };
        let mut parti = Vec::new();
        if a.pilota_totali > 0 {
            parti.push(if pilota_reg.is_empty() {
                format!("nessuno dei {} enti pilota", a.pilota_totali)
            } else {
                format!(
                    "{} dei {} enti pilota ({})",
                    a.pilota_registrati,
                    a.pilota_totali,
                    nomina(&pilota_reg, enti)
                )
            });
        }
        if !altri_reg.is_empty() {
            parti.push(format!(
                "{} non pilota ({})",
                enti_n(a.non_pilota_registrati),
                nomina(&altri_reg, enti)
            ));
        }
        format!(
            "Alla data del {data} {verbo} sulla piattaforma PUSH {}: {}.",
            enti_n(a.enti_registrati),
            elenco(&parti)
        )
    };
    match a.pilota_non_registrati.len() {
        0 if a.pilota_totali > 0 => t.push_str(" Tutti gli enti pilota risultano registrati."),
        0 => {}
        1 => t.push_str(&format!(
            " Non risulta ancora registrato, tra gli enti pilota, {}.",
            nomina(&a.pilota_non_registrati, enti)
        )),
        _ => t.push_str(&format!(
            " Non risultano ancora registrati, tra gli enti pilota, {}.",
            nomina(&a.pilota_non_registrati, enti)
        )),
    }
    for d in DOMINI {
        let v = a.con_flussi.get(d).cloned().unwrap_or_default();
        match v.len() {
            0 => t.push_str(&format!(
                " Nessun ente ha ancora inviato flussi {}.",
                nome_flussi(d)
            )),
            1 => t.push_str(&format!(
                " Ha avviato l'invio dei flussi {} 1 ente: {}.",
                nome_flussi(d),
                nomina(&v, enti)
            )),
            n => t.push_str(&format!(
                " Hanno avviato l'invio dei flussi {} {n} enti: {}.",
                nome_flussi(d),
                nomina(&v, enti)
            )),
        }
    }
    if !a.pilota_non_registrati.is_empty() {
        t.push_str(
            " Si sollecitano gli enti pilota non ancora registrati a completare la registrazione \
             e tutti gli enti registrati a inviare i propri flussi.",
        );
    } else if a.enti_registrati > 0 {
        t.push_str(" Si sollecitano gli enti registrati a inviare i propri flussi.");
    }
    t
}
