//! Authorization, decided in one place.
//!
//! Every route asks [`autorizza`] with the acting [`Soggetto`] and the [`Azione`] it wants to
//! perform; the answer is allowed, or why not. "Not found" (404) is used when the action
//! concerns another entity's reserved resource, so that its existence is not revealed.

use serde::Serialize;

use crate::{Area, CodiceEnte, CodiceFiscale, DominioFlusso};

/// A role a person holds, with the entity it is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "ruolo", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ruolo {
    AmministratoreRegione,
    IstruttoreRegione,
    LegaleRappresentante { ente: CodiceEnte },
    Referente { ente: CodiceEnte, aree: Vec<Area> },
}

/// An active role of a person (an accreditation), as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incarico {
    pub id: i64,
    pub ruolo: Ruolo,
}

/// Who is acting.
#[derive(Clone, Debug)]
pub enum Soggetto {
    Anonimo,
    /// A person logged in, with the roles valid at the time of the request.
    Persona {
        cf: CodiceFiscale,
        ruoli: Vec<Ruolo>,
    },
    /// A machine token, bound to one entity (and areas) or to the Region.
    Token {
        id: i64,
        ente: CodiceEnte,
        aree: Vec<Area>,
    },
}

/// Everything a request may want to do that needs a decision.
#[derive(Clone, Debug)]
pub enum Azione<'a> {
    /// The reserved area's home page: any logged-in person.
    AreaRiservata,
    /// Ask to register an entity as its legal representative: a person with no role there.
    RichiedereRegistrazione,
    /// See the queue of registrations and decide on them.
    DecidereRegistrazioni,
    /// Mark entities as pilots.
    GestirePilota,
    /// See the full entity registry with reserved data (API `GET /api/v1/enti` full view).
    VedereRegistroRiservato,
    /// See an entity's reserved page (referents, tokens).
    VedereEnte(&'a CodiceEnte),
    /// Accredit or revoke referents of an entity.
    GestireReferenti(&'a CodiceEnte),
    /// Create or revoke machine tokens of an entity (or the Region's).
    GestireToken(&'a CodiceEnte),
    /// Read the audit log.
    VedereAudit,
    /// Work in an area for an entity: upload and submit its flows (a referent with the area,
    /// or the entity's token with the area).
    OperareArea(&'a CodiceEnte, Area),
    /// See an entity's flows, reports and register data of an area: the Region, the entity's
    /// legal representative, its referents and tokens with that area.
    VedereDatiArea(&'a CodiceEnte, Area),
    /// See every entity's flows and registers together (the Region).
    VedereDatiRegionali,
    /// Review submitted flows: accept or reject them (Region officers and administrators, or a
    /// Region token).
    EsaminareFlussi,
    /// Read the adoption dashboard, campaigns and the reminders' log (Region staff).
    VedereMonitoraggio,
    /// Open campaigns, edit reminder templates, send reminders (a Region administrator).
    GestireSolleciti,
    /// Declare "nothing to report" for an entity in a campaign of a domain: its legal
    /// representative or a referent of the domain's area.
    DichiarareNulla(&'a CodiceEnte, Area),
    /// Upload, submit or withdraw an entity's flow of a domain. The entity's domains need its
    /// referent (or token) with the domain's area; `programmi` is the Region's own: only the
    /// Region sends it, by an administrator or a Region token.
    OperareFlusso(&'a CodiceEnte, DominioFlusso),
    /// Accept or reject a submitted flow of a domain: the Region's officers and
    /// administrators; for `programmi`, which every entity's accounting refers to, an
    /// administrator (or a Region token).
    EsaminareFlusso(DominioFlusso),
    /// Write, change and withdraw news (comunicazioni) and their banners: Region
    /// administrators.
    PubblicareComunicazioni,
    /// Read the whole outbox (every message, its state and error) and queue a failed message
    /// again: Region administrators.
    GestirePosta,
}

/// Why an action is refused; maps to 401, 403 or 404.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negato {
    NonAutenticato,
    Vietato,
    NonTrovato,
}

impl Soggetto {
    pub fn is_regione_admin(&self) -> bool {
        match self {
            Soggetto::Persona { ruoli, .. } => ruoli.contains(&Ruolo::AmministratoreRegione),
            Soggetto::Token { ente, .. } => ente.is_regione(),
            Soggetto::Anonimo => false,
        }
    }

    /// Region administrator or officer (or a Region token).
    pub fn is_regione(&self) -> bool {
        match self {
            Soggetto::Persona { ruoli, .. } => ruoli
                .iter()
                .any(|r| matches!(r, Ruolo::AmministratoreRegione | Ruolo::IstruttoreRegione)),
            Soggetto::Token { ente, .. } => ente.is_regione(),
            Soggetto::Anonimo => false,
        }
    }

    pub fn is_legale_rappresentante(&self, e: &CodiceEnte) -> bool {
        matches!(self, Soggetto::Persona { ruoli, .. }
            if ruoli.iter().any(|r| matches!(r, Ruolo::LegaleRappresentante { ente } if ente == e)))
    }

    /// True when the subject has any tie to the entity (representative, referent, token).
    pub fn appartiene_a(&self, e: &CodiceEnte) -> bool {
        match self {
            Soggetto::Persona { ruoli, .. } => ruoli.iter().any(|r| match r {
                Ruolo::LegaleRappresentante { ente } | Ruolo::Referente { ente, .. } => ente == e,
                _ => false,
            }),
            Soggetto::Token { ente, .. } => ente == e,
            Soggetto::Anonimo => false,
        }
    }

    pub fn ha_area(&self, e: &CodiceEnte, area: Area) -> bool {
        match self {
            Soggetto::Persona { ruoli, .. } => ruoli.iter().any(|r| {
                matches!(r, Ruolo::Referente { ente, aree } if ente == e && aree.contains(&area))
            }),
            Soggetto::Token { ente, aree, .. } => ente == e && aree.contains(&area),
            Soggetto::Anonimo => false,
        }
    }

    /// The entities the subject acts for (not the Region).
    pub fn enti(&self) -> Vec<CodiceEnte> {
        let mut v: Vec<CodiceEnte> = match self {
            Soggetto::Persona { ruoli, .. } => ruoli
                .iter()
                .filter_map(|r| match r {
                    Ruolo::LegaleRappresentante { ente } | Ruolo::Referente { ente, .. } => {
                        Some(ente.clone())
                    }
                    _ => None,
                })
                .collect(),
            Soggetto::Token { ente, .. } if !ente.is_regione() => vec![ente.clone()],
            _ => vec![],
        };
        v.sort();
        v.dedup();
        v
    }

    pub fn is_persona(&self) -> bool {
        matches!(self, Soggetto::Persona { .. })
    }
}

/// The authorization policy. Every route calls this, and only this, to decide.
pub fn autorizza(s: &Soggetto, azione: &Azione<'_>) -> Result<(), Negato> {
    use Azione::*;
    if matches!(s, Soggetto::Anonimo) {
        return Err(Negato::NonAutenticato);
    }
    let consenti = |ok: bool| if ok { Ok(()) } else { Err(Negato::Vietato) };
    // Reserved resources of an entity: an outsider gets "not found", an insider without the
    // needed role gets "forbidden".
    let dell_ente = |e: &CodiceEnte, ok: bool| {
        if ok {
            Ok(())
        } else if s.appartiene_a(e) || s.is_regione() {
            Err(Negato::Vietato)
        } else {
            Err(Negato::NonTrovato)
        }
    };
    match azione {
        AreaRiservata => consenti(s.is_persona()),
        RichiedereRegistrazione => consenti(s.is_persona() && !s.is_regione()),
        DecidereRegistrazioni | GestirePilota => consenti(s.is_persona() && s.is_regione_admin()),
        VedereRegistroRiservato => consenti(s.is_regione()),
        VedereAudit => consenti(s.is_persona() && s.is_regione()),
        VedereEnte(e) => dell_ente(e, s.is_regione() || (s.is_persona() && s.appartiene_a(e))),
        GestireReferenti(e) => dell_ente(e, s.is_persona() && s.is_legale_rappresentante(e)),
        GestireToken(e) => dell_ente(
            e,
            s.is_persona() && (s.is_regione_admin() || s.is_legale_rappresentante(e)),
        ),
        OperareArea(e, area) => dell_ente(e, s.ha_area(e, *area)),
        VedereDatiArea(e, area) => dell_ente(
            e,
            s.is_regione() || s.ha_area(e, *area) || s.is_legale_rappresentante(e),
        ),
        VedereDatiRegionali | EsaminareFlussi => consenti(s.is_regione()),
        VedereMonitoraggio => consenti(s.is_regione()),
        GestireSolleciti => consenti(s.is_persona() && s.is_regione_admin()),
        DichiarareNulla(e, area) => dell_ente(
            e,
            s.is_persona() && (s.is_legale_rappresentante(e) || s.ha_area(e, *area)),
        ),
        OperareFlusso(e, DominioFlusso::Programmi) => {
            dell_ente(e, e.is_regione() && s.is_regione_admin())
        }
        OperareFlusso(e, d) => dell_ente(e, s.ha_area(e, d.area())),
        EsaminareFlusso(DominioFlusso::Programmi) => consenti(s.is_regione_admin()),
        EsaminareFlusso(_) => consenti(s.is_regione()),
        PubblicareComunicazioni | GestirePosta => consenti(s.is_persona() && s.is_regione_admin()),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn persona(ruoli: Vec<Ruolo>) -> Soggetto {
        Soggetto::Persona {
            cf: CodiceFiscale::parse("RSSMRA80A01H501U").unwrap(),
            ruoli,
        }
    }

    #[test]
    fn matrice_essenziale() {
        let bari = CodiceEnte::parse("072006").unwrap();
        let andria = CodiceEnte::parse("110001").unwrap();
        let lr_bari = persona(vec![Ruolo::LegaleRappresentante { ente: bari.clone() }]);
        let ref_bari = persona(vec![Ruolo::Referente {
            ente: bari.clone(),
            aree: vec![Area::Patrimonio],
        }]);
        let admin = persona(vec![Ruolo::AmministratoreRegione]);
        let istr = persona(vec![Ruolo::IstruttoreRegione]);

        assert_eq!(
            autorizza(&Soggetto::Anonimo, &Azione::AreaRiservata),
            Err(Negato::NonAutenticato)
        );
        assert_eq!(
            autorizza(&lr_bari, &Azione::GestireReferenti(&bari)),
            Ok(())
        );
        assert_eq!(
            autorizza(&lr_bari, &Azione::GestireReferenti(&andria)),
            Err(Negato::NonTrovato)
        );
        assert_eq!(
            autorizza(&ref_bari, &Azione::GestireReferenti(&bari)),
            Err(Negato::Vietato)
        );
        assert_eq!(
            autorizza(&ref_bari, &Azione::OperareArea(&bari, Area::Patrimonio)),
            Ok(())
        );
        assert_eq!(
            autorizza(&ref_bari, &Azione::OperareArea(&bari, Area::Programmi)),
            Err(Negato::Vietato)
        );
        assert_eq!(autorizza(&admin, &Azione::DecidereRegistrazioni), Ok(()));
        assert_eq!(
            autorizza(&istr, &Azione::DecidereRegistrazioni),
            Err(Negato::Vietato)
        );
        assert_eq!(autorizza(&istr, &Azione::VedereAudit), Ok(()));
        assert_eq!(
            autorizza(&admin, &Azione::RichiedereRegistrazione),
            Err(Negato::Vietato)
        );
    }

    #[test]
    fn flussi_per_area_e_programmi_solo_della_regione() {
        use DominioFlusso::{Contabilita, Patrimonio, Programmi};
        let bari = CodiceEnte::parse("072006").unwrap();
        let regione = CodiceEnte::parse("REGIONE").unwrap();
        let ref_pat = persona(vec![Ruolo::Referente {
            ente: bari.clone(),
            aree: vec![Area::Patrimonio],
        }]);
        let ref_prog = persona(vec![Ruolo::Referente {
            ente: bari.clone(),
            aree: vec![Area::Programmi],
        }]);
        let admin = persona(vec![Ruolo::AmministratoreRegione]);
        let istr = persona(vec![Ruolo::IstruttoreRegione]);
        let token_regione = Soggetto::Token {
            id: 1,
            ente: regione.clone(),
            aree: vec![],
        };
        let token_bari = Soggetto::Token {
            id: 2,
            ente: bari.clone(),
            aree: vec![Area::Programmi],
        };
        let op = |s: &Soggetto, e: &CodiceEnte, d| autorizza(s, &Azione::OperareFlusso(e, d));
        // Per area: assets need PATRIMONIO, accounting needs PROGRAMMI.
        assert_eq!(op(&ref_pat, &bari, Patrimonio), Ok(()));
        assert_eq!(op(&ref_pat, &bari, Contabilita), Err(Negato::Vietato));
        assert_eq!(op(&ref_prog, &bari, Contabilita), Ok(()));
        assert_eq!(op(&ref_prog, &bari, Patrimonio), Err(Negato::Vietato));
        assert_eq!(op(&token_bari, &bari, Contabilita), Ok(()));
        // Programmes: only the Region, for itself, by an administrator or its token.
        assert_eq!(op(&admin, &regione, Programmi), Ok(()));
        assert_eq!(op(&token_regione, &regione, Programmi), Ok(()));
        assert_eq!(op(&istr, &regione, Programmi), Err(Negato::Vietato));
        assert_eq!(op(&ref_prog, &bari, Programmi), Err(Negato::Vietato));
        assert_eq!(op(&token_bari, &bari, Programmi), Err(Negato::Vietato));
        assert_eq!(op(&ref_prog, &regione, Programmi), Err(Negato::NonTrovato));
        assert_eq!(op(&admin, &bari, Programmi), Err(Negato::Vietato));
        // Review: officers for the entities' flows, administrators for programmes.
        let esamina = |s: &Soggetto, d| autorizza(s, &Azione::EsaminareFlusso(d));
        assert_eq!(esamina(&istr, Contabilita), Ok(()));
        assert_eq!(esamina(&istr, Patrimonio), Ok(()));
        assert_eq!(esamina(&istr, Programmi), Err(Negato::Vietato));
        assert_eq!(esamina(&admin, Programmi), Ok(()));
        assert_eq!(esamina(&token_regione, Programmi), Ok(()));
        assert_eq!(esamina(&ref_prog, Contabilita), Err(Negato::Vietato));
    }
}
