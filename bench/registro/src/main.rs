//! Benchmark of the asset register (issue 4), run by `bench/registro.sh`.
//!
//! `registro-bench pg ADMIN_URL DB ZIP DIR REPS`: REPS times, on a fresh PostgreSQL database DB
//! (created through ADMIN_URL, dropped and created again on every repetition; the last one is
//! kept for the list measures and `push serve`):
//!   1. the platform's path: demo people and entities, upload of the ZIP flow, validation (timed,
//!      not part of the acceptance), submission, then **`Piattaforma::applica_flusso`** (timed);
//!   2. the anchor, in the same run and database: a plain `COPY … FROM STDIN` (sqlx
//!      `copy_in_raw`, as the store does) of the same rows (the flow's staging files, prefixed
//!      with ente, valido_dal, flusso_dal like `Carico` does) into copies of the
//!      register tables: `LIKE … INCLUDING ALL` (the same DDL as the register: same indexes, and
//!      like it no foreign keys; checked), the same plus the foreign keys the register had before
//!      migration 0002 was edited (an extra row), and without indexes;
//!   3. the acceptance's pieces timed one by one: `classifica`, the parse of the staging rows
//!      (`Blocchi`), and the store's own insert path (`Tx::carico` of every unit,
//!      for another entity, in a transaction rolled back).
//! Then on the kept database: first and deep pages of `Archivio::elenco_registro`, and the
//! files `DIR/cursori.txt` (deep keyset cursors for wrk).
//!
//! `registro-bench sqlite ZIP DIR REPS`: the same acceptance on SQLite (the full flow), with a
//! plain multi-row `INSERT` (anonymous `?`, like the store) of the same rows into copies of the
//! tables as the anchor (same DDL; the same plus the old foreign keys; no indexes; the same DDL
//! with the indexes created after the rows), the same pieces, and first and deep pages.
//!
//! `registro-bench sqlite-dollaro ZIP DIR REPS`: on a small flow, no acceptance: the plain
//! `INSERT` into the same DDL with placeholders `$N` (what `archivio` wrote before the fix) and
//! with anonymous `?`, side by side (the "why" of the old SQLite figure; `$N` is quadratic per
//! statement, ≈ 900 rows/s, so only on a small flow).
//!
//! Prints one `RIS<TAB>backend<TAB>rep<TAB>measure<TAB>value` line per measure (seconds or rows)
//! and a summary table (best of the repetitions and the spread).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use archivio::{FiltroRegistro, Tavola};
// The store is private to the platform; this benchmark reads it as the tests do.
use base64::Engine;
use chrono::NaiveDate;
use dominio::{Area, CodiceEnte, DominioFlusso, Soggetto};
use servizi::{Config, Piattaforma, Segreto, Strato};
use sqlx::{AssertSqlSafe, Connection, Row};

type Errore = Box<dyn std::error::Error + Send + Sync>;
type R<T> = Result<T, Errore>;

fn e<E: std::fmt::Debug>(x: E) -> Errore {
    format!("{x:?}").into()
}

const ENTE: &str = "ARCA-PC";
/// Another entity, for the store-path timing (rolled back).
const ALTRO_ENTE: &str = "ARCA-JON";
const BLOCCO: usize = 20_000;

/// The anchor variants (labels of the output).
const STESSO_DDL: &str = "stesso DDL (indici, senza FK)";
const CON_FK: &str = "indici + FK di prima (in più)";
const SENZA_INDICI: &str = "senza indici";
/// SQLite only: the same DDL, but the indexes created after the rows (in the same transaction,
/// inside the clock).
const INDICI_DOPO: &str = "stesso DDL, indici creati dopo le righe";

fn data_validita() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
}
fn data_lista() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()
}

/// The measures, by name, one value per repetition.
#[derive(Default)]
struct Misure {
    backend: &'static str,
    v: BTreeMap<String, Vec<f64>>,
    ordine: Vec<String>,
}

impl Misure {
    fn metti(&mut self, rep: usize, nome: &str, x: f64) {
        println!("RIS\t{}\t{rep}\t{nome}\t{x:.6}", self.backend);
        if !self.v.contains_key(nome) {
            self.ordine.push(nome.to_string());
        }
        self.v.entry(nome.to_string()).or_default().push(x);
    }
    fn migliore(&self, nome: &str) -> Option<f64> {
        self.v
            .get(nome)
            .map(|v| v.iter().cloned().fold(f64::INFINITY, f64::min))
    }
}

