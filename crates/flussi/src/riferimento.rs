//! Reference data shipped inside the binary: the 257 Comuni of Puglia (ISTAT), the six
//! provinces they belong to (ISTAT code, two-letter code, name) and the five ARCA with the
//! provinces they cover. Used by the validator (`comune`, `fuori_territorio`), by the platform
//! to fill the entity registry, and wherever a province is named (dashboards, filters).

const COMUNI: &str = include_str!("../../../data/comuni_puglia.csv");
const PROVINCE: &str = include_str!("../../../data/province_puglia.csv");
const ARCA: &str = include_str!("../../../data/arca.csv");

/// A province of Puglia (ISTAT's list of the supra-municipal units).
#[derive(Clone, Debug)]
pub struct Provincia {
    pub sigla: String,
    pub codice_istat: String,
    pub nome: String,
}

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

/// Parses the shipped provinces file (in ISTAT code order).
pub fn province() -> Result<Vec<Provincia>, String> {
    let mut r = csv::Reader::from_reader(PROVINCE.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| format!("province_puglia.csv: {e}"))?;
            let campo = |i: usize| rec.get(i).unwrap_or_default().trim().to_string();
            Ok(Provincia {
                sigla: campo(0),
                codice_istat: campo(1),
                nome: campo(2),
            })
        })
        .collect()
}

static INDICE_PROVINCE: std::sync::OnceLock<Vec<Provincia>> = std::sync::OnceLock::new();

/// The provinces, in ISTAT code order (empty only if the shipped file were broken, which the
/// tests catch).
pub fn elenco_province() -> &'static [Provincia] {
    INDICE_PROVINCE.get_or_init(|| province().unwrap_or_default())
}

/// The provinces' two-letter codes in the order of their names (`BA`, `BT`, `BR`, …): the
/// filters' options and the Region's area.
pub fn sigle_province() -> Vec<&'static str> {
    let mut v: Vec<&Provincia> = elenco_province().iter().collect();
    v.sort_by(|a, b| a.nome.cmp(&b.nome));
    v.into_iter().map(|p| p.sigla.as_str()).collect()
}

/// A province by its two-letter code (`BT`).
pub fn provincia(sigla: &str) -> Option<&'static Provincia> {
    elenco_province().iter().find(|p| p.sigla == sigla)
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
        assert_eq!(
            super::provincia("BT").unwrap().nome,
            "Barletta-Andria-Trani"
        );
        assert_eq!(
            super::sigle_province(),
            ["BA", "BT", "BR", "FG", "LE", "TA"]
        );
    }

    /// The provinces file and the Comuni agree: every Comune's (code, ISTAT code) pair is one
    /// province, and every province has Comuni; the ARCA cover only these.
    #[test]
    fn province_coerenti_con_i_comuni() {
        use std::collections::BTreeSet;
        let p = super::province().unwrap();
        assert_eq!(p.len(), 6);
        let dalle_province: BTreeSet<(String, String)> = p
            .iter()
            .map(|p| (p.sigla.clone(), p.codice_istat.clone()))
            .collect();
        let dai_comuni: BTreeSet<(String, String)> = super::comuni()
            .unwrap()
            .into_iter()
            .map(|c| (c.sigla_provincia, c.codice_provincia))
            .collect();
        assert_eq!(dalle_province, dai_comuni);
        assert!(p.iter().all(|p| !p.nome.is_empty()));
        for a in super::arca().unwrap() {
            for s in &a.province {
                assert!(super::provincia(s).is_some(), "{}: {s}", a.codice);
            }
        }
    }
}
