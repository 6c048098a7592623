//! Fuzz target: the json reader, through the whole engine. Any input must give a report, never a
//! panic, a hang or unbounded memory.
#![no_main]

use std::sync::Arc;

use flussi::lettori::dati::Dati;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(dominio) = flussi::spec::dominio("contabilita") else { return };
    let mut opzioni = flussi::Opzioni::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default());
    opzioni.limiti.max_righe = 10_000;
    opzioni.limiti.max_espanso = 64 * 1024 * 1024;
    opzioni.limiti.max_stringhe_condivise = 16 * 1024 * 1024;
    opzioni.limiti.scadenza = Some(std::time::Instant::now() + std::time::Duration::from_secs(5));
    let report = flussi::valida_file("x.json", Dati::Byte(Arc::new(data.to_vec())), dominio, &opzioni, None);
    // A report is always complete and consistent.
    assert_eq!(report.valido, report.errori == 0);
});
