//! The shared registers with history: one table `reg_<tabella>` per register table of a
//! domain, one row per version. A version is valid on day D when `valido_dal <= D` and
//! (`valido_al` is NULL or `valido_al > D`); the current version has `valido_al` NULL. Nothing is
//! deleted.
//!
//! The tables are not written in a migration: they are generated from the domains' definitions
//! (`flussi::spec::registro`, turned into [`Tavola`]s by the service layer) and created or
//! completed at start by [`Archivio::prepara_registro`]. Names are checked here (lower-case
//! letters and `_`) before any SQL is built with them.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use crate::flussi::Segnaposti;
use crate::{Archivio, ErroreArchivio, Pool, Risultato, Tx, TxInner, su_pool, su_tx};

/// What a register list's free-text search looks at, besides the key.
#[derive(Clone, Debug)]
pub enum Ricerca {
    Campo(&'static str),
    /// Fields joined by `/`.
    Unione(Vec<&'static str>),
    /// A field of the parent record (valid on the same day).
    Genitore(&'static str),
}

/// A register table: its storage name, its field columns (in the spec's order) and what the
/// engine needs to build its storage and its queries.
#[derive(Clone, Debug)]
pub struct Tavola {
    nome: &'static str,
    sql: String,
    campi: Vec<&'static str>,
    /// A cross-entity key column (indexed on current versions), e.g. `catasto`.
    incrocio: Option<&'static str>,
    /// The parent's storage name and the field of this table that holds the parent's key.
    genitore: Option<(String, &'static str)>,
    ricerca: Vec<Ricerca>,
    /// Fields with an index of their own.
    indicizzati: Vec<&'static str>,
}

/// A name safe to put in SQL: lower-case ASCII letters, digits after the first, `_`.
fn nome_sicuro(n: &str) -> bool {
    n.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && n.len() <= 60
}

fn corrotto(cosa: &str, n: &str) -> ErroreArchivio {
    ErroreArchivio::Corrotto(format!("{cosa} di registro non valido: {n}"))
}

impl Tavola {
    /// A register table `nome` stored in `sql`, with these field columns.
    pub fn new(nome: &'static str, sql: String, campi: Vec<&'static str>) -> Risultato<Self> {
        if !nome_sicuro(nome) || !nome_sicuro(&sql) {
            return Err(corrotto("tabella", &sql));
        }
        if let Some(c) = campi
            .iter()
            .find(|c| !nome_sicuro(c) || COLONNE_FISSE.contains(c))
        {
            return Err(corrotto("campo", c));
        }
        Ok(Self {
            nome,
            sql,
            campi,
            incrocio: None,
            genitore: None,
            ricerca: Vec::new(),
            indicizzati: Vec::new(),
        })
    }
    pub fn con_incrocio(mut self, colonna: &'static str) -> Risultato<Self> {
        if !nome_sicuro(colonna) || self.campi.contains(&colonna) {
            return Err(corrotto("campo", colonna));
        }
        self.incrocio = Some(colonna);
        Ok(self)
    }
    /// Records hang from a record of `genitore` (storage name) through field `campo`.
    pub fn con_genitore(mut self, genitore: String, campo: &'static str) -> Risultato<Self> {
        if !nome_sicuro(&genitore) || self.indice(campo).is_none() {
            return Err(corrotto("genitore", &genitore));
        }
        self.genitore = Some((genitore, campo));
        Ok(self)
    }
    pub fn con_ricerca(mut self, r: Vec<Ricerca>) -> Risultato<Self> {
        for x in &r {
            let ok = match x {
                Ricerca::Campo(c) => self.indice(c).is_some(),
                Ricerca::Unione(v) => v.iter().all(|c| self.indice(c).is_some()),
                Ricerca::Genitore(c) => self.genitore.is_some() && nome_sicuro(c),
            };
            if !ok {
                return Err(corrotto("campo di ricerca", &format!("{x:?}")));
            }
        }
        self.ricerca = r;
        Ok(self)
    }
    pub fn con_indici(mut self, campi: Vec<&'static str>) -> Risultato<Self> {
        if let Some(c) = campi.iter().find(|c| self.indice(c).is_none()) {
            return Err(corrotto("indice", c));
        }
        self.indicizzati = campi;
        Ok(self)
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
    /// The storage table's name.
    pub fn nome_archivio(&self) -> &str {
        &self.sql
    }
    fn sql(&self) -> &str {
        &self.sql
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

    /// The indexes the engine needs besides the current-version and history ones:
    /// (name, `CREATE INDEX` text).
    fn indici(&self) -> Vec<(String, String)> {
        let t = &self.sql;
        let mut v = vec![
            (
                format!("{t}_corrente"),
                format!(
                    "CREATE UNIQUE INDEX IF NOT EXISTS {t}_corrente ON {t} (ente, chiave) WHERE valido_al IS NULL"
                ),
            ),
            (
                format!("{t}_storia"),
                format!("CREATE INDEX IF NOT EXISTS {t}_storia ON {t} (ente, chiave, valido_dal)"),
            ),
        ];
        // A parent's page lists its children; the parent filters and search join on it.
        if let Some((_, c)) = &self.genitore {
            v.push((
                format!("{t}_{c}"),
                format!("CREATE INDEX IF NOT EXISTS {t}_{c} ON {t} (ente, {c})"),
            ));
        }
        for c in &self.indicizzati {
            v.push((
                format!("{t}_{c}"),
                format!("CREATE INDEX IF NOT EXISTS {t}_{c} ON {t} ({c})"),
            ));
        }
        if let Some(c) = self.incrocio {
            v.push((
                format!("{t}_{c}"),
                format!("CREATE INDEX IF NOT EXISTS {t}_{c} ON {t} ({c}) WHERE valido_al IS NULL"),
            ));
        }
        v
    }

    /// The `CREATE TABLE` of this register table on a backend.
    pub fn ddl(&self, postgres: bool) -> String {
        let id = if postgres {
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        } else {
            "INTEGER PRIMARY KEY"
        };
        // No foreign keys: rows are written only by the merge, which holds the entity and the
        // flow locked, and entities and flows are never deleted; the per-row checks halved the
        // speed of loading a million units (bench/registro.sh).
        let mut s = format!(
            "CREATE TABLE IF NOT EXISTS {} (id {id}, ente TEXT NOT NULL, chiave TEXT NOT NULL, \
             impronta BIGINT NOT NULL, valido_dal DATE NOT NULL, valido_al DATE, \
             flusso_dal BIGINT NOT NULL, flusso_al BIGINT",
            self.sql
        );
        for c in self.incrocio.iter().chain(&self.campi) {
            s.push_str(", ");
            s.push_str(c);
            s.push_str(" TEXT");
        }
        s.push(')');
        s
    }
}

/// The columns every register table has before its fields.
const COLONNE_FISSE: &[&str] = &[
    "id",
    "ente",
    "chiave",
    "impronta",
    "valido_dal",
    "valido_al",
    "flusso_dal",
    "flusso_al",
];

/// The query of a table's column names (parameter: the table).
fn sql_colonne(postgres: bool) -> String {
    if postgres {
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1"
            .into()
    } else {
        "SELECT name FROM pragma_table_info($1)".into()
    }
}

/// The query of a table's index names (parameter: the table).
fn sql_indici(postgres: bool) -> String {
    if postgres {
        "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1".into()
    } else {
        "SELECT name FROM pragma_index_list($1)".into()
    }
}

/// What a register table's storage lacks, as DDL: the table, its missing columns, its missing
/// indexes.
fn comandi_registro(
    t: &Tavola,
    colonne: &[String],
    indici: &[String],
    postgres: bool,
) -> Vec<String> {
    let mut v = Vec::new();
    if colonne.is_empty() {
        v.push(t.ddl(postgres));
    } else {
        for c in t.incrocio.iter().chain(&t.campi) {
            if !colonne.iter().any(|x| x == c) {
                v.push(format!("ALTER TABLE {} ADD COLUMN {c} TEXT", t.sql()));
            }
        }
    }
    v.extend(
        t.indici()
            .into_iter()
            .filter(|(nome, _)| !indici.contains(nome))
            .map(|(_, ddl)| ddl),
    );
    v
}

/// The PostgreSQL advisory lock that serializes servers preparing the register at start
/// ("PUSHREG" in ASCII).
const BLOCCO_PREPARAZIONE: i64 = 0x50_55_53_48_52_45_47;

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
    /// The cross-entity key, for tables that keep one.
    pub incrocio: Option<String>,
    pub campi: Vec<Option<String>>,
}

/// Which versions a list shows.
#[derive(Clone, Debug, Default)]
pub struct FiltroRegistro {
    pub ente: Option<String>,
    /// Field = value (fields of the table, checked).
    pub uguale: Vec<(String, String)>,
    /// Field of the parent record = value (the parent as valid on the same day).
    pub genitore: Vec<(String, String)>,
    /// Case-insensitive substring over the key and the table's searched fields.
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

    /// The current cross-entity keys of other entities' records of a table: (key, entity).
    pub async fn incroci_altrui(&self, t: &Tavola, ente: &str) -> Risultato<Vec<(String, String)>> {
        let Some(c) = t.incrocio else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {c}, ente FROM {} WHERE valido_al IS NULL AND ente <> $1 AND {c} IS NOT NULL",
            t.sql()
        );
        let v: Vec<(String, String)> = su_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(ente).fetch_all(p).await)?;
        Ok(v)
    }

    /// The versions of a child table whose parent field (`genitore`) holds one of the given
    /// `(ente, parent key)` pairs, valid on `alla_data` (or current): the SAL of a page of
    /// interventions in one query instead of one per row. Ordered by entity, parent, key.
    pub async fn figli(
        &self,
        t: &Tavola,
        coppie: &[(String, String)],
        alla_data: Option<NaiveDate>,
    ) -> Risultato<Vec<Versione>> {
        let Some((_, campo)) = &t.genitore else {
            return Err(ErroreArchivio::Corrotto(format!(
                "{}: figli di una tabella senza genitore",
                t.nome
            )));
        };
        let mut out = Vec::new();
        for blocco in coppie.chunks(500) {
            let mut par: Vec<Par> = Vec::new();
            let data = alla_data.map(|d| {
                par.push(Par::D(d));
                par.len()
            });
            let mut o = Vec::with_capacity(blocco.len());
            for (e, k) in blocco {
                par.push(Par::T(e.clone()));
                par.push(Par::T(k.clone()));
                o.push(format!(
                    "(r.ente = ${} AND r.{campo} = ${})",
                    par.len() - 1,
                    par.len()
                ));
            }
            let sql = format!(
                "SELECT {} FROM {} r WHERE {} AND ({}) ORDER BY r.ente, r.{campo}, r.chiave",
                t.colonne("r."),
                t.sql(),
                valida_a("r.", data),
                o.join(" OR ")
            );
            out.extend(seleziona_versioni!(self, sql, par, t.campi.len()));
        }
        Ok(out)
    }

    /// The current records whose cross-entity key is declared by more than one entity (the
    /// Region's list of conflicts: the same cadastral unit, the same CUP), by key then
    /// entity; at most `limite` rows.
    pub async fn incroci_condivisi(&self, t: &Tavola, limite: i64) -> Risultato<Vec<Versione>> {
        let Some(c) = t.incrocio else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {} FROM {tab} r WHERE r.valido_al IS NULL AND r.{c} IN (SELECT x.{c} FROM {tab} x WHERE x.valido_al IS NULL AND x.{c} IS NOT NULL GROUP BY x.{c} HAVING COUNT(DISTINCT x.ente) > 1) ORDER BY r.{c}, r.ente, r.chiave LIMIT {}",
            t.colonne("r."),
            limite.clamp(1, 10_000),
            tab = t.sql(),
        );
        let par: [Par; 0] = [];
        Ok(seleziona_versioni!(self, sql, par, t.campi.len()))
    }

    /// Counts and exact sums of a money field, grouped by a field: of the table itself
    /// (`via_genitore` false: interventions by programme) or of each row's parent as valid on
    /// the same day (`via_genitore` true: disbursements by their intervention's programme).
    /// Money is stored canonical (`1234.56`, always two decimals), so dropping the dot gives
    /// integer cents: the sum is integer arithmetic on both backends, never a float.
    pub async fn somme_per_gruppo(
        &self,
        t: &Tavola,
        gruppo: &str,
        importo: &str,
        via_genitore: bool,
        ente: Option<&str>,
        alla_data: Option<NaiveDate>,
    ) -> Risultato<Vec<(Option<String>, i64, i64)>> {
        if !nome_sicuro(gruppo) || !nome_sicuro(importo) || t.indice(importo).is_none() {
            return Err(corrotto("campo", importo));
        }
        let mut par: Vec<Par> = Vec::new();
        let data = alla_data.map(|d| {
            par.push(Par::D(d));
            par.len()
        });
        let mut dove = vec![valida_a("r.", data)];
        if let Some(e) = ente {
            par.push(Par::T(e.to_string()));
            dove.push(format!("r.ente = ${}", par.len()));
        }
        let (da, col) = if via_genitore {
            let Some((tg, campo)) = &t.genitore else {
                return Err(corrotto("genitore", t.nome));
            };
            (
                format!(
                    "{} r JOIN {tg} b ON b.ente = r.ente AND b.chiave = r.{campo} AND {}",
                    t.sql(),
                    valida_a("b.", data)
                ),
                format!("b.{gruppo}"),
            )
        } else {
            if t.indice(gruppo).is_none() {
                return Err(corrotto("campo", gruppo));
            }
            (format!("{} r", t.sql()), format!("r.{gruppo}"))
        };
        let tipo = if self.is_postgres() {
            "BIGINT"
        } else {
            "INTEGER"
        };
        let sql = format!(
            "SELECT {col}, COUNT(*), CAST(COALESCE(SUM(CAST(REPLACE(r.{importo}, '.', '') AS {tipo})), 0) AS {tipo}) FROM {da} WHERE {} GROUP BY {col} ORDER BY {col}",
            dove.join(" AND ")
        );
        let v: Vec<(Option<String>, i64, i64)> = su_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for x in par.iter() {
                q = match x {
                    Par::T(s) => q.bind(s.clone()),
                    Par::D(d) => q.bind(*d),
                };
            }
            q.fetch_all(p).await
        })?;
        Ok(v)
    }

