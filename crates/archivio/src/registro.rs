//! The shared registers with history: one table `reg_<tabella>` per spec table, one row per
//! version. A version is valid on day D when `valido_dal <= D` and (`valido_al` is NULL or
//! `valido_al > D`); the current version has `valido_al` NULL. Nothing is deleted.
//!
//! The field columns come from the spec (the service layer passes them in a [`Tavola`]); the
//! names are checked here against a closed list before any SQL is built with them.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use crate::flussi::Segnaposti;
use crate::{Archivio, ErroreArchivio, Pool, Risultato, Tx, TxInner, su_pool, su_tx};

/// The register tables that exist in the migrations.
const TAVOLE: &[&str] = &["complessi", "fabbricati", "unita"];

/// A register table: its spec name and its field columns (in the spec's order).
#[derive(Clone, Debug)]
pub struct Tavola {
    nome: &'static str,
    campi: Vec<&'static str>,
    /// Whether the table keeps the cadastral key column (`reg_unita`).
    catasto: bool,
}

impl Tavola {
    /// Checks the name against the migrations and the columns' spelling.
    pub fn new(nome: &'static str, campi: Vec<&'static str>) -> Risultato<Self> {
        let ok = TAVOLE.contains(&nome)
            && campi
                .iter()
                .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        if !ok {
            return Err(ErroreArchivio::Corrotto(format!(
                "tabella di registro sconosciuta: {nome}"
            )));
        }
        Ok(Self {
            nome,
            campi,
            catasto: nome == "unita",
        })
    }
    pub fn nome(&self) -> &'static str {
        self.nome
    }
    pub fn campi(&self) -> &[&'static str] {
        &self.campi
    }
    pub fn indice(&self, campo: &str) -> Option<usize> {
        self.campi.iter().position(|c| *c == campo)
    }
    fn sql(&self) -> String {
        format!("reg_{}", self.nome)
    }
    fn colonne(&self, alias: &str) -> String {
        let mut s = format!(
            "{alias}id, {alias}ente, {alias}chiave, {alias}valido_dal, {alias}valido_al, {alias}flusso_dal, {alias}flusso_al"
        );
        for c in &self.campi {
            s.push_str(", ");
            s.push_str(alias);
            s.push_str(c);
        }
        s
    }
}

/// One version of a record.
#[derive(Clone, Debug, Serialize)]
pub struct Versione {
    pub id: i64,
    pub ente: String,
    pub chiave: String,
    pub valido_dal: NaiveDate,
    pub valido_al: Option<NaiveDate>,
    pub flusso_dal: i64,
    pub flusso_al: Option<i64>,
    /// The field values in the table's order.
    pub campi: Vec<Option<String>>,
}

/// A new version to write.
#[derive(Clone, Debug)]
pub struct NuovaVersione {
    pub chiave: String,
    pub impronta: i64,
    pub catasto: Option<String>,
    pub campi: Vec<Option<String>>,
}

/// Which versions a list shows.
#[derive(Clone, Debug, Default)]
pub struct FiltroRegistro {
    pub ente: Option<String>,
    /// Field = value (fields of the table, checked).
    pub uguale: Vec<(String, String)>,
    /// Units only: the building's comune (as of the same date).
    pub comune_unita: Option<String>,
    /// Case-insensitive substring over codes (and, for units, the building's address).
    pub cerca: Option<String>,
    /// The register as it was on that day; `None` = now.
    pub alla_data: Option<NaiveDate>,
    /// Sort field (one of the table's fields, or `chiave`).
    pub ordina: Option<String>,
    /// Keyset cursor: the (sort value, ente, chiave) of the last row shown.
    pub dopo: Option<(String, String, String)>,
    pub limite: i64,
}

/// Parameters bound to a query built at run time.
enum Par {
    T(String),
    D(NaiveDate),
}

fn leggi_versione<R: Row>(r: &R, n: usize) -> Result<Versione, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'a> sqlx::Decode<'a, R::Database>,
    String: sqlx::Type<R::Database> + for<'a> sqlx::Decode<'a, R::Database>,
    NaiveDate: sqlx::Type<R::Database> + for<'a> sqlx::Decode<'a, R::Database>,
{
    let mut campi = Vec::with_capacity(n);
    for i in 0..n {
        campi.push(r.try_get::<Option<String>, _>(7 + i)?);
    }
    Ok(Versione {
        id: r.try_get(0)?,
        ente: r.try_get(1)?,
        chiave: r.try_get(2)?,
        valido_dal: r.try_get(3)?,
        valido_al: r.try_get(4)?,
        flusso_dal: r.try_get(5)?,
        flusso_al: r.try_get(6)?,
        campi,
    })
}

