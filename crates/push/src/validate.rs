//! `push validate`: the offline validator, exactly the contract of `validazione.md` §5.
//! Exit status 0 valid, 1 not valid (an unreadable file included), 2 the command could not run.
//! The report goes to standard output; progress to standard error, only on a terminal.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use flussi::lettori::dati::Dati;
use flussi::{Dichiarante, Opzioni, spec};

use crate::ArgomentiValidate;

fn uscita_2(m: &str) -> ExitCode {
    eprintln!("errore: {m}");
    ExitCode::from(2)
}

/// `ancore`: the trust anchors of `--firme-ancore` (the server's own setting).
pub fn esegui(a: ArgomentiValidate, ancore: Option<&std::path::Path>) -> ExitCode {
    let Some(dominio) = spec::dominio(&a.dominio) else {
        return uscita_2(&format!(
            "dominio «{}» sconosciuto: usare patrimonio, contabilita o programmi",
            a.dominio
        ));
    };
    if !["testo", "json", "csv"].contains(&a.formato.as_str()) {
        return uscita_2(&format!(
            "formato «{}» sconosciuto: usare testo, json o csv",
            a.formato
        ));
    }
    if !a.file.is_file() {
        return uscita_2(&format!(
            "il file {} non esiste o non è leggibile",
            a.file.display()
        ));
    }
    let mut opzioni = Opzioni::new(dominio::orologio::oggi());
    if let Some(mb) = a.limite_mb {
        opzioni.limiti.max_byte = mb.saturating_mul(1024 * 1024);
    }
    if let Some(n) = a.limite_righe {
        opzioni.limiti.max_righe = n;
    }
    if let Some(s) = a.limite_secondi {
        opzioni.limiti.scadenza =
            Some(std::time::Instant::now() + std::time::Duration::from_secs(s));
    }
    if let Some(e) = &a.ente {
        match Dichiarante::da_codice(e) {
            Some(d) => opzioni.dichiarante = Some(d),
            None => {
                return uscita_2(&format!(
                    "«{e}» non è il codice di un ente: usare il codice ISTAT del Comune, il codice ARCA (es. ARCA-PC) o REGIONE"
                ));
            }
        }
    }
    for (file, dominio_rif, tabella, campo, dove) in [
        (
            &a.programmi,
            "programmi",
            "programmi",
            "codice_programma",
            0,
        ),
        (
            &a.patrimonio,
            "patrimonio",
            "fabbricati",
            "codice_fabbricato",
            1,
        ),
    ] {
        let Some(f) = file else { continue };
        if !f.is_file() {
            return uscita_2(&format!(
                "il file {} non esiste o non è leggibile",
                f.display()
            ));
        }
        let Some(d) = spec::dominio(dominio_rif) else {
            continue;
        };
        let nome = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        match flussi::valori_di(
            &nome,
            Dati::File(f.clone()),
            d,
            tabella,
            campo,
            &opzioni.limiti,
            ancore,
        ) {
            Ok(v) if dove == 0 => opzioni.riferimenti.programmi = Some(v),
            Ok(v) => opzioni.riferimenti.fabbricati = Some(v),
            Err(e) => {
                return uscita_2(&format!(
                    "il file di riferimento {} non si legge: {e}",
                    f.display()
                ));
            }
        }
    }
    let barra = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_message("lettura del file…");
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    if let Some(b) = &barra {
        let b = b.clone();
        opzioni.avanzamento = Some(Arc::new(move |tabella, righe| {
            b.set_message(format!("{tabella}: {righe} righe lette"))
        }));
    }
    let nome = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let report = flussi::valida_file(&nome, Dati::File(a.file.clone()), dominio, &opzioni, ancore);
    if let Some(b) = barra {
        b.finish_and_clear();
    }
    let testo = match a.formato.as_str() {
        "json" => report.json(),
        "csv" => report.csv(),
        _ => report.testo(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(testo.as_bytes());
    if !testo.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
    drop(out);
    // Exit at once: freeing millions of small allocations (key sets, buildings) one by one
    // would add seconds to a large validation for nothing.
    std::process::exit(if report.valido { 0 } else { 1 })
}

/// `push spec`: the descriptor or the blank templates, generated from the same definitions.
pub fn spec(dominio: &str, formato: &str, output: Option<&std::path::Path>) -> ExitCode {
    let Some(d) = spec::dominio(dominio) else {
        return uscita_2(&format!(
            "dominio «{dominio}» sconosciuto: usare patrimonio, contabilita o programmi"
        ));
    };
    let byte = match formato {
        "tableschema" => {
            let j = flussi::esporta::tableschema(d, dominio::orologio::oggi());
            let mut t = serde_json::to_string_pretty(&j).unwrap_or_default();
            t.push('\n');
            t.into_bytes()
        }
        "xlsx" | "csv-zip" if output.is_none() => {
            return uscita_2(&format!("per il formato {formato} serve --output FILE"));
        }
        "xlsx" => match flussi::esporta::modello_xlsx(d) {
            Ok(b) => b,
            Err(e) => return uscita_2(&e.to_string()),
        },
        "csv-zip" => match flussi::esporta::modello_csv_zip(d) {
            Ok(b) => b,
            Err(e) => return uscita_2(&e.to_string()),
        },
        altro => {
            return uscita_2(&format!(
                "formato «{altro}» sconosciuto: usare tableschema, xlsx o csv-zip"
            ));
        }
    };
    let esito = match output {
        Some(f) => std::fs::write(f, &byte),
        None => std::io::stdout().lock().write_all(&byte),
    };
    match esito {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => uscita_2(&format!("scrittura non riuscita: {e}")),
    }
}

/// `push demo genera`: writes a generated flow of the domain asked (no database).
pub fn genera(a: &crate::ArgomentiGenera) -> ExitCode {
    use flussi::genera::contabilita::{OpzioniContabilita, genera_contabilita, genera_programmi};
    use flussi::genera::{FormatoGenerato, OpzioniGenera, genera_patrimonio};
    let output = a.output.as_path();
    let Some(formato) = FormatoGenerato::da_percorso(output) else {
        return uscita_2(
            "il file di uscita deve finire in .zip o .xlsx, oppure essere una cartella",
        );
    };
    let esito = match a.dominio.as_str() {
        "patrimonio" => {
            let Some(unita) = a.unita else {
                return uscita_2("indichi il numero di unità con --unita");
            };
            let o = OpzioniGenera {
                unita,
                seme: a.seme,
                ente: a.ente.clone(),
            };
            genera_patrimonio(&o, formato, output).map(|r| {
                format!(
                    "Generati {} complessi, {} fabbricati, {} unità in {}.",
                    r.complessi,
                    r.fabbricati,
                    r.unita,
                    output.display()
                )
            })
        }
        "contabilita" => {
            let Some(interventi) = a.interventi else {
                return uscita_2("indichi il numero di interventi con --interventi");
            };
            let oggi = match a.alla_data.as_deref() {
                None => dominio::orologio::oggi(),
                Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                    Ok(d) => d,
                    Err(_) => {
                        return uscita_2(&format!(
                            "--alla-data deve essere una data AAAA-MM-GG: trovato «{d}»"
                        ));
                    }
                },
            };
            let o = OpzioniContabilita {
                interventi,
                seme: a.seme,
                ente: a.ente.clone(),
                fabbricati: a.fabbricati,
                oggi,
            };
            genera_contabilita(&o, formato, output).map(|r| {
                format!(
                    "Generati {} interventi, {} SAL, {} erogazioni, {} pagamenti, {} collegamenti a fabbricati in {}.",
                    r.interventi,
                    r.sal,
                    r.erogazioni,
                    r.pagamenti,
                    r.fabbricati,
                    output.display()
                )
            })
        }
        "programmi" => genera_programmi(formato, output)
            .map(|n| format!("Generati {n} programmi in {}.", output.display())),
        altro => {
            return uscita_2(&format!(
                "dominio «{altro}» sconosciuto: usare patrimonio, contabilita o programmi"
            ));
        }
    };
    match esito {
        Ok(m) => {
            eprintln!("{m}");
            ExitCode::SUCCESS
        }
        Err(e) => uscita_2(&format!("generazione non riuscita: {e}")),
    }
}