    /// The column names of a register table as stored (empty if it does not exist).
    pub async fn colonne_registro(&self, t: &Tavola) -> Risultato<Vec<String>> {
        let v: Vec<String> = su_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql_colonne(self.is_postgres())))
            .bind(t.sql()).fetch_all(p).await)?;
        Ok(v)
    }

    /// The index names of a register table as stored.
    pub async fn indici_registro(&self, t: &Tavola) -> Risultato<Vec<String>> {
        let v: Vec<String> = su_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql_indici(self.is_postgres())))
            .bind(t.sql()).fetch_all(p).await)?;
        Ok(v)
    }

    /// Creates the register tables that do not exist yet, adds the columns of fields the
    /// definitions gained since, and the indexes the engine needs. A column is never dropped: a
    /// field removed from a definition keeps its history. When everything is in place (every
    /// start but the first after a change) it only reads; otherwise servers starting together
    /// queue on a lock (PostgreSQL) or on the write lock (SQLite) and look again inside it.
    pub async fn prepara_registro(&self, tavole: &[Tavola]) -> Risultato<()> {
        let mut manca = false;
        for t in tavole {
            let colonne = self.colonne_registro(t).await?;
            let indici = self.indici_registro(t).await?;
            manca |= !comandi_registro(t, &colonne, &indici, self.is_postgres()).is_empty();
        }
        if !manca {
            return Ok(());
        }
        let postgres = self.is_postgres();
        let mut tx = self.inizia().await?;
        if let TxInner::Pg(c) = &mut tx.inner {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(BLOCCO_PREPARAZIONE)
                .execute(&mut **c)
                .await?;
        }
        for t in tavole {
            let colonne: Vec<String> = su_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql_colonne(postgres)))
                .bind(t.sql()).fetch_all(c).await)?;
            let indici: Vec<String> = su_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql_indici(postgres)))
                .bind(t.sql()).fetch_all(c).await)?;
            for sql in comandi_registro(t, &colonne, &indici, postgres) {
                su_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
        tx.commit().await
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
        let genitore_valido = valida_a("b.", data);
        if !f.genitore.is_empty() {
            let Some((tg, campo)) = &t.genitore else {
                return Err(ErroreArchivio::Corrotto(format!(
                    "{}: filtro sul genitore senza genitore",
                    t.nome
                )));
            };
            let mut cond = Vec::new();
            for (c, valore) in &f.genitore {
                if !nome_sicuro(c) {
                    return Err(corrotto("campo", c));
                }
                par.push(Par::T(valore.clone()));
                cond.push(format!("b.{c} = ${}", par.len()));
            }
            dove.push(format!(
                "r.{campo} IN (SELECT b.chiave FROM {tg} b WHERE b.ente = r.ente AND {} AND {genitore_valido})",
                cond.join(" AND ")
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
            for x in &t.ricerca {
                match x {
                    Ricerca::Campo(c) => o.push(format!("lower(r.{c}) LIKE ${k} ESCAPE '\\'")),
                    Ricerca::Unione(v) => {
                        let unione: Vec<String> = v.iter().map(|c| format!("r.{c}")).collect();
                        o.push(format!(
                            "lower({}) LIKE ${k} ESCAPE '\\'",
                            unione.join(" || '/' || ")
                        ));
                    }
                    Ricerca::Genitore(c) => {
                        if let Some((tg, campo)) = &t.genitore {
                            o.push(format!(
                                "r.{campo} IN (SELECT b.chiave FROM {tg} b WHERE b.ente = r.ente AND lower(b.{c}) LIKE ${k} ESCAPE '\\' AND {genitore_valido})"
                            ));
                        }
                    }
                }
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
        if let Some(c) = t.incrocio {
            colonne.push_str(", ");
            colonne.push_str(c);
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
                    if t.incrocio.is_some() {
                        testo.push('\t');
                        copia_campo(&mut testo, r.incrocio.as_deref());
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
                let per_riga = 5 + usize::from(t.incrocio.is_some()) + t.campi.len();
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
                        if t.incrocio.is_some() {
                            q = q.bind(&r.incrocio);
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
