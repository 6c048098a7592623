//! JSON flows (`{"table": [ {"field": value, ...}, ... ], ...}`), streamed: each table is read
//! in its own pass over the input, visiting one row object at a time, so no table is ever held
//! in memory. Values may be strings, numbers, booleans or null.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::dati::Dati;
use super::{Cella, Continua, ErroreLettura, Evento, InfoTabella, Limiti, Sorgente};

pub struct Json {
    dati: Dati,
    limiti: Limiti,
}

impl Json {
    pub fn new(dati: Dati, limiti: Limiti) -> Self {
        Self { dati, limiti }
    }

    fn passa(
        &self,
        seme: impl for<'de> DeserializeSeed<'de, Value = ()>,
    ) -> Result<(), ErroreLettura> {
        let f = self
            .dati
            .apri()
            .map_err(|e| ErroreLettura::Illeggibile(format!("il file non si legge: {e}")))?;
        let mut de = serde_json::Deserializer::from_reader(f);
        match seme.deserialize(&mut de) {
            Ok(()) => de.end().map_err(errore_json),
            Err(e) => Err(errore_json(e)),
        }
    }
}

/// The marker of an error raised by us inside the deserializer (limits, early stop).
const STOP: &str = "\u{0}push-stop";

fn errore_json(e: serde_json::Error) -> ErroreLettura {
    let m = e.to_string();
    if let Some(resto) = m.strip_prefix(STOP) {
        return match resto.split_once(':') {
            Some(("limite", msg)) => ErroreLettura::Limite(
                msg.split(" at line")
                    .next()
                    .unwrap_or(msg)
                    .trim()
                    .to_string(),
            ),
            _ => ErroreLettura::Illeggibile(resto.to_string()),
        };
    }
    if m.contains("valid UTF-8") || m.contains("invalid unicode code point") {
        return ErroreLettura::Codifica("il file JSON non è in UTF-8".into());
    }
    ErroreLettura::Illeggibile(format!(
        "il file JSON non è valido alla riga {}, colonna {}: deve essere un oggetto {{\"tabella\": [{{\"campo\": valore, ...}}]}}",
        e.line(),
        e.column()
    ))
}

impl Sorgente for Json {
    fn tabelle(&mut self) -> Result<Vec<InfoTabella>, ErroreLettura> {
        let mut nomi = Vec::new();
        self.passa(Chiavi(&mut nomi))?;
        Ok(nomi
            .into_iter()
            .map(|nome| InfoTabella {
                nome,
                nascosta: false,
            })
            .collect())
    }

    fn leggi(
        &mut self,
        tabella: &str,
        visita: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<(), ErroreLettura> {
        let limiti = self.limiti.clone();
        match self.passa(Tabella {
            nome: tabella,
            visita,
            limiti: &limiti,
        }) {
            Err(ErroreLettura::Illeggibile(m)) if m == "fine" => Ok(()),
            r => r,
        }
    }
}

struct Chiavi<'a>(&'a mut Vec<String>);

impl<'de> DeserializeSeed<'de> for Chiavi<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Chiavi<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("un oggetto con una chiave per tabella")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        while let Some(k) = m.next_key::<String>()? {
            m.next_value::<IgnoredAny>()?;
            if !self.0.contains(&k) {
                self.0.push(k);
            }
        }
        Ok(())
    }
}

struct Tabella<'a> {
    nome: &'a str,
    visita: &'a mut dyn FnMut(Evento<'_>) -> Continua,
    limiti: &'a Limiti,
}

impl<'de> DeserializeSeed<'de> for Tabella<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Tabella<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("un oggetto con una chiave per tabella")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let mut fatta = false;
        while let Some(k) = m.next_key::<String>()? {
            if k == self.nome && !fatta {
                fatta = true;
                m.next_value_seed(Righe {
                    visita: &mut *self.visita,
                    limiti: self.limiti,
                })?;
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Righe<'a> {
    visita: &'a mut dyn FnMut(Evento<'_>) -> Continua,
    limiti: &'a Limiti,
}

impl<'de> DeserializeSeed<'de> for Righe<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Righe<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("un elenco di righe (oggetti)")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let mut numero = 0u64;
        let mut campi: Vec<(String, Cella)> = Vec::new();
        while s
            .next_element_seed(Oggetto {
                campi: &mut campi,
                limiti: self.limiti,
            })?
            .is_some()
        {
            numero += 1;
            if numero.is_multiple_of(1024) {
                self.limiti
                    .controlla_tempo()
                    .map_err(|e| A::Error::custom(format!("{STOP}limite:{e}")))?;
            }
            if (self.visita)(Evento::RigaNominata {
                numero,
                campi: &campi,
            }) == Continua::No
            {
                return Err(A::Error::custom(format!("{STOP}fine")));
            }
        }
        Ok(())
    }
}

struct Oggetto<'a> {
    campi: &'a mut Vec<(String, Cella)>,
    limiti: &'a Limiti,
}

impl<'de> DeserializeSeed<'de> for Oggetto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Oggetto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("una riga: un oggetto {\"campo\": valore}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        use serde::de::Error;
        self.campi.clear();
        while let Some(k) = m.next_key::<String>()? {
            let v: serde_json::Value = m.next_value()?;
            let cella = match v {
                serde_json::Value::Null => Cella::Vuota,
                serde_json::Value::String(s) => {
                    if s.len() > self.limiti.max_cella {
                        return Err(A::Error::custom(format!(
                            "{STOP}limite:il campo «{k}» contiene un valore di {} byte: il massimo è {}",
                            s.len(),
                            self.limiti.max_cella
                        )));
                    }
                    if s.trim().is_empty() {
                        Cella::Vuota
                    } else {
                        Cella::Testo(s)
                    }
                }
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) => Cella::Numero(f),
                    None => Cella::Testo(n.to_string()),
                },
                serde_json::Value::Bool(b) => Cella::Booleano(b),
                _ => Cella::Errore("un elenco o un oggetto invece di un valore".into()),
            };
            if self.campi.len() >= self.limiti.max_colonne {
                return Err(A::Error::custom(format!(
                    "{STOP}limite:una riga ha più di {} campi",
                    self.limiti.max_colonne
                )));
            }
            self.campi.push((k, cella));
        }
        Ok(())
    }
}