fn secondi(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Fresh platform on `url`, demo people and entities, the flow uploaded, validated and
/// submitted. Returns the platform, the flow id and the validation time.
async fn prepara(url: &str, dir: &Path, zip: &Path) -> R<(Piattaforma, i64, f64)> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let config = Config::risolvi(Strato {
        data_dir: Some(dir.join("dati")),
        database_url: Some(Segreto::new(url)),
        ..Default::default()
    })
    .map_err(e)?;
    let p = Piattaforma::avvia(config).await.map_err(e)?;
    p.carica_demo_senza_flussi(servizi::demo::Scenario::Marzo2018, false)
        .await
        .map_err(e)?;
    let ente = CodiceEnte::parse(ENTE).map_err(e)?;
    let s = Soggetto::Token {
        id: 0,
        ente: ente.clone(),
        aree: vec![Area::Patrimonio],
    };
    let byte = std::fs::read(zip)?;
    let mut ric = p.deposito.ricevi(u64::MAX)?;
    ric.scrivi(&byte).map_err(e)?;
    let ric = ric.chiudi().map_err(e)?;
    let c = p
        .carica_flusso(&s, &ente, DominioFlusso::Patrimonio, "f.zip", ric)
        .await
        .map_err(e)?;
    let id = c.flusso.id;
    let t = Instant::now();
    p.esegui_coda().await.map_err(e)?;
    let t_val = secondi(t);
    let f = p.db().flusso(id).await.map_err(e)?.ok_or("flusso sparito")?;
    if f.valido != Some(true) {
        return Err(format!("il flusso {id} non è valido (stato {})", f.stato).into());
    }
    p.invia_flusso(&s, id, true).await.map_err(e)?;
    Ok((p, id, t_val))
}

/// The register tables of `patrimonio` with their staging files and row counts.
fn tavole(p: &Piattaforma, id: i64) -> R<Vec<(Tavola, PathBuf, usize)>> {
    let d = flussi::spec::dominio("patrimonio").ok_or("spec")?;
    let mut v = Vec::new();
    for reg in servizi::registro::tavole(d) {
        let (t, tav) = (reg.tabella, reg.tavola.clone());
        let path = p
            .deposito
            .derivato(&servizi::registro::nome_staging(id, t.nome))?
            .ok_or_else(|| format!("staging di {} assente", t.nome))?;
        let n = std::io::BufReader::new(std::fs::File::open(&path)?)
            .lines()
            .count();
        v.push((tav, path, n));
    }
    Ok(v)
}

fn colonne(t: &Tavola) -> String {
    let mut c = String::from("ente, valido_dal, flusso_dal, chiave, impronta");
    if t.nome() == "unita" {
        c.push_str(", catasto");
    }
    for x in t.campi() {
        c.push_str(", ");
        c.push_str(x);
    }
    c
}

