//! Reference data shipped inside the binary: the 257 Comuni of Puglia (ISTAT) and the five ARCA
//! with the provinces they cover. Used by the validator (`comune`, `fuori_territorio`) and by the
//! platform to fill the entity registry.

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

static INDICE_COMUNI: std::sync::OnceLock<std::collections::HashMap<String, Comune>> =
    std::sync::OnceLock::new();
static INDICE_ARCA: std::sync::OnceLock<Vec<Arca>> = std::sync::OnceLock::new();

/// A Comune by ISTAT code (the shipped list is part of the build: a parse failure leaves the
/// index empty and every code unknown, which tests catch).
pub fn comune(istat: &str) -> Option<&'static Comune> {
    INDICE_COMUNI
        .get_or_init(|| {
            comuni()
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.istat.clone(), c))
                .collect()
        })
        .get(istat)
}

/// An ARCA by code.
pub fn arca_per_codice(codice: &str) -> Option<&'static Arca> {
    INDICE_ARCA
        .get_or_init(|| arca().unwrap_or_default())
        .iter()
        .find(|a| a.codice == codice)
}

#[cfg(test)]
mod test {
    #[test]
    fn dati_di_riferimento_completi() {
        let c = super::comuni().unwrap();
        assert_eq!(c.len(), 257);
        assert!(c.iter().all(|c| c.istat.len() == 6));
        assert_eq!(super::arca().unwrap().len(), 5);
        assert_eq!(super::comune("072006").unwrap().nome, "Bari");
        assert!(super::comune("72006").is_none());
        assert_eq!(
            super::arca_per_codice("ARCA-PC").unwrap().province,
            ["BA", "BT"]
        );
    }
}
