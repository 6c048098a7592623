//! Bulk loading of new register versions straight from a flow's staging lines, the merge's
//! hot path (a million units in one acceptance, issue 12 item 6).
//!
//! A staging line is what `servizi::registro::Raccoglitore` writes while validating: the
//! record's key, its fingerprint (decimal `i64`), its cross-entity key and the table's fields
//! in order, separated by tabs, each in PostgreSQL's `COPY` text form ([`copia_campo`]: `\N`
//! for none, `\\`, `\t`, `\n`, `\r` escaped), ending with `\n`. The lines are never parsed into
//! owned values:
//!
//! - **PostgreSQL**: one `COPY … FROM STDIN` per table for the whole flow; each line is sent as
//!   it is, after the constant prefix `ente, valido_dal, flusso_dal` (and without the
//!   cross-entity field when the table keeps none). Blocks are streamed, so the server indexes
//!   one block while the next is prepared.
//! - **SQLite**: one prepared single-row `INSERT`, stepped once per line with the fields bound
//!   in place (`SQLITE_STATIC` pointers into the block; only an escaped field is unescaped
//!   into a scratch buffer and copied by SQLite). sqlx would copy every field twice (into an
//!   `Arc<str>`, then SQLite's own copy) and bind 30 000-parameter statements; this path is
//!   the C API through sqlx's locked handle, inside the same transaction.
//!
//! [`copia_campo`]: crate::copia_campo

use std::ffi::{CStr, CString, c_int};
use std::ptr::NonNull;

use chrono::NaiveDate;
use libsqlite3_sys as ffi;
use sqlx::postgres::PgCopyIn;

use crate::registro::Tavola;
use crate::{ErroreArchivio, Risultato, Tx, TxInner, copia_campo};

/// A bulk load of new versions of one register table, inside a [`Tx`]: feed it blocks of
/// whole staging lines with [`Carico::invia`], then [`Carico::fine`]. Dropped before `fine`,
/// the load is abandoned (and the transaction, which must then be rolled back, fails).
pub struct Carico<'t> {
    modo: Modo<'t>,
    /// Whether the table keeps the staging line's cross-entity field.
    incrocio: bool,
    /// Fields per staging line: key, fingerprint, cross-entity key, the table's fields.
    campi_linea: usize,
    righe: u64,
}

enum Modo<'t> {
    Pg {
        copia: PgCopyIn<&'t mut sqlx::PgConnection>,
        tabella: String,
        /// `ente\tvalido_dal\tflusso_dal\t`, in COPY text form.
        prefisso: Vec<u8>,
        buffer: Vec<u8>,
    },
    Sqlite {
        conn: &'t mut sqlx::SqliteConnection,
        sql: CString,
        ente: String,
        data: String,
        flusso: i64,
    },
}

impl Tx {
    /// Starts a bulk load of new versions of `t` for `ente`, valid from `data`, written by
    /// flow `flusso`.
    pub async fn carico(
        &mut self,
        t: &Tavola,
        ente: &str,
        data: NaiveDate,
        flusso: i64,
    ) -> Risultato<Carico<'_>> {
        let mut colonne = String::from("ente, valido_dal, flusso_dal, chiave, impronta");
        if let Some(c) = t.incrocio() {
            colonne.push_str(", ");
            colonne.push_str(c);
        }
        for c in t.campi() {
            colonne.push_str(", ");
            colonne.push_str(c);
        }
        let data = data.format("%Y-%m-%d").to_string();
        let modo = match &mut self.inner {
            TxInner::Pg(c) => {
                let sql = format!("COPY {} ({colonne}) FROM STDIN", t.nome_archivio());
                let copia = c.copy_in_raw(&sql).await?;
                let mut prefisso = String::new();
                copia_campo(&mut prefisso, Some(ente));
                prefisso.push('\t');
                prefisso.push_str(&data);
                prefisso.push('\t');
                prefisso.push_str(&flusso.to_string());
                prefisso.push('\t');
                Modo::Pg {
                    copia,
                    tabella: t.nome_archivio().to_string(),
                    prefisso: prefisso.into_bytes(),
                    buffer: Vec::new(),
                }
            }
            TxInner::Sqlite(c) => {
                let n = 5 + usize::from(t.incrocio().is_some()) + t.campi().len();
                let segnaposti = vec!["?"; n].join(", ");
                let sql = format!(
                    "INSERT INTO {} ({colonne}) VALUES ({segnaposti})",
                    t.nome_archivio()
                );
                Modo::Sqlite {
                    conn: c,
                    sql: CString::new(sql)
                        .map_err(|e| ErroreArchivio::Caricamento(e.to_string()))?,
                    ente: ente.to_string(),
                    data,
                    flusso,
                }
            }
        };
        Ok(Carico {
            modo,
            incrocio: t.incrocio().is_some(),
            campi_linea: 3 + t.campi().len(),
            righe: 0,
        })
    }
}