/// The staging rows as COPY text blocks of 20 000 lines, prefixed like
/// `archivio::Carico` does (ente, valido_dal, flusso_dal; the cadastral key only for
/// `unita`). Built before the clock starts.
fn blocchi_copy(t: &Tavola, staging: &Path, flusso: i64) -> R<Vec<Vec<u8>>> {
    let prefisso = format!("{ENTE}\t{}\t{flusso}\t", data_validita().format("%Y-%m-%d"));
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(BLOCCO * 220);
    let mut n = 0;
    for l in std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(staging)?).lines() {
        let l = l?;
        cur.extend_from_slice(prefisso.as_bytes());
        if t.nome() == "unita" {
            cur.extend_from_slice(l.as_bytes());
        } else {
            // chiave, impronta, (catasto dropped), fields
            let mut it = l.splitn(4, '\t');
            let (k, i, _c, resto) = (it.next(), it.next(), it.next(), it.next());
            cur.extend_from_slice(k.ok_or("riga")?.as_bytes());
            cur.push(b'\t');
            cur.extend_from_slice(i.ok_or("riga")?.as_bytes());
            if let Some(r) = resto {
                cur.push(b'\t');
                cur.extend_from_slice(r.as_bytes());
            }
        }
        cur.push(b'\n');
        n += 1;
        if n == BLOCCO {
            out.push(std::mem::replace(&mut cur, Vec::with_capacity(BLOCCO * 220)));
            n = 0;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// The pieces of the acceptance, timed one by one on the `unita` staging file.
fn pezzi_classifica(staging: &Path, n: usize) -> R<(f64, f64)> {
    let t = Instant::now();
    let c = servizi::registro::classifica(staging, Default::default())?;
    let t_cl = secondi(t);
    assert_eq!(c.aggiunti.len(), n);
    let t = Instant::now();
    let mut b = servizi::registro::Blocchi::apri(staging, vec![true; n], BLOCCO)?;
    let mut k = 0;
    while let Some(v) = b.prossimo()? {
        k += v.len();
    }
    let t_parse = secondi(t);
    assert_eq!(k, n);
    Ok((t_cl, t_parse))
}

// ------------------------------------------------------------------------------------------
// PostgreSQL
// ------------------------------------------------------------------------------------------

async fn pg(admin: &str, db: &str, zip: &Path, dir: &Path, reps: usize) -> R<()> {
    let mut m = Misure {
        backend: "pg",
        ..Default::default()
    };
    let base = admin.rsplit_once('/').ok_or("ADMIN_URL")?.0;
    let url = format!("{base}/{db}");
    let mut righe_unita = 0usize;
    let mut righe_tot = 0usize;
    for rep in 1..=reps {
        eprintln!("[pg {rep}/{reps}] database nuovo {db}, demo, caricamento, validazione…");
        let mut a = sqlx::PgConnection::connect(admin).await?;
        for q in [
            format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            format!("CREATE DATABASE {db}"),
        ] {
            sqlx::raw_sql(AssertSqlSafe(q)).execute(&mut a).await?;
        }
        a.close().await?;
        let cartella = dir.join("pg");
        let (p, id, t_val) = prepara(&url, &cartella, zip).await?;
        m.metti(rep, "validazione (s, non nella misura)", t_val);
        let tav = tavole(&p, id)?;
        righe_unita = tav.iter().find(|t| t.0.nome() == "unita").ok_or("unita")?.2;
        righe_tot = tav.iter().map(|t| t.2).sum();
        let mut testi = Vec::new();
        for (t, s, _) in &tav {
            testi.push(blocchi_copy(t, s, id)?);
        }
        let mut c = sqlx::PgConnection::connect(&url).await?;
        // The "same DDL" anchor is `LIKE … INCLUDING ALL`, which copies no foreign keys: check
        // that the register has none either (migration 0002 as edited).
        let fk: i64 = sqlx::query(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN ('reg_unita', 'reg_fabbricati', 'reg_complessi')",
        )
        .fetch_one(&mut c)
        .await?
        .get(0);
        if rep == 1 {
            println!("FK sulle tabelle reg_* di PostgreSQL: {fk}");
        }
        if fk != 0 {
            return Err(format!("le tabelle reg_* hanno {fk} chiavi esterne: l'ancora «{STESSO_DDL}» non è più lo stesso DDL").into());
        }
        sqlx::raw_sql("CHECKPOINT").execute(&mut c).await?;
        // Alternate the order (acceptance first on odd repetitions) so that neither side
        // always runs on the warmer cache or right after the other's checkpoint.
        let prima_accettazione = rep % 2 == 1;
        if prima_accettazione {
            accetta_pg(&p, id, rep, &mut m).await?;
        }
        for variante in [STESSO_DDL, CON_FK, SENZA_INDICI] {
            sqlx::raw_sql("CHECKPOINT").execute(&mut c).await?;
            for (t, _, _) in &tav {
                let n = format!("reg_{}", t.nome());
                let mut ddl = match variante {
                    SENZA_INDICI => format!(
                        "CREATE TABLE {n}_anchor (LIKE {n} INCLUDING IDENTITY INCLUDING DEFAULTS);"
                    ),
                    _ => format!("CREATE TABLE {n}_anchor (LIKE {n} INCLUDING ALL);"),
                };
                if variante == CON_FK {
                    ddl.push_str(&format!(
                        "ALTER TABLE {n}_anchor ADD FOREIGN KEY (ente) REFERENCES enti (codice), \
                         ADD FOREIGN KEY (flusso_dal) REFERENCES flussi (id), \
                         ADD FOREIGN KEY (flusso_al) REFERENCES flussi (id);"
                    ));
                }
                sqlx::raw_sql(AssertSqlSafe(ddl)).execute(&mut c).await?;
            }
            let t0 = Instant::now();
            let mut tx = c.begin().await?;
            let mut t_unita = 0.0;
            for ((t, _, _), blocchi) in tav.iter().zip(&testi) {
                let t1 = Instant::now();
                let sql = format!("COPY reg_{}_anchor ({}) FROM STDIN", t.nome(), colonne(t));
                let mut copia = tx.copy_in_raw(&sql).await?;
                for b in blocchi {
                    copia.send(b.as_slice()).await?;
                }
                copia.finish().await?;
                if t.nome() == "unita" {
                    t_unita = secondi(t1);
                }
            }
            tx.commit().await?;
            m.metti(rep, &format!("COPY {variante}, 3 tabelle (s)"), secondi(t0));
            m.metti(rep, &format!("COPY {variante}, solo unita (s)"), t_unita);
            for (t, _, _) in &tav {
                sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE reg_{}_anchor", t.nome())))
                    .execute(&mut c)
                    .await?;
            }
        }
        if !prima_accettazione {
            sqlx::raw_sql("CHECKPOINT").execute(&mut c).await?;
            accetta_pg(&p, id, rep, &mut m).await?;
        }
        let n: i64 = sqlx::query("SELECT count(*) FROM reg_unita WHERE ente = $1 AND valido_al IS NULL")
            .bind(ENTE)
            .fetch_one(&mut c)
            .await?
            .get(0);
        if n as usize != righe_unita {
            return Err(format!("reg_unita ha {n} unità correnti, attese {righe_unita}").into());
        }
        // The pieces.
        let (t_u, s_u, _) = tav.iter().find(|t| t.0.nome() == "unita").ok_or("unita")?;
        let (t_cl, t_parse) = pezzi_classifica(s_u, righe_unita)?;
        m.metti(rep, "pezzo: classifica unita (s)", t_cl);
        m.metti(rep, "pezzo: lettura righe unita, Blocchi (s)", t_parse);
        pezzo_inserimento(&p, t_u, s_u, righe_unita, id, rep, &mut m).await?;
        c.close().await?;
        if rep == reps {
            liste_pg(&p, &url, dir, &mut m).await?;
        }
    }
    riepilogo_pg(&m, righe_unita, righe_tot);
    Ok(())
}

/// The store's own insert path, timed: `Tx::carico` of every unit's staging line, for another
/// entity, in a transaction rolled back.
async fn pezzo_inserimento(
    p: &Piattaforma,
    t_u: &Tavola,
    s_u: &Path,
    righe_unita: usize,
    id: i64,
    rep: usize,
    m: &mut Misure,
) -> R<()> {
    let t = Instant::now();
    let mut tx = p.db().inizia().await.map_err(e)?;
    let mut linee = servizi::registro::LineeScelte::apri(s_u, vec![true; righe_unita])?;
    let mut carico = tx
        .carico(t_u, ALTRO_ENTE, data_validita(), id)
        .await
        .map_err(e)?;
    let mut blocco = Vec::new();
    let mut t_ins = 0.0;
    while linee.prossimo(&mut blocco, BLOCCO)? {
        let t1 = Instant::now();
        carico.invia(&blocco).await.map_err(e)?;
        t_ins += secondi(t1);
    }
    let t1 = Instant::now();
    let finito = carico.fine().await.map_err(e)?;
    tx.concludi_carico(finito).await.map_err(e)?;
    t_ins += secondi(t1);
    drop(tx); // rolled back
    m.metti(rep, "pezzo: LineeScelte + Tx::carico unita (s)", secondi(t));
    m.metti(rep, "pezzo: di cui Carico::invia/fine (s)", t_ins);
    Ok(())
}

async fn accetta_pg(p: &Piattaforma, id: i64, rep: usize, m: &mut Misure) -> R<()> {
    eprintln!("[pg {rep}] applica_flusso…");
    let t = Instant::now();
    p.applica_flusso(id, "bench", data_validita())
        .await
        .map_err(e)?;
    m.metti(rep, "applica_flusso (s)", secondi(t));
    Ok(())
}

fn cursore(chiave: &str) -> String {
    let j = serde_json::json!(["", ENTE, chiave]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j)
}

async fn liste_pg(p: &Piattaforma, url: &str, dir: &Path, m: &mut Misure) -> R<()> {
    eprintln!("[pg] elenchi…");
    let t_u = servizi::registro::tavola_di("unita").ok_or("unita")?.tavola.clone();
    let filtro = |alla: Option<NaiveDate>, dopo: Option<&str>| FiltroRegistro {
        ente: Some(ENTE.into()),
        alla_data: alla,
        limite: 100,
        dopo: dopo.map(|k| (String::new(), ENTE.to_string(), k.to_string())),
        ..Default::default()
    };
    // The very first list after the acceptance, before any explicit ANALYZE.
    let t = Instant::now();
    let v = p
        .db()
        .elenco_registro(&t_u, &filtro(Some(data_lista()), None))
        .await
        .map_err(e)?;
    m.metti(1, "lista: prima pagina alla_data, subito dopo l'accettazione (s)", secondi(t));
    assert_eq!(v.len(), 100);
    let mut c = sqlx::PgConnection::connect(url).await?;
    let t = Instant::now();
    sqlx::raw_sql("VACUUM ANALYZE reg_unita, reg_fabbricati, reg_complessi")
        .execute(&mut c)
        .await?;
    m.metti(1, "VACUUM ANALYZE dei registri (s)", secondi(t));
    // Keys at several depths, in the list's order (offsets relative to the rows).
    let n: i64 = sqlx::query("SELECT count(*) FROM reg_unita WHERE ente = $1 AND valido_al IS NULL")
        .bind(ENTE)
        .fetch_one(&mut c)
        .await?
        .get(0);
    let mut profonde = Vec::new();
    for (etichetta, off) in [("p1", 99i64), ("q1", n / 4), ("meta", n / 2), ("q3", 3 * n / 4), ("fondo", n - 200)] {
        let r = sqlx::query(
            "SELECT chiave FROM reg_unita WHERE ente = $1 AND valido_al IS NULL ORDER BY ente, chiave OFFSET $2 LIMIT 1",
        )
        .bind(ENTE)
        .bind(off)
        .fetch_one(&mut c)
        .await?;
        profonde.push((etichetta, off, r.get::<String, _>(0)));
    }
    let mut f = String::new();
    for (et, off, k) in &profonde {
        f.push_str(&format!("{et}\t{off}\t{k}\t{}\n", cursore(k)));
    }
    std::fs::write(dir.join("cursori.txt"), f)?;
    let media = profonde[2].2.clone();
    let fondo = profonde[4].2.clone();
    let nome_media = format!("lista: pagina dopo la riga {}, alla_data (s)", n / 2);
    let nome_fondo = format!("lista: pagina dopo la riga {}, alla_data (s)", n - 200);
    for rep in 1..=3 {
        for (nome, alla, dopo) in [
            ("lista: prima pagina alla_data (s)", Some(data_lista()), None),
            ("lista: prima pagina attuale, alla_data assente (s)", None, None),
            (nome_media.as_str(), Some(data_lista()), Some(media.as_str())),
            (nome_fondo.as_str(), Some(data_lista()), Some(fondo.as_str())),
        ] {
            let t = Instant::now();
            let v = p
                .db()
                .elenco_registro(&t_u, &filtro(alla, dopo))
                .await
                .map_err(e)?;
            m.metti(rep, nome, secondi(t));
            assert!(!v.is_empty());
        }
    }
    c.close().await?;
    Ok(())
}

fn riga(m: &Misure, nome: &str, righe: Option<usize>) {
    let Some(v) = m.v.get(nome) else { return };
    let best = m.migliore(nome).unwrap_or(f64::NAN);
    let max = v.iter().cloned().fold(0.0, f64::max);
    let tutte: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
    let rs = righe
        .map(|n| format!("{:.0}", n as f64 / best))
        .unwrap_or_else(|| "—".into());
    println!(
        "| {nome} | {best:.3} | {} | {rs} |",
        if v.len() > 1 {
            format!("{} (+{:.0} %)", tutte.join(" / "), (max / best - 1.0) * 100.0)
        } else {
            tutte.join(" / ")
        }
    );
}

fn riepilogo_pg(m: &Misure, unita: usize, tot: usize) {
    println!();
    println!("PostgreSQL: {unita} righe unita, {tot} righe in tutto (unita + fabbricati + complessi)");
    println!();
    println!("| misura | migliore (s) | ripetizioni (s), spread | righe/s (migliore) |");
    println!("| --- | ---: | ---: | ---: |");
    for n in &m.ordine {
        let righe = if n.starts_with("applica_flusso") || n.contains("3 tabelle") {
            Some(tot)
        } else if n.contains("solo unita") || n.starts_with("pezzo") {
            Some(unita)
        } else {
            None
        };
        riga(m, n, righe);
    }
    let acc = m.migliore("applica_flusso (s)").unwrap_or(f64::NAN);
    println!();
    for v in [STESSO_DDL, CON_FK, SENZA_INDICI] {
        if let Some(a) = m.migliore(&format!("COPY {v}, 3 tabelle (s)")) {
            println!(
                "RAPPORTO\tpg\tapplica_flusso / COPY {v}\t{:.1} %\t(velocità: {:.0} contro {:.0} righe/s)",
                a / acc * 100.0,
                tot as f64 / acc,
                tot as f64 / a
            );
        }
    }
}


// ------------------------------------------------------------------------------------------
// SQLite
// ------------------------------------------------------------------------------------------

/// The staging rows of every table, parsed (before any clock starts).
fn righe_parse(tav: &[(Tavola, PathBuf, usize)]) -> R<Vec<Vec<archivio::NuovaVersione>>> {
    let mut righe = Vec::new();
    for (_, s, n) in tav {
        let mut v = Vec::with_capacity(*n);
        let mut b = servizi::registro::Blocchi::apri(s, vec![true; *n], BLOCCO)?;
        while let Some(x) = b.prossimo()? {
            v.extend(x);
        }
        righe.push(v);
    }
    Ok(righe)
}

fn url_sqlite(cartella: &Path) -> String {
    format!("sqlite://{}?mode=rwc", cartella.join("push.db").display())
}

async fn sqlite(zip: &Path, dir: &Path, reps: usize) -> R<()> {
    let mut m = Misure {
        backend: "sqlite",
        ..Default::default()
    };
    let mut righe_unita = 0;
    let mut righe_tot = 0;
    for rep in 1..=reps {
        eprintln!("[sqlite {rep}/{reps}] database nuovo, demo, caricamento, validazione…");
        let cartella = dir.join("sqlite");
        let _ = std::fs::remove_dir_all(&cartella);
        std::fs::create_dir_all(&cartella)?;
        let url = url_sqlite(&cartella);
        let (p, id, t_val) = prepara(&url, &cartella.join("flusso"), zip).await?;
        m.metti(rep, "validazione (s, non nella misura)", t_val);
        let tav = tavole(&p, id)?;
        righe_unita = tav.iter().find(|t| t.0.nome() == "unita").ok_or("unita")?.2;
        righe_tot = tav.iter().map(|t| t.2).sum();
        if rep == 1 {
            let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)?;
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
            let fk: i64 = sqlx::query(
                "SELECT (SELECT count(*) FROM pragma_foreign_key_list('reg_unita')) + (SELECT count(*) FROM pragma_foreign_key_list('reg_fabbricati')) + (SELECT count(*) FROM pragma_foreign_key_list('reg_complessi'))",
            )
            .fetch_one(&mut c)
            .await?
            .get(0);
            c.close().await?;
            println!("FK sulle tabelle reg_* di SQLite: {fk}");
        }
        // The anchor's rows, parsed before the clock starts (the acceptance parses its own).
        let righe = righe_parse(&tav)?;
        // Alternate the order, as on PostgreSQL.
        let prima_accettazione = rep % 2 == 1;
        if prima_accettazione {
            accetta_sqlite(&p, id, rep, &mut m).await?;
        }
        ancora_sqlite(
            &url,
            &tav,
            &righe,
            id,
            rep,
            &mut m,
            &[(STESSO_DDL, '?'), (CON_FK, '?'), (SENZA_INDICI, '?'), (INDICI_DOPO, '?')],
        )
        .await?;
        drop(righe);
        if !prima_accettazione {
            accetta_sqlite(&p, id, rep, &mut m).await?;
        }
        let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)?;
        let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
        let n: i64 = sqlx::query("SELECT count(*) FROM reg_unita WHERE ente = ?1 AND valido_al IS NULL")
            .bind(ENTE)
            .fetch_one(&mut c)
            .await?
            .get(0);
        if n as usize != righe_unita {
            return Err(format!("reg_unita ha {n} unità correnti, attese {righe_unita}").into());
        }
        let (t_u, s_u, _) = tav.iter().find(|t| t.0.nome() == "unita").ok_or("unita")?;
        let (t_cl, t_parse) = pezzi_classifica(s_u, righe_unita)?;
        m.metti(rep, "pezzo: classifica unita (s)", t_cl);
        m.metti(rep, "pezzo: lettura righe unita, Blocchi (s)", t_parse);
        pezzo_inserimento(&p, t_u, s_u, righe_unita, id, rep, &mut m).await?;
        // Lists on SQLite too (cheap): first page, after half the rows, 200 rows before the end.
        let mut chiavi = Vec::new();
        for off in [n / 2, n - 200] {
            let k: String = sqlx::query(
                "SELECT chiave FROM reg_unita WHERE ente = ?1 AND valido_al IS NULL ORDER BY ente, chiave LIMIT 1 OFFSET ?2",
            )
            .bind(ENTE)
            .bind(off)
            .fetch_one(&mut c)
            .await?
            .get(0);
            chiavi.push((off, k));
        }
        c.close().await?;
        let t_l = servizi::registro::tavola_di("unita").ok_or("unita")?.tavola.clone();
        let mut pagine = vec![("lista: prima pagina alla_data (s)".to_string(), None)];
        for (off, k) in chiavi {
            pagine.push((format!("lista: pagina dopo la riga {off}, alla_data (s)"), Some(k)));
        }
        for (nome, dopo) in pagine {
            let t = Instant::now();
            let v = p
                .db()
                .elenco_registro(
                    &t_l,
                    &FiltroRegistro {
                        ente: Some(ENTE.into()),
                        alla_data: Some(data_lista()),
                        limite: 100,
                        dopo: dopo.map(|k| (String::new(), ENTE.to_string(), k)),
                        ..Default::default()
                    },
                )
                .await
                .map_err(e)?;
            m.metti(rep, &nome, secondi(t));
            assert!(!v.is_empty());
        }
    }
    riepilogo_sqlite(&m, "SQLite", righe_unita, righe_tot);
    let acc = m.migliore("applica_flusso (s)").unwrap_or(f64::NAN);
    println!();
    for v in [STESSO_DDL, CON_FK, SENZA_INDICI, INDICI_DOPO] {
        if let Some(a) = m.migliore(&format!("INSERT {v}, segnaposti ? anonimi, 3 tabelle (s)")) {
            println!(
                "RAPPORTO\tsqlite\tapplica_flusso / INSERT {v}\t{:.1} %\t(velocità: {:.0} contro {:.0} righe/s)",
                a / acc * 100.0,
                righe_tot as f64 / acc,
                righe_tot as f64 / a
            );
        }
    }
    Ok(())
}

