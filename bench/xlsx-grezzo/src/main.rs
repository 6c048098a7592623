//! `xlsx-grezzo FILE.xlsx [celle|range]`: reads every cell of every sheet with calamine 0.38 and
//! prints `righe=N celle=N secondi=S righe_al_secondo=R` (rows = rows of the `unita` sheet, less
//! the header). `celle` (default) streams each sheet with `worksheet_cells_reader`, the API the
//! PUSH reader is built on; `range` loads each sheet whole with `worksheet_range`, the usual way.

use std::time::Instant;

use calamine::{Data, DataRef, Reader, Xlsx, open_workbook};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(percorso) = args.get(1) else {
        eprintln!("uso: xlsx-grezzo FILE.xlsx [celle|range]");
        std::process::exit(2);
    };
    let modo = args.get(2).map(String::as_str).unwrap_or("celle");
    let inizio = Instant::now();
    let mut libro: Xlsx<_> = open_workbook(percorso).expect("cartella di lavoro non leggibile");
    let (mut celle, mut piene, mut righe_unita) = (0u64, 0u64, 0u64);
    for nome in libro.sheet_names() {
        let mut max_riga = 0u32;
        if modo == "range" {
            let r = libro.worksheet_range(&nome).expect("foglio non leggibile");
            for riga in r.rows() {
                for c in riga {
                    celle += 1;
                    if !matches!(c, Data::Empty) {
                        piene += 1;
                    }
                }
            }
            max_riga = r.end().map(|(r, _)| r).unwrap_or(0);
        } else {
            let mut lettore = libro
                .worksheet_cells_reader(&nome)
                .expect("foglio non leggibile");
            while let Some(c) = lettore.next_cell().expect("cella non leggibile") {
                celle += 1;
                if !matches!(c.get_value(), DataRef::Empty) {
                    piene += 1;
                }
                max_riga = max_riga.max(c.get_position().0);
            }
        }
        if nome == "unita" {
            righe_unita = u64::from(max_riga);
        }
    }
    let s = inizio.elapsed().as_secs_f64();
    println!(
        "righe={righe_unita} celle={celle} piene={piene} secondi={s:.3} righe_al_secondo={:.0}",
        righe_unita as f64 / s
    );
}