impl Carico<'_> {
    /// Writes a block of whole staging lines (each ending with `\n`).
    pub async fn invia(&mut self, linee: &[u8]) -> Risultato<()> {
        if linee.is_empty() {
            return Ok(());
        }
        let (incrocio, campi_linea) = (self.incrocio, self.campi_linea);
        match &mut self.modo {
            Modo::Pg {
                copia,
                prefisso,
                buffer,
                ..
            } => {
                buffer.clear();
                for linea in linee_di(linee) {
                    buffer.extend_from_slice(prefisso);
                    if incrocio {
                        buffer.extend_from_slice(linea);
                    } else {
                        // key \t fingerprint \t [cross-entity key] \t fields: drop the third.
                        let (a, b) = terzo_campo(linea)?;
                        buffer.extend_from_slice(&linea[..a]);
                        buffer.extend_from_slice(&linea[b..]);
                    }
                    buffer.push(b'\n');
                    self.righe += 1;
                }
                copia.send(buffer.as_slice()).await?;
            }
            Modo::Sqlite {
                conn,
                sql,
                ente,
                data,
                flusso,
            } => {
                let mut h = conn.lock_handle().await?;
                let db = h.as_raw_handle();
                let fisso = Fisso {
                    ente,
                    data,
                    flusso: *flusso,
                };
                let n = senza_bloccare(|| {
                    inserisci_sqlite(db, sql, &fisso, linee, incrocio, campi_linea)
                })?;
                self.righe += n;
            }
        }
        Ok(())
    }

    /// Ends the load; hand the result to [`Tx::concludi_carico`].
    pub async fn fine(self) -> Risultato<CaricoFinito> {
        let tabella = match self.modo {
            Modo::Pg { copia, tabella, .. } => {
                copia.finish().await?;
                Some(tabella)
            }
            Modo::Sqlite { .. } => None,
        };
        Ok(CaricoFinito {
            tabella,
            righe: self.righe,
        })
    }
}

/// Rows a load must write before PostgreSQL's statistics of the table are refreshed in the
/// same transaction (below it, a stale estimate costs little whatever plan it picks).
pub const SOGLIA_STATISTICHE: u64 = 5_000;

/// A finished load, which the transaction must still conclude: `#[must_use]` so that a
/// caller cannot forget the statistics the next queries of the merge depend on.
#[must_use = "passare a Tx::concludi_carico: su PostgreSQL aggiorna le statistiche della tabella"]
pub struct CaricoFinito {
    /// The table, on PostgreSQL.
    tabella: Option<String>,
    righe: u64,
}