/// Runs a `SELECT` of versions built at run time with its parameters, on either backend.
macro_rules! seleziona_versioni {
    ($arch:expr, $sql:expr, $par:expr, $n:expr) => {{
        let sql: String = $sql;
        su_pool!($arch, p => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for x in $par.iter() {
                q = match x {
                    Par::T(s) => q.bind(s.clone()),
                    Par::D(d) => q.bind(*d),
                };
            }
            match q.fetch_all(p).await {
                Ok(righe) => righe.iter().map(|r| leggi_versione(r, $n)).collect::<Result<Vec<_>, _>>(),
                Err(e) => Err(e),
            }
        })?
    }};
}

/// The validity condition on `alias` as of parameter `$k` (or the current version).
fn valida_a(alias: &str, data: Option<usize>) -> String {
    match data {
        Some(k) => format!(
            "{alias}valido_dal <= ${k} AND ({alias}valido_al IS NULL OR {alias}valido_al > ${k})"
        ),
        None => format!("{alias}valido_al IS NULL"),
    }
}

impl Archivio {
    /// The current versions' keys, ids and fingerprints of an entity (for diff and merge).
    pub async fn chiavi_correnti(
        &self,
        t: &Tavola,
        ente: &str,
    ) -> Risultato<Vec<(String, i64, i64)>> {
        let sql = format!(
            "SELECT chiave, id, impronta FROM {} WHERE ente = $1 AND valido_al IS NULL",
            t.sql()
        );
        let v: Vec<(String, i64, i64)> = su_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(ente).fetch_all(p).await)?;
        Ok(v)
    }

    /// The current versions of some keys of an entity.
    pub async fn versioni_correnti(
        &self,
        t: &Tavola,
        ente: &str,
        chiavi: &[String],
    ) -> Risultato<Vec<Versione>> {
        let mut out = Vec::with_capacity(chiavi.len());
        for blocco in chiavi.chunks(5000) {
            let mut p = Segnaposti::new(self.is_postgres());
            let mut sql = format!("SELECT {} FROM {} WHERE ente = ", t.colonne(""), t.sql());
            p.prossimo(&mut sql);
            sql.push_str(" AND valido_al IS NULL AND chiave IN (");
            p.elenco(&mut sql, blocco.len());
            sql.push(')');
            let mut par = vec![Par::T(ente.to_string())];
            par.extend(blocco.iter().map(|c| Par::T(c.clone())));
            let v = seleziona_versioni!(self, sql, par, t.campi.len());
            out.extend(v);
        }
        Ok(out)
    }

    /// The current cadastral keys of units of other entities: (key, entity).
    pub async fn catasti_altrui(&self, ente: &str) -> Risultato<Vec<(String, String)>> {
        let v: Vec<(String, String)> = su_pool!(self, p => sqlx::query_as(
            "SELECT catasto, ente FROM reg_unita WHERE valido_al IS NULL AND ente <> $1 AND catasto IS NOT NULL")
            .bind(ente).fetch_all(p).await)?;
        Ok(v)
    }

    /// Every version of one record, oldest first.
    pub async fn storia(&self, t: &Tavola, ente: &str, chiave: &str) -> Risultato<Vec<Versione>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE ente = $1 AND chiave = $2 ORDER BY valido_dal, id",
            t.colonne(""),
            t.sql()
        );
        let par = [Par::T(ente.into()), Par::T(chiave.into())];
        Ok(seleziona_versioni!(self, sql, par, t.campi.len()))
    }

    /// A page of a register list. Sorted by (sort field, ente, chiave), paged by keyset so that
    /// a page costs the same at the millionth row as at the first.
    pub async fn elenco_registro(
        &self,
        t: &Tavola,
        f: &FiltroRegistro,
    ) -> Risultato<Vec<Versione>> {
        let mut par: Vec<Par> = Vec::new();
        let mut dove: Vec<String> = Vec::new();
        let data = f.alla_data.map(|d| {
            par.push(Par::D(d));
            par.len()
        });
        dove.push(valida_a("r.", data));
        if let Some(e) = &f.ente {
            par.push(Par::T(e.clone()));
            dove.push(format!("r.ente = ${}", par.len()));
        }
        for (campo, valore) in &f.uguale {
            if t.indice(campo).is_none() {
                return Err(ErroreArchivio::Corrotto(format!(
                    "campo sconosciuto: {campo}"
                )));
            }
            par.push(Par::T(valore.clone()));
            dove.push(format!("r.{campo} = ${}", par.len()));
        }
        let fabbricati_validi = valida_a("b.", data);
        if let Some(c) = &f.comune_unita {
            par.push(Par::T(c.clone()));
            dove.push(format!(
                "r.codice_fabbricato IN (SELECT b.chiave FROM reg_fabbricati b WHERE b.ente = r.ente AND b.comune_istat = ${} AND {fabbricati_validi})",
                par.len()
            ));
        }
        if let Some(q) = f.cerca.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let like = format!(
                "%{}%",
                q.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            par.push(Par::T(like));
            let k = par.len();
            let mut o = vec![format!("lower(r.chiave) LIKE ${k} ESCAPE '\\'")];
            for c in [
                "codice_fabbricato",
                "codice_complesso",
                "indirizzo",
                "denominazione",
            ] {
                if t.indice(c).is_some() {
                    o.push(format!("lower(r.{c}) LIKE ${k} ESCAPE '\\'"));
                }
            }
            if t.nome == "unita" {
                o.push(format!(
                    "r.codice_fabbricato IN (SELECT b.chiave FROM reg_fabbricati b WHERE b.ente = r.ente AND lower(b.indirizzo) LIKE ${k} ESCAPE '\\' AND {fabbricati_validi})"
                ));
                o.push(format!(
                    "lower(r.foglio || '/' || r.particella || '/' || r.subalterno) LIKE ${k} ESCAPE '\\'"
                ));
            }
            dove.push(format!("({})", o.join(" OR ")));
        }
        let ordina = match f.ordina.as_deref() {
            None | Some("chiave") => None,
            Some(c) if t.indice(c).is_some() => Some(c),
            Some(c) => {
                return Err(ErroreArchivio::Corrotto(format!(
                    "ordinamento sconosciuto: {c}"
                )));
            }
        };
        let chiave_ord = match ordina {
            Some(c) => format!("COALESCE(r.{c}, '')"),
            None => "''".to_string(),
        };
        // With one entity the order is (sort value, chiave): comparing `ente` too would make
        // PostgreSQL scan the entity's index from its start up to the cursor, so that a page
        // cost grew with its depth (737 ms p95 at a million units, bench/registro.sh).
        let con_ente = f.ente.is_some();
        let mut chiavi_ord: Vec<String> = Vec::new();
        if ordina.is_some() {
            chiavi_ord.push(chiave_ord.clone());
        }
        if !con_ente {
            chiavi_ord.push("r.ente".into());
        }
        chiavi_ord.push("r.chiave".into());
        if let Some((v, e, c)) = &f.dopo {
            let mut valori = Vec::new();
            if ordina.is_some() {
                valori.push(v);
            }
            if !con_ente {
                valori.push(e);
            }
            valori.push(c);
            let mut segnaposti = Vec::new();
            for x in valori {
                par.push(Par::T(x.clone()));
                segnaposti.push(format!("${}", par.len()));
            }
            dove.push(format!(
                "({}) > ({})",
                chiavi_ord.join(", "),
                segnaposti.join(", ")
            ));
        }
        let ordine = chiavi_ord.join(", ");
        let sql = format!(
            "SELECT {} FROM {} r WHERE {} ORDER BY {ordine} LIMIT {}",
            t.colonne("r."),
            t.sql(),
            dove.join(" AND "),
            f.limite.clamp(1, 10_000)
        );
        Ok(seleziona_versioni!(self, sql, par, t.campi.len()))
    }
}

