//! The PUSH flow engine: the published specifications as data ([`spec`]), the readers of every
//! accepted container ([`lettori`]), the value rules ([`valori`]), the domain rules
//! ([`regole`]), the engine ([`motore`]) and the report ([`report`]).
//!
//! Pure: no database, no HTTP. The command line (`push validate`) and the server use it alike;
//! the checks that need the shared database are added by the platform.

pub mod esporta;
pub mod genera;
mod impronte;
pub mod lettori;
pub mod motore;
pub mod regole;
pub mod report;
pub mod riferimento;
pub mod scrivi_csv;
pub mod spec;
pub mod valori;

use std::path::Path;

use lettori::dati::Dati;
pub use motore::{Aggiunta, Dichiarante, Opzioni, Osservatore, Riferimenti};
pub use report::Report;

/// Validates a file: opens the container (verifying a signature), streams it, returns the report.
/// Never fails: an unreadable file is a report with `file_illeggibile` (or the specific code).
pub fn valida_file(
    nome_file: &str,
    dati: Dati,
    dominio: &'static spec::Dominio,
    opzioni: &Opzioni,
    ancore: Option<&Path>,
) -> Report {
    match lettori::apri(nome_file, dati, dominio, &opzioni.limiti, ancore) {
        Ok(mut a) => {
            let mut m = motore::Motore::new(dominio, opzioni);
            m.firme = std::mem::take(&mut a.firme);
            m.esegui(a.sorgente.as_mut());
            m.report()
        }
        Err(e) => motore::report_errore_file(dominio, &e),
    }
}

/// Like [`valida_file`], with an [`motore::Osservatore`] that sees every row and may add the
/// platform's own warnings at the end.
pub fn valida_file_con(
    nome_file: &str,
    dati: Dati,
    dominio: &'static spec::Dominio,
    opzioni: &Opzioni,
    ancore: Option<&Path>,
    osservatore: &mut dyn motore::Osservatore,
) -> Report {
    match lettori::apri(nome_file, dati, dominio, &opzioni.limiti, ancore) {
        Ok(mut a) => {
            let mut m = motore::Motore::new(dominio, opzioni);
            m.firme = std::mem::take(&mut a.firme);
            m.osservatore = Some(osservatore);
            m.esegui(a.sorgente.as_mut());
            m.chiudi_osservatore();
            m.report()
        }
        Err(e) => motore::report_errore_file(dominio, &e),
    }
}

/// The values of one field of one table of a file (e.g. the programme codes of a `programmi`
/// file, the building codes of a `patrimonio` flow), for the cross-flow checks.
pub fn valori_di(
    nome_file: &str,
    dati: Dati,
    dominio: &'static spec::Dominio,
    tabella: &str,
    campo: &str,
    limiti: &lettori::Limiti,
    ancore: Option<&Path>,
) -> Result<std::collections::HashSet<String>, lettori::ErroreLettura> {
    use lettori::{Continua, Evento};
    let mut a = lettori::apri(nome_file, dati, dominio, limiti, ancore)?;
    let nome = a
        .sorgente
        .tabelle()?
        .into_iter()
        .find(|t| t.nome.trim().to_lowercase().trim_end_matches(".csv") == tabella)
        .ok_or_else(|| {
            lettori::ErroreLettura::Illeggibile(format!(
                "il file non contiene la tabella {tabella}"
            ))
        })?
        .nome;
    let mut colonna: Option<usize> = None;
    let mut valori = std::collections::HashSet::new();
    a.sorgente.leggi(&nome, &mut |ev| {
        let cella = match ev {
            Evento::Intestazione(celle) => {
                colonna = celle.iter().position(|c| {
                    valori::testo_cella(c).is_some_and(|n| n.trim().to_lowercase() == campo)
                });
                None
            }
            Evento::Riga { celle, .. } => colonna.and_then(|i| celle.get(i)).cloned(),
            Evento::RigaNominata { campi, .. } => campi
                .iter()
                .find(|(n, _)| n.trim().to_lowercase() == campo)
                .map(|(_, c)| c.clone()),
            Evento::RigaMalformata { .. } => None,
        };
        if let Some(v) = cella.as_ref().and_then(valori::testo_cella) {
            valori.insert(v);
        }
        Continua::Si
    })?;
    Ok(valori)
}