impl Tx {
    /// Concludes a bulk load; the number of versions written. On PostgreSQL, after a load of
    /// at least [`SOGLIA_STATISTICHE`] rows, `ANALYZE`s the table inside the transaction
    /// (which counts the transaction's own new rows): the merge's next queries (the
    /// dashboards' aggregates join the entity's units to its buildings) are planned on
    /// what the table now holds. Without it, on a table never analyzed (a new installation)
    /// or analyzed when small, the planner estimated a handful of rows and chose a nested
    /// loop over the entity's buildings for each unit: 200 000 units took minutes, a million
    /// did not finish (docs/PERFORMANCE.md). `ANALYZE` holds a lock that only another
    /// `ANALYZE`/`VACUUM` of the same table waits for, so two large merges of one table
    /// queue there while small ones and readers do not.
    pub async fn concludi_carico(&mut self, c: CaricoFinito) -> Risultato<u64> {
        if let (Some(t), TxInner::Pg(conn)) = (&c.tabella, &mut self.inner)
            && c.righe >= SOGLIA_STATISTICHE
        {
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {t}")))
                .execute(&mut **conn)
                .await?;
        }
        Ok(c.righe)
    }
}

/// The lines of a block, without their `\n`.
fn linee_di(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.split(|c| *c == b'\n')
}

/// The byte range of a line's third field together with the tab before it.
fn terzo_campo(linea: &[u8]) -> Risultato<(usize, usize)> {
    let mut tab = memchr::memchr_iter(b'\t', linea);
    match (tab.nth(1), tab.next()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(riga_illeggibile()),
    }
}

fn riga_illeggibile() -> ErroreArchivio {
    ErroreArchivio::Corrotto("riga di lavoro illeggibile".into())
}

/// Runs blocking work from async code: on a multi-thread runtime the worker hands its other
/// tasks over first (`block_in_place`); on a current-thread runtime (tests, one-shot commands)
/// there is no one to hand them to, so it just runs.
fn senza_bloccare<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// The values every row of a load shares.
struct Fisso<'a> {
    ente: &'a str,
    data: &'a str,
    flusso: i64,
}

/// A prepared statement, finalized when dropped (also on an early return).
struct Istruzione(*mut ffi::sqlite3_stmt);

impl Drop for Istruzione {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on the connection whose lock the caller holds for
        // the whole of `inserisci_sqlite`, and is finalized exactly once.
        unsafe {
            ffi::sqlite3_finalize(self.0);
        }
    }
}

