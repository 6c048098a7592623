//! Reference data shipped inside the binary: the 257 Comuni of Puglia, the five ARCA and the
//! Region. Loaded into the registry at first start (and added if missing at later starts).

use archivio::NuovoEnte;

const COMUNI: &str = include_str!("../../../data/comuni_puglia.csv");
const ARCA: &str = include_str!("../../../data/arca.csv");

/// A Comune from the ISTAT list.
#[derive(Clone, Debug)]
pub struct Comune {
    pub istat: String,
    pub nome: String,
    pub sigla_provincia: String,
    pub codice_provincia: String,
    pub codice_catastale: String,
    pub popolazione: i64,
}

/// An ARCA with the provinces it covers.
#[derive(Clone, Debug)]
pub struct Arca {
    pub codice: String,
    pub nome: String,
    pub comune_sede: String,
    pub province: Vec<String>,
}

/// Parses the shipped Comuni file. The file is part of the build, so an error here is a
/// packaging bug, reported rather than panicking.
pub fn comuni() -> Result<Vec<Comune>, String> {
    let mut r = csv::Reader::from_reader(COMUNI.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| format!("comuni_puglia.csv: {e}"))?;
            let campo = |i: usize| rec.get(i).unwrap_or_default().trim().to_string();
            Ok(Comune {
                istat: campo(0),
                nome: campo(1),
                sigla_provincia: campo(2),
                codice_provincia: campo(3),
                codice_catastale: campo(4),
                popolazione: campo(5)
                    .parse()
                    .map_err(|_| format!("popolazione non numerica per {}", campo(0)))?,
            })
        })
        .collect()
}

pub fn arca() -> Result<Vec<Arca>, String> {
    let mut r = csv::Reader::from_reader(ARCA.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| format!("arca.csv: {e}"))?;
            let campo = |i: usize| rec.get(i).unwrap_or_default().trim().to_string();
            Ok(Arca {
                codice: campo(0),
                nome: campo(1),
                comune_sede: campo(2),
                province: campo(3).split('|').map(|s| s.trim().to_string()).collect(),
            })
        })
        .collect()
}

/// All entities of the registry, ready to insert.
pub fn enti() -> Result<Vec<NuovoEnte>, String> {
    let mut v = vec![NuovoEnte {
        codice: dominio::ente::REGIONE.into(),
        tipo: "REGIONE",
        denominazione: "Regione Puglia".into(),
        sigla_provincia: None,
        codice_provincia: None,
        codice_catastale: None,
        popolazione: None,
        comune_sede: Some("072006".into()),
        province_competenza: Some("BA|BT|BR|FG|LE|TA".into()),
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
    fn dati_di_riferimento_completi() {
        let c = super::comuni().unwrap();
        assert_eq!(c.len(), 257);
        assert!(c.iter().all(|c| c.istat.len() == 6));
        assert_eq!(super::arca().unwrap().len(), 5);
        assert_eq!(super::enti().unwrap().len(), 263);
    }
}
