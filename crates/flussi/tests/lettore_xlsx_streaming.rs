//! The reader streams: a 200,000-row sheet is read with a bounded heap. This test binary holds
//! a single test and counts every heap allocation of the process, so the peak of live heap
//! bytes while reading is exact (no interference from other tests or from the allocator's
//! retained memory, as with RSS).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use flussi::lettori::xlsx::LettoreXlsx;
use flussi::lettori::{Cella, Continua, Evento, Limiti, Sorgente};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

struct Contatore;

static VIVI: AtomicUsize = AtomicUsize::new(0);
static PICCO: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Contatore {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let ora = VIVI.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PICCO.fetch_max(ora, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        VIVI.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATORE: Contatore = Contatore;

const RIGHE: u32 = 200_000;
const COLONNE: u16 = 8;

fn vm(campo: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(campo))
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_default()
}

#[test]
fn duecentomila_righe_in_memoria_limitata() {
    // Written in constant-memory mode (rows go to a temporary file; strings inline).
    let percorso =
        std::env::temp_dir().join(format!("dev-xlsx-grande-{}.xlsx", std::process::id()));
    {
        let mut libro = Workbook::new();
        let data_fmt = Format::new().set_num_format("yyyy-mm-dd");
        let foglio = libro.add_worksheet_with_constant_memory().expect("sheet");
        foglio.set_name("grande").expect("name");
        for c in 0..COLONNE {
            foglio
                .write_string(0, c, format!("campo{c}"))
                .expect("header");
        }
        let d = ExcelDateTime::from_ymd(2024, 1, 31).expect("date");
        for r in 1..=RIGHE {
            foglio.write_string(r, 0, format!("U{r}")).expect("w");
            foglio.write_number(r, 1, f64::from(r)).expect("w");
            foglio.write_number(r, 2, f64::from(r) * 1.25).expect("w");
            foglio
                .write_datetime_with_format(r, 3, &d, &data_fmt)
                .expect("w");
            foglio.write_boolean(r, 4, r % 2 == 0).expect("w");
            foglio
                .write_string(r, 5, "un testo uguale in ogni riga")
                .expect("w");
            foglio.write_number(r, 6, 7).expect("w");
            foglio.write_string(r, 7, "fine").expect("w");
        }
        libro.save(&percorso).expect("save");
    }
    let dimensione = std::fs::metadata(&percorso).map(|m| m.len()).unwrap_or(0);

    let base = VIVI.load(Ordering::Relaxed);
    PICCO.store(base, Ordering::Relaxed);
    let inizio = Instant::now();
    let mut lettore = LettoreXlsx::da_file(&percorso, Limiti::default()).expect("open");
    let dopo_apertura = VIVI.load(Ordering::Relaxed);
    let mut righe = 0u64;
    let mut ultima = 0u64;
    let mut picco_a_meta = 0usize;
    lettore
        .leggi("grande", &mut |e| {
            match e {
                Evento::Intestazione(h) => assert_eq!(h.len(), usize::from(COLONNE)),
                Evento::Riga { numero, celle } => {
                    righe += 1;
                    assert_eq!(numero, ultima.max(1) + 1);
                    ultima = numero;
                    assert_eq!(celle[0], Cella::Testo(format!("U{}", numero - 1)));
                    assert_eq!(celle[1], Cella::Numero((numero - 1) as f64));
                    if righe == u64::from(RIGHE / 2) {
                        // Halfway through, rows are being handed over one at a time.
                        picco_a_meta = PICCO.load(Ordering::Relaxed);
                    }
                }
                altro => panic!("unexpected {altro:?}"),
            }
            Continua::Si
        })
        .expect("read");
    let durata = inizio.elapsed();
    let picco = PICCO.load(Ordering::Relaxed) - base;
    let _ = std::fs::remove_file(&percorso);

    assert_eq!(righe, u64::from(RIGHE));
    assert_eq!(ultima, u64::from(RIGHE) + 1);
    println!(
        "file {dimensione} byte; {righe} rows in {durata:?}; heap after open {} KB; peak live heap while reading {} KB (halfway {} KB); {}; {}",
        (dopo_apertura - base) / 1024,
        picco / 1024,
        picco_a_meta.saturating_sub(base) / 1024,
        vm("VmHWM"),
        vm("VmRSS")
    );
    // 1.6 million cells: a sheet loaded whole would hold tens of MB (at least 32 bytes a cell,
    // plus one String per text cell). Streaming keeps a few buffers.
    assert!(picco < 4 * 1024 * 1024, "peak live heap {picco} bytes");
}
