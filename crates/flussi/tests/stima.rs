//! The progress estimate (`lettori::stima_righe`) expands ZIP members: it obeys the same
//! `Limiti` as the readers (expansion ratio, expanded bytes, deadline), so a ZIP bomb costs it
//! nothing.

use std::io::Write;
use std::time::{Duration, Instant};

use flussi::lettori::{Limiti, stima_righe};
use zip::write::SimpleFileOptions;

/// A ZIP of CSV members (name, content), deflated.
fn zip_di(membri: &[(&str, Vec<u8>)]) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".zip")
        .tempfile()
        .expect("tempfile");
    let mut z = zip::ZipWriter::new(file.reopen().expect("reopen"));
    let opzioni = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (nome, contenuto) in membri {
        z.start_file(*nome, opzioni).expect("start");
        z.write_all(contenuto).expect("write");
    }
    z.finish().expect("finish");
    file
}

fn righe(n: usize) -> Vec<u8> {
    let mut v = b"codice;nome\n".to_vec();
    for i in 0..n {
        v.extend_from_slice(format!("U{i:07};unità {i}\n").as_bytes());
    }
    v
}

#[test]
fn stima_di_uno_zip_normale() {
    let f = zip_di(&[("fabbricati.csv", righe(10)), ("unita.csv", righe(250))]);
    assert_eq!(
        stima_righe("flusso.zip", f.path(), &Limiti::default()),
        Some(260)
    );
}

#[test]
fn zip_bomb_non_espansa_dalla_stima() {
    // 16 MiB of line breaks: about 1000:1, over the 200:1 bound. Counted, it would be
    // 16 million rows read at the cost of expanding the whole member.
    let bomba = zip_di(&[("unita.csv", vec![b'\n'; 16 << 20])]);
    let compresso = std::fs::metadata(bomba.path()).expect("meta").len();
    assert!(
        (16u64 << 20) / compresso > 200,
        "not a bomb: {compresso} bytes"
    );
    assert_eq!(
        stima_righe("flusso.zip", bomba.path(), &Limiti::default()),
        None
    );
    // The total expanded across members is bounded too.
    let f = zip_di(&[("a.csv", righe(20_000)), ("b.csv", righe(20_000))]);
    let limiti = Limiti {
        max_espanso: 500 * 1024,
        ..Limiti::default()
    };
    assert_eq!(stima_righe("flusso.zip", f.path(), &limiti), None);
    assert_eq!(
        stima_righe("flusso.zip", f.path(), &Limiti::default()),
        Some(40_000)
    );
}

#[test]
fn stima_entro_la_scadenza() {
    let f = zip_di(&[("unita.csv", righe(100))]);
    let scaduto = Limiti {
        scadenza: Instant::now().checked_sub(Duration::from_secs(1)),
        ..Limiti::default()
    };
    assert_eq!(stima_righe("flusso.zip", f.path(), &scaduto), None);
    let csv = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .expect("tempfile");
    std::fs::write(csv.path(), righe(100)).expect("write");
    assert_eq!(stima_righe("unita.csv", csv.path(), &scaduto), None);
    assert_eq!(
        stima_righe("unita.csv", csv.path(), &Limiti::default()),
        Some(100)
    );
}
