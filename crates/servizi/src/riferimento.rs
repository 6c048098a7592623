//! The entity registry's reference data: the Region, the five ARCA and the 257 Comuni, built
//! from the lists the flow engine ships (`flussi::riferimento`).

use archivio::NuovoEnte;
use flussi::riferimento::{arca, comuni};

/// All entities of the registry, ready to insert.
pub fn enti() -> Result<Vec<NuovoEnte>, String> {
    let mut v = vec![NuovoEnte {
        codice: "REGIONE".into(),
        tipo: "REGIONE",
        denominazione: "Regione Puglia".into(),
        sigla_provincia: None,
        codice_provincia: None,
        codice_catastale: None,
        popolazione: None,
        comune_sede: Some("072006".into()),
        // The whole region: every province of the reference data.
        province_competenza: Some(flussi::riferimento::sigle_province().join("|")),
    }];
    for a in arca()? {
        v.push(NuovoEnte {
            codice: a.codice,
            tipo: "ARCA",
            denominazione: a.nome,
            sigla_provincia: None,
            codice_provincia: None,
            codice_catastale: None,
            popolazione: None,
            comune_sede: Some(a.comune_sede),
            province_competenza: Some(a.province.join("|")),
        });
    }
    for c in comuni()? {
        v.push(NuovoEnte {
            denominazione: format!("Comune di {}", c.nome),
            codice: c.istat,
            tipo: "COMUNE",
            sigla_provincia: Some(c.sigla_provincia),
            codice_provincia: Some(c.codice_provincia),
            codice_catastale: Some(c.codice_catastale),
            popolazione: Some(c.popolazione),
            comune_sede: None,
            province_competenza: None,
        });
    }
    Ok(v)
}

#[cfg(test)]
mod test {
    #[test]
    fn tutti_gli_enti() {
        assert_eq!(super::enti().unwrap().len(), 263);
    }
}