impl Tx {
    /// The current keys, ids and fingerprints, read inside the merging transaction.
    pub async fn chiavi_correnti(
        &mut self,
        t: &Tavola,
        ente: &str,
    ) -> Risultato<Vec<(String, i64, i64)>> {
        let sql = format!(
            "SELECT chiave, id, impronta FROM {} WHERE ente = $1 AND valido_al IS NULL",
            t.sql()
        );
        let v: Vec<(String, i64, i64)> = su_tx!(self, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(ente).fetch_all(c).await)?;
        Ok(v)
    }

    /// Serializes merges of one entity: on PostgreSQL locks the entity's row until commit (on
    /// SQLite the write transaction already excludes every other writer).
    pub async fn blocca_ente(&mut self, ente: &str) -> Risultato<()> {
        if let TxInner::Pg(c) = &mut self.inner {
            sqlx::query("SELECT codice FROM enti WHERE codice = $1 FOR UPDATE")
                .bind(ente)
                .fetch_optional(&mut **c)
                .await?;
        }
        Ok(())
    }

    /// Closes versions (their validity ends on `data`, by flow `flusso`).
    pub async fn chiudi_versioni(
        &mut self,
        t: &Tavola,
        ids: &[i64],
        data: NaiveDate,
        flusso: i64,
    ) -> Risultato<u64> {
        let mut n = 0;
        for blocco in ids.chunks(5000) {
            let mut p = Segnaposti::new(self.is_postgres());
            let mut sql = format!("UPDATE {} SET valido_al = ", t.sql());
            p.prossimo(&mut sql);
            sql.push_str(", flusso_al = ");
            p.prossimo(&mut sql);
            sql.push_str(" WHERE valido_al IS NULL AND id IN (");
            p.elenco(&mut sql, blocco.len());
            sql.push(')');
            n += su_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(data).bind(flusso);
                for id in blocco {
                    q = q.bind(*id);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(n)
    }

    /// Writes new versions valid from `data`, produced by flow `flusso`. PostgreSQL gets them
    /// through `COPY` (the bulk path); SQLite through multi-row `INSERT`s.
    pub async fn inserisci_versioni(
        &mut self,
        t: &Tavola,
        ente: &str,
        data: NaiveDate,
        flusso: i64,
        righe: &[NuovaVersione],
    ) -> Risultato<()> {
        if righe.is_empty() {
            return Ok(());
        }
        let mut colonne = String::from("ente, valido_dal, flusso_dal, chiave, impronta");
        if t.catasto {
            colonne.push_str(", catasto");
        }
        for c in &t.campi {
            colonne.push_str(", ");
            colonne.push_str(c);
        }
        match &mut self.inner {
            TxInner::Pg(c) => {
                let mut testo = String::with_capacity(righe.len() * 200);
                let data_txt = data.format("%Y-%m-%d").to_string();
                for r in righe {
                    copia_campo(&mut testo, Some(ente));
                    testo.push('\t');
                    testo.push_str(&data_txt);
                    testo.push('\t');
                    testo.push_str(&flusso.to_string());
                    testo.push('\t');
                    copia_campo(&mut testo, Some(&r.chiave));
                    testo.push('\t');
                    testo.push_str(&r.impronta.to_string());
                    if t.catasto {
                        testo.push('\t');
                        copia_campo(&mut testo, r.catasto.as_deref());
                    }
                    for v in &r.campi {
                        testo.push('\t');
                        copia_campo(&mut testo, v.as_deref());
                    }
                    testo.push('\n');
                }
                let sql = format!("COPY {} ({colonne}) FROM STDIN", t.sql());
                let mut copia = c.copy_in_raw(&sql).await?;
                copia.send(testo.into_bytes()).await?;
                copia.finish().await?;
            }
            TxInner::Sqlite(c) => {
                let per_riga = 5 + usize::from(t.catasto) + t.campi.len();
                // SQLite allows 32 766 parameters per statement.
                let per_blocco = (30_000 / per_riga).max(1);
                for blocco in righe.chunks(per_blocco) {
                    let mut sql = format!("INSERT INTO {} ({colonne}) VALUES ", t.sql());
                    Segnaposti::new(false).righe(&mut sql, blocco.len(), per_riga);
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for r in blocco {
                        q = q
                            .bind(ente)
                            .bind(data)
                            .bind(flusso)
                            .bind(&r.chiave)
                            .bind(r.impronta);
                        if t.catasto {
                            q = q.bind(&r.catasto);
                        }
                        for v in &r.campi {
                            q = q.bind(v);
                        }
                    }
                    q.execute(&mut **c).await?;
                }
            }
        }
        Ok(())
    }
}

/// A value in PostgreSQL's `COPY` text format (also the form of a flow's staging file).
pub fn copia_campo(out: &mut String, v: Option<&str>) {
    match v {
        None => out.push_str("\\N"),
        Some(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

impl Archivio {
    /// Whether this is PostgreSQL (the bulk path differs).
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Pg(_))
    }
}
