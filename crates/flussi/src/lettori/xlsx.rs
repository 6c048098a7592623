//! TEMPORARY: replaced by the streaming XLSX reader being written.
use super::dati::Dati;
use super::{Continua, ErroreLettura, Evento, InfoTabella, Limiti, Sorgente};
pub struct LettoreXlsx;
impl LettoreXlsx {
    pub fn da_dati(_d: &Dati, _l: Limiti) -> Result<Self, ErroreLettura> {
        Err(ErroreLettura::FormatoNonSupportato("xlsx".into()))
    }
}
impl Sorgente for LettoreXlsx {
    fn tabelle(&mut self) -> Result<Vec<InfoTabella>, ErroreLettura> {
        Ok(vec![])
    }
    fn leggi(
        &mut self,
        _t: &str,
        _v: &mut dyn FnMut(Evento<'_>) -> Continua,
    ) -> Result<(), ErroreLettura> {
        Ok(())
    }
}
