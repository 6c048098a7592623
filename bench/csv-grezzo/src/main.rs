//! `csv-grezzo FILE.csv` or `csv-grezzo FILE.zip MEMBER.csv` (`*` for every `.csv` member, the
//! same bytes a validator of the whole ZIP reads): reads every record and every field
//! of a CSV with the `csv` crate (byte records, no UTF-8 check, no type check, nothing kept) and
//! prints `righe=N campi=N byte=N secondi=S righe_al_secondo=R`. The lower bound of what any
//! CSV validator built on the `csv` crate can do; the ZIP form adds the inflate cost.

use std::io::Read;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("uso: csv-grezzo FILE.csv | csv-grezzo FILE.zip MEMBRO.csv");
        std::process::exit(2);
    }
    let inizio = Instant::now();
    let file = std::fs::File::open(&args[1]).expect("file non leggibile");
    let file = std::io::BufReader::with_capacity(256 * 1024, file);
    let (righe, campi, byte) = if args[1].ends_with(".zip") {
        let membro = args.get(2).map(String::as_str).unwrap_or("unita.csv");
        let mut z = zip::ZipArchive::new(file).expect("ZIP non leggibile");
        if membro == "*" {
            let (mut r, mut c, mut b) = (0, 0, 0);
            for i in 0..z.len() {
                let m = z.by_index(i).expect("membro illeggibile");
                if m.name().is_ok_and(|n| n.ends_with(".csv")) {
                    let (r1, c1, b1) = leggi(m);
                    // Each member has its own header.
                    (r, c, b) = (r + r1.saturating_sub(1), c + c1, b + b1);
                }
            }
            (r + 1, c, b)
        } else {
            let m = z.by_name(membro).expect("membro assente");
            leggi(m)
        }
    } else {
        leggi(file)
    };
    let s = inizio.elapsed().as_secs_f64();
    // Data rows: the header is not counted.
    let dati = righe.saturating_sub(1);
    println!(
        "righe={dati} campi={campi} byte={byte} secondi={s:.3} righe_al_secondo={:.0}",
        dati as f64 / s
    );
}

fn leggi(r: impl Read) -> (u64, u64, u64) {
    let mut lettore = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(r);
    let mut rec = csv::ByteRecord::new();
    let (mut righe, mut campi, mut byte) = (0u64, 0u64, 0u64);
    while lettore.read_byte_record(&mut rec).expect("CSV non leggibile") {
        righe += 1;
        for f in rec.iter() {
            campi += 1;
            byte += f.len() as u64;
        }
    }
    (righe, campi, byte)
}