/// The connection's last error, with the code that a uniqueness violation is recognised by.
fn errore_sqlite(db: *mut ffi::sqlite3, rc: c_int) -> ErroreArchivio {
    // SAFETY: `db` is the open connection whose lock the caller holds; the message is copied
    // before any other call on it.
    let msg = unsafe {
        let p = ffi::sqlite3_errmsg(db);
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    if rc == ffi::SQLITE_CONSTRAINT_UNIQUE || rc == ffi::SQLITE_CONSTRAINT_PRIMARYKEY {
        ErroreArchivio::Duplicato(msg)
    } else {
        ErroreArchivio::Caricamento(format!("{msg} (codice {rc})"))
    }
}

/// Inserts every line of `linee` with one prepared statement. Returns the rows written.
fn inserisci_sqlite(
    db: NonNull<ffi::sqlite3>,
    sql: &CStr,
    fisso: &Fisso<'_>,
    linee: &[u8],
    incrocio: bool,
    campi_linea: usize,
) -> Risultato<u64> {
    let db = db.as_ptr();
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: `db` is sqlx's connection, locked by the caller (`LockedSqliteHandle`), so no
    // other thread uses it; `sql` is NUL-terminated.
    let rc =
        unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut()) };
    if rc != ffi::SQLITE_OK {
        return Err(errore_sqlite(db, rc));
    }
    let stmt = Istruzione(stmt);
    let s = stmt.0;
    let mut scratch: Vec<u8> = Vec::new();
    let mut n = 0u64;
    // Binds text that outlives the step (the block, or `fisso`): SQLite keeps the pointer.
    // SAFETY (for every `unsafe` below): `s` is a live statement of the locked connection;
    // static pointers point into `linee` or `fisso`, which outlive the statement (it is
    // finalized at the end of this function, before they are released); transient text is
    // copied by SQLite before the call returns.
    let testo = |i: c_int, v: &[u8], statico: bool| -> c_int {
        let distruttore = if statico {
            ffi::SQLITE_STATIC()
        } else {
            ffi::SQLITE_TRANSIENT()
        };
        unsafe { ffi::sqlite3_bind_text(s, i, v.as_ptr().cast(), v.len() as c_int, distruttore) }
    };
    let ok = |rc: c_int| -> Risultato<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(errore_sqlite(db, rc))
        }
    };
    ok(testo(1, fisso.ente.as_bytes(), true))?;
    ok(testo(2, fisso.data.as_bytes(), true))?;
    ok(unsafe { ffi::sqlite3_bind_int64(s, 3, fisso.flusso) })?;
    for linea in linee_di(linee) {
        let mut param: c_int = 4;
        let mut k = 0usize;
        for campo in linea.split(|c| *c == b'\t') {
            k += 1;
            if k > campi_linea {
                return Err(riga_illeggibile());
            }
            match k {
                // The fingerprint, an integer column.
                2 => {
                    let v = std::str::from_utf8(campo)
                        .ok()
                        .and_then(|t| t.parse::<i64>().ok())
                        .ok_or_else(riga_illeggibile)?;
                    ok(unsafe { ffi::sqlite3_bind_int64(s, param, v) })?;
                }
                3 if !incrocio => continue,
                _ => {
                    let rc = if campo == b"\\N" {
                        unsafe { ffi::sqlite3_bind_null(s, param) }
                    } else if memchr::memchr(b'\\', campo).is_none() {
                        testo(param, campo, true)
                    } else {
                        scratch.clear();
                        senza_escape(campo, &mut scratch);
                        testo(param, &scratch, false)
                    };
                    ok(rc)?;
                }
            }
            param += 1;
        }
        if k != campi_linea {
            return Err(riga_illeggibile());
        }
        let rc = unsafe { ffi::sqlite3_step(s) };
        if rc != ffi::SQLITE_DONE {
            // The step's own error code (reset returns it again): keeps the constraint kind.
            let e = errore_sqlite(db, unsafe { ffi::sqlite3_extended_errcode(db) });
            unsafe { ffi::sqlite3_reset(s) };
            return Err(e);
        }
        unsafe { ffi::sqlite3_reset(s) };
        n += 1;
    }
    Ok(n)
}

/// The inverse of [`copia_campo`] on bytes (the text stays UTF-8: only ASCII escapes change).
fn senza_escape(campo: &[u8], out: &mut Vec<u8>) {
    let mut it = campo.iter().copied();
    while let Some(c) = it.next() {
        if c == b'\\' {
            match it.next() {
                Some(b't') => out.push(b'\t'),
                Some(b'n') => out.push(b'\n'),
                Some(b'r') => out.push(b'\r'),
                Some(x) => out.push(x),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn il_terzo_campo_si_toglie_con_la_sua_tabulazione() {
        let l = b"K\t12\t\\N\ta\tb";
        let (a, b) = terzo_campo(l).unwrap();
        let mut v = l[..a].to_vec();
        v.extend_from_slice(&l[b..]);
        assert_eq!(v, b"K\t12\ta\tb");
        assert!(terzo_campo(b"K\t12").is_err());
    }

    #[test]
    fn escape_e_inverso() {
        for s in ["a\tb\\c\nd\re", "", "nessuno", "\\N", "è già"] {
            let mut t = String::new();
            copia_campo(&mut t, Some(s));
            let mut out = Vec::new();
            senza_escape(t.as_bytes(), &mut out);
            assert_eq!(out, s.as_bytes(), "{s:?}");
        }
    }

    #[test]
    fn linee_di_un_blocco() {
        let v: Vec<&[u8]> = linee_di(b"a\tb\nc\n").collect();
        assert_eq!(v, vec![&b"a\tb"[..], &b"c"[..]]);
    }
}