async fn accetta_sqlite(p: &Piattaforma, id: i64, rep: usize, m: &mut Misure) -> R<()> {
    eprintln!("[sqlite {rep}] applica_flusso…");
    let t = Instant::now();
    p.applica_flusso(id, "bench", data_validita())
        .await
        .map_err(e)?;
    m.metti(rep, "applica_flusso (s)", secondi(t));
    Ok(())
}

fn riepilogo_sqlite(m: &Misure, titolo: &str, unita: usize, tot: usize) {
    println!();
    println!("{titolo}: {unita} righe unita, {tot} righe in tutto (unita + fabbricati + complessi)");
    println!();
    println!("| misura | migliore (s) | ripetizioni (s), spread | righe/s (migliore) |");
    println!("| --- | ---: | ---: | ---: |");
    for n in &m.ordine {
        let righe = if n.starts_with("applica_flusso") || n.contains("3 tabelle") {
            Some(tot)
        } else if n.contains("solo unita") || n.starts_with("pezzo") {
            Some(unita)
        } else {
            None
        };
        riga(m, n, righe);
    }
}

/// The DDL of `reg_*` (table and indexes) from `sqlite_master`, renamed to `reg_*_anchor`; with
/// `fk`, the foreign keys the register had before migration 0002 was edited.
async fn ddl_sqlite(c: &mut sqlx::SqliteConnection, n: &str, fk: bool) -> R<Vec<String>> {
    let mut d = Vec::new();
    let r = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ?1 AND sql IS NOT NULL ORDER BY type DESC",
    )
    .bind(n)
    .fetch_all(&mut *c)
    .await?;
    for x in r {
        let mut s: String = x.get::<String, _>(0).replace(n, &format!("{n}_anchor"));
        if fk && s.starts_with("CREATE TABLE") {
            for (da, a) in [
                ("ente TEXT NOT NULL,", "ente TEXT NOT NULL REFERENCES enti (codice),"),
                ("flusso_dal BIGINT NOT NULL,", "flusso_dal BIGINT NOT NULL REFERENCES flussi (id),"),
                ("flusso_al BIGINT,", "flusso_al BIGINT REFERENCES flussi (id),"),
            ] {
                if !s.contains(da) {
                    return Err(format!("DDL di {n} inatteso: manca «{da}»").into());
                }
                s = s.replacen(da, a, 1);
            }
        }
        d.push(s);
    }
    Ok(d)
}

/// The SQLite anchor: the same rows, parsed before the clock starts, by plain multi-row INSERTs
/// of ~30 000 parameters (≈ 1 000 `unita` rows per statement, like the store) into copies of the
/// register tables, one transaction, on a connection set up like the store's (WAL,
/// `synchronous=NORMAL`, foreign keys on). Placeholders anonymous `?` (what `archivio` writes
/// now) or `$N` (what it wrote before: sqlx looks every `$N` up by name, quadratic).
async fn ancora_sqlite(
    url: &str,
    tav: &[(Tavola, PathBuf, usize)],
    righe: &[Vec<archivio::NuovaVersione>],
    id: i64,
    rep: usize,
    m: &mut Misure,
    varianti: &[(&str, char)],
) -> R<()> {
    let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)?
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .foreign_keys(true);
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
    for &(variante, segno) in varianti {
        let mut indici_dopo = Vec::new();
        for (t, _, _) in tav {
            let n = format!("reg_{}", t.nome());
            let mut ddl = match variante {
                SENZA_INDICI => vec![format!("CREATE TABLE {n}_anchor AS SELECT * FROM {n} WHERE 0")],
                _ => ddl_sqlite(&mut c, &n, variante == CON_FK).await?,
            };
            if variante == INDICI_DOPO {
                indici_dopo.extend(ddl.split_off(1));
            }
            sqlx::raw_sql(AssertSqlSafe(ddl.join(";\n"))).execute(&mut c).await?;
        }
        let nome_segno = if segno == '?' { "segnaposti ? anonimi" } else { "segnaposti $N (prima)" };
        eprintln!("[sqlite {rep}] INSERT {variante}, {nome_segno}…");
        let t0 = Instant::now();
        let mut t_unita = 0.0;
        let mut tx = c.begin().await?;
        for ((t, _, _), v) in tav.iter().zip(righe) {
            let t1 = Instant::now();
            let catasto = t.nome() == "unita";
            let per_riga = 5 + usize::from(catasto) + t.campi().len();
            let per_blocco = (30_000 / per_riga).max(1);
            for blocco in v.chunks(per_blocco) {
                let mut sql = format!("INSERT INTO reg_{}_anchor ({}) VALUES ", t.nome(), colonne(t));
                let mut k = 1;
                for (i, _) in blocco.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    for j in 0..per_riga {
                        if j > 0 {
                            sql.push_str(", ");
                        }
                        if segno == '?' {
                            sql.push('?');
                        } else {
                            sql.push('$');
                            sql.push_str(&k.to_string());
                        }
                        k += 1;
                    }
                    sql.push(')');
                }
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for r in blocco {
                    q = q
                        .bind(ENTE)
                        .bind(data_validita())
                        .bind(id)
                        .bind(&r.chiave)
                        .bind(r.impronta);
                    if catasto {
                        q = q.bind(&r.incrocio);
                    }
                    for x in &r.campi {
                        q = q.bind(x);
                    }
                }
                q.execute(&mut *tx).await?;
            }
            if catasto {
                t_unita = secondi(t1);
            }
        }
        for d in &indici_dopo {
            sqlx::raw_sql(AssertSqlSafe(d.clone())).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        m.metti(rep, &format!("INSERT {variante}, {nome_segno}, 3 tabelle (s)"), secondi(t0));
        m.metti(rep, &format!("INSERT {variante}, {nome_segno}, solo unita (s)"), t_unita);
        for (t, _, _) in tav {
            sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE reg_{}_anchor", t.nome())))
                .execute(&mut c)
                .await?;
        }
    }
    c.close().await?;
    Ok(())
}

/// SQLite, the placeholders' evidence (no acceptance): one small flow validated, then the
/// same-DDL anchor with `$N` and with anonymous `?`, `reps` times.
async fn sqlite_dollaro(zip: &Path, dir: &Path, reps: usize) -> R<()> {
    let mut m = Misure {
        backend: "sqlite-dollaro",
        ..Default::default()
    };
    let cartella = dir.join("sqlite-dollaro");
    let _ = std::fs::remove_dir_all(&cartella);
    std::fs::create_dir_all(&cartella)?;
    let url = url_sqlite(&cartella);
    eprintln!("[sqlite-dollaro] database nuovo, demo, caricamento, validazione…");
    let (p, id, t_val) = prepara(&url, &cartella.join("flusso"), zip).await?;
    m.metti(1, "validazione (s, non nella misura)", t_val);
    let tav = tavole(&p, id)?;
    let unita = tav.iter().find(|t| t.0.nome() == "unita").ok_or("unita")?.2;
    let tot: usize = tav.iter().map(|t| t.2).sum();
    let righe = righe_parse(&tav)?;
    for rep in 1..=reps {
        ancora_sqlite(&url, &tav, &righe, id, rep, &mut m, &[(STESSO_DDL, '$'), (STESSO_DDL, '?')])
            .await?;
    }
    riepilogo_sqlite(&m, "SQLite, segnaposti $N contro ? (nessuna accettazione)", unita, tot);
    Ok(())
}

#[tokio::main]
async fn main() -> R<()> {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("pg") if a.len() == 7 => {
            pg(&a[2], &a[3], Path::new(&a[4]), Path::new(&a[5]), a[6].parse()?).await
        }
        Some("sqlite-dollaro") if a.len() == 5 => {
            sqlite_dollaro(Path::new(&a[2]), Path::new(&a[3]), a[4].parse()?).await
        }
        Some("sqlite") if a.len() == 5 => {
            sqlite(Path::new(&a[2]), Path::new(&a[3]), a[4].parse()?).await
        }
        _ => Err(
            "uso: registro-bench pg ADMIN_URL DB ZIP DIR REPS | sqlite ZIP DIR REPS | sqlite-dollaro ZIP DIR REPS"
                .into(),
        ),
    }
}
