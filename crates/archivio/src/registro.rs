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
    pub(crate) genitore: Option<(String, &'static str)>,
    ricerca: Vec<Ricerca>,
    /// Fields with an index of their own.
    indicizzati: Vec<&'static str>,
    /// Fields of this table that its children search through [`Ricerca::Genitore`]: they join
    /// this table's search index after its own searched fields.
    cercati_dai_figli: Vec<&'static str>,
    /// The parent's search index, for [`Ricerca::Genitore`].
    indice_genitore: Option<IndiceRicerca>,
}

/// One item of a table's search index: a column (the key or a field) or fields joined by `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Voce {
    Colonna(&'static str),
    Unione(Vec<&'static str>),
}

impl Voce {
    /// The item's SQL over the row `alias` (`r.`, `new.`, or empty). A union is NULL when one
    /// of its fields is (as the unindexed search was).
    fn sql(&self, alias: &str) -> String {
        match self {
            Voce::Colonna(c) => format!("{alias}{c}"),
            Voce::Unione(v) => v
                .iter()
                .map(|c| format!("{alias}{c}"))
                .collect::<Vec<_>>()
                .join(" || '/' || "),
        }
    }
}

/// A register table's search index: generated from its definition like the table itself
/// (SQLite: an FTS5 trigram table; PostgreSQL: a pg_trgm GIN index on one expression).
#[derive(Clone, Debug)]
struct IndiceRicerca {
    /// `<tabella>_cerca_<hash of the items>`: a changed definition gets a new index (and the
    /// old one is dropped) instead of an index that silently disagrees with it.
    nome: String,
    tabella: String,
    voci: Vec<Voce>,
    /// How many of `voci` are the table's own search (the rest are for its children).
    proprie: usize,
}

impl IndiceRicerca {
    fn new(tabella: &str, voci: Vec<Voce>, proprie: usize) -> Self {
        // FNV-1a: stable across builds and platforms (std's hasher is not promised to be).
        // The version of the index's upkeep comes first: a new way of keeping it gets new
        // indexes, built from the rows, instead of one kept the old way.
        let testo = format!(
            "{VERSIONE_RICERCA};{}",
            voci.iter().map(|v| v.sql("")).collect::<Vec<_>>().join(";")
        );
        let mut h: u32 = 0x811c_9dc5;
        for b in testo.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        Self {
            nome: format!("{tabella}_cerca_{h:08x}"),
            tabella: tabella.to_string(),
            voci,
            proprie,
        }
    }

    /// The FTS5 column of a field (SQLite).
    fn colonna(&self, campo: &str) -> Option<usize> {
        self.voci
            .iter()
            .position(|v| matches!(v, Voce::Colonna(c) if *c == campo))
    }

    /// The one indexed expression (PostgreSQL): every item lower-cased, joined by a newline
    /// (a search without one cannot match across two items). Searches repeat it verbatim so
    /// that the planner recognizes the index.
    fn documento(&self, alias: &str) -> String {
        let v: Vec<String> = self
            .voci
            .iter()
            .map(|x| format!("COALESCE({}, '')", x.sql(alias)))
            .collect();
        format!("lower({})", v.join(" || E'\\n' || "))
    }

    /// What creates the index and fills it from the rows already stored.
    fn ddl(&self, postgres: bool) -> Vec<String> {
        let (f, t) = (&self.nome, &self.tabella);
        if postgres {
            // fastupdate (the default) queues a merge's new entries in the pending list and
            // folds them in bulk.
            return vec![format!(
                "CREATE INDEX IF NOT EXISTS {f} ON {t} USING gin (({}) gin_trgm_ops)",
                self.documento("")
            )];
        }
        let colonne: Vec<String> = (0..self.voci.len()).map(|i| format!("k{i}")).collect();
        let colonne = colonne.join(", ");
        // Contentless (the text is in the register table already) and without column sizes
        // (no ranking): the index holds only the trigrams. It is filled after the merges, not
        // inside them ([`Archivio::riordina_ricerca`]: trigrams cost SQLite four times a bare
        // insert, docs/PERFORMANCE.md): `ricerca_indicizzata` keeps the highest row id it
        // holds, and a search reads the rows above it by `LIKE`. Versions are append-only (the
        // merge only inserts them and sets valido_al/flusso_al; rows are deleted only all at
        // once, by `svuota_dati`, which empties the index too), so "every id up to n" is
        // exact.
        vec![
            format!(
                "CREATE VIRTUAL TABLE IF NOT EXISTS {f} USING fts5({colonne}, content='', columnsize=0, tokenize='trigram')"
            ),
            TABELLA_INDICIZZATA.to_string(),
            format!(
                "INSERT OR REPLACE INTO ricerca_indicizzata (indice, fino_a) VALUES ('{f}', 0)"
            ),
        ]
    }

    /// The statement that fills the index with the rows above `$1` up to `$2` (SQLite).
    fn riempi(&self) -> String {
        let colonne: Vec<String> = (0..self.voci.len()).map(|i| format!("k{i}")).collect();
        let valori: Vec<String> = self.voci.iter().map(|v| v.sql("")).collect();
        format!(
            "INSERT INTO {f} (rowid, {}) SELECT id, {} FROM {t} WHERE id > $1 AND id <= $2",
            colonne.join(", "),
            valori.join(", "),
            f = self.nome,
            t = self.tabella
        )
    }

    fn elimina(nome: &str, postgres: bool) -> Vec<String> {
        if postgres {
            vec![format!("DROP INDEX IF EXISTS {nome}")]
        } else {
            vec![
                // Indexes of the first version were kept by an insert trigger.
                format!("DROP TRIGGER IF EXISTS {nome}_ins"),
                format!("DROP TABLE IF EXISTS {nome}"),
                TABELLA_INDICIZZATA.to_string(),
                format!("DELETE FROM ricerca_indicizzata WHERE indice = '{nome}'"),
            ]
        }
    }
}

/// The version of the search indexes' upkeep (part of their names): 2 = filled after the
/// merge on SQLite (1 was an insert trigger inside it).
const VERSIONE_RICERCA: u32 = 2;

/// SQLite: per FTS5 search index, the highest register row id it holds.
const TABELLA_INDICIZZATA: &str = "CREATE TABLE IF NOT EXISTS ricerca_indicizzata (indice TEXT PRIMARY KEY, fino_a INTEGER NOT NULL)";

/// Rows indexed per transaction on SQLite: each holds the write lock for about half a second
/// (≈ 23 µs a unit), so merges and other writers wait at most that long.
const BLOCCO_INDICIZZAZIONE: i64 = 20_000;

/// The SQL of an index's high-water mark on SQLite (0 when it has none).
fn soglia_indicizzata(nome: &str) -> String {
    format!("COALESCE((SELECT fino_a FROM ricerca_indicizzata WHERE indice = '{nome}'), 0)")
}

/// Fewest characters a search needs: trigram indexes cannot narrow a shorter one, which would
/// read the whole table.
pub const RICERCA_MINIMA: usize = 3;

/// An FTS5 phrase (the words in double quotes, quotes doubled): with the trigram tokenizer, a
/// case-insensitive substring; `%`, `_`, `*` and quotes are literal.
fn frase_fts(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}

/// A `LIKE` pattern for substring `q` (PostgreSQL's default escape is `\`).
fn modello_like(q: &str) -> String {
    format!(
        "%{}%",
        q.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// A name safe to put in SQL: lower-case ASCII letters, digits after the first, `_`.
pub(crate) fn nome_sicuro(n: &str) -> bool {
    n.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && n.len() <= 60
}

pub(crate) fn corrotto(cosa: &str, n: &str) -> ErroreArchivio {
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
            cercati_dai_figli: Vec::new(),
            indice_genitore: None,
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
    /// Fields of this table that child tables search through [`Ricerca::Genitore`].
    pub fn con_ricerca_dei_figli(mut self, campi: Vec<&'static str>) -> Risultato<Self> {
        if let Some(c) = campi.iter().find(|c| self.indice(c).is_none()) {
            return Err(corrotto("campo di ricerca", c));
        }
        self.cercati_dai_figli = campi;
        Ok(self)
    }
    /// The parent's search index (the parent as built, with its children's fields): needed
    /// when this table searches a parent field.
    pub fn con_genitore_cercato(mut self, g: &Tavola) -> Risultato<Self> {
        let i = g.indice_ricerca();
        if self.genitore.as_ref().map(|(n, _)| n.as_str()) != Some(g.sql()) {
            return Err(corrotto("genitore", &g.sql));
        }
        for x in &self.ricerca {
            if let Ricerca::Genitore(c) = x
                && i.colonna(c).is_none()
            {
                return Err(corrotto("campo di ricerca del genitore", c));
            }
        }
        self.indice_genitore = Some(i);
        Ok(self)
    }
    /// The name of the search index (SQLite: its FTS5 table).
    pub fn nome_ricerca(&self) -> String {
        self.indice_ricerca().nome
    }
    fn indice_ricerca(&self) -> IndiceRicerca {
        let mut voci = vec![Voce::Colonna("chiave")];
        for x in &self.ricerca {
            match x {
                Ricerca::Campo(c) => voci.push(Voce::Colonna(c)),
                Ricerca::Unione(v) => voci.push(Voce::Unione(v.clone())),
                Ricerca::Genitore(_) => {}
            }
        }
        voci.dedup();
        let proprie = voci.len();
        for c in &self.cercati_dai_figli {
            if !voci.contains(&Voce::Colonna(c)) {
                voci.push(Voce::Colonna(c));
            }
        }
        IndiceRicerca::new(&self.sql, voci, proprie)
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
    /// The cross-entity key column, if the table keeps one.
    pub fn incrocio(&self) -> Option<&'static str> {
        self.incrocio
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
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }
    pub(crate) fn colonne(&self, alias: &str) -> String {
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

/// The query of a backend's search indexes of a table (parameter: a `LIKE` pattern of names):
/// SQLite's FTS5 tables, PostgreSQL's indexes.
fn sql_ricerca(postgres: bool) -> String {
    if postgres {
        "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE $1".into()
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND name LIKE $1 ESCAPE '\\'".into()
    }
}

/// The `LIKE` pattern of a table's search index names.
fn modello_ricerca(t: &Tavola) -> String {
    format!("{}\\_cerca\\_%", t.sql().replace('_', "\\_"))
}

/// What a register table's storage lacks, as DDL: the table, its missing columns, its missing
/// indexes, its search index (replacing one built for another definition).
fn comandi_registro(
    t: &Tavola,
    colonne: &[String],
    indici: &[String],
    ricerca: &[String],
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
    let i = t.indice_ricerca();
    if !ricerca.contains(&i.nome) {
        for vecchio in ricerca {
            v.extend(IndiceRicerca::elimina(vecchio, postgres));
        }
        v.extend(i.ddl(postgres));
    }
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

/// Some fields of one child record ([`Archivio::campi_dei_figli`]).
#[derive(Clone, Debug)]
pub struct CampiFiglio {
    pub ente: String,
    /// The fields asked for, in their order.
    pub valori: Vec<Option<String>>,
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
    /// Field read as a number within [min, max] (fields of the table, holding canonical
    /// decimals): a bounding box on a located table's coordinates.
    pub intervalli: Vec<(String, f64, f64)>,
    pub limite: i64,
    /// The longest the list's statement may run (PostgreSQL `statement_timeout`, SQLite a
    /// progress handler); `None` = no limit. Beyond it: [`ErroreArchivio::TempoScaduto`].
    pub tempo_massimo: Option<std::time::Duration>,
    /// Test only (fault injection, never set in production): the statement runs until its
    /// time limit stops it.
    pub rallenta: bool,
    /// Search without the indexes, reading every row (what the search was before issue 12): the
    /// reference the indexed search is tested against (same results) and benchmarked against.
    pub scansione: bool,
}

/// Parameters bound to a query built at run time.
pub(crate) enum Par {
    T(String),
    D(NaiveDate),
    F(f64),
}

pub(crate) fn leggi_versione<R: Row>(r: &R, n: usize) -> Result<Versione, sqlx::Error>
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
                    Par::F(f) => q.bind(*f),
                };
            }
            match q.fetch_all(p).await {
                Ok(righe) => righe.iter().map(|r| leggi_versione(r, $n)).collect::<Result<Vec<_>, _>>(),
                Err(e) => Err(e),
            }
        })?
    }};
}

/// The search condition read row by row, without the indexes (see
/// [`FiltroRegistro::scansione`]).
fn condizione_scansione(t: &Tavola, q: &str, genitore_valido: &str, par: &mut Vec<Par>) -> String {
    par.push(Par::T(modello_like(q)));
    let k = par.len();
    // SQLite has no default escape character.
    let like = format!("LIKE ${k} ESCAPE '\\'");
    let mut o = vec![format!("lower(r.chiave) {like}")];
    for x in &t.ricerca {
        match x {
            Ricerca::Campo(c) => o.push(format!("lower(r.{c}) {like}")),
            Ricerca::Unione(v) => {
                let unione: Vec<String> = v.iter().map(|c| format!("r.{c}")).collect();
                o.push(format!("lower({}) {like}", unione.join(" || '/' || ")));
            }
            Ricerca::Genitore(c) => {
                if let Some((tg, campo)) = &t.genitore {
                    o.push(format!(
                        "r.{campo} IN (SELECT b.chiave FROM {tg} b WHERE b.ente = r.ente AND lower(b.{c}) {like} AND {genitore_valido})"
                    ));
                }
            }
        }
    }
    format!("({})", o.join(" OR "))
}

/// A statement stopped by its time limit (PostgreSQL `query_canceled`, SQLite `SQLITE_INTERRUPT`)
/// is [`ErroreArchivio::TempoScaduto`]; anything else as usual.
fn scaduto(e: sqlx::Error) -> ErroreArchivio {
    match &e {
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("57014" | "9")) => {
            ErroreArchivio::TempoScaduto
        }
        _ => ErroreArchivio::da_sqlx(e),
    }
}

/// The validity condition on `alias` as of parameter `$k` (or the current version).
/// The parameters and the condition on a child table `r.` that select the children of the
/// given (entity, parent key) pairs through the field `campo`, valid on `alla` (current
/// without): the one form of the children's queries (the register's pages, the dashboards'
/// counts).
pub(crate) fn dei_genitori(
    coppie: &[(String, String)],
    campo: &str,
    alla: Option<NaiveDate>,
) -> (Vec<Par>, String) {
    let mut par: Vec<Par> = Vec::new();
    let data = alla.map(|d| {
        par.push(Par::D(d));
        par.len()
    });
    // One `ente = $e AND campo IN (…)` per entity (a page's parents are mostly one
    // entity's): PostgreSQL scans the (ente, campo) index once with the list, where one
    // `OR` branch per pair made a 100-branch plan for every page.
    let mut per_ente: Vec<(&str, Vec<&str>)> = Vec::new();
    for (e, k) in coppie {
        match per_ente.iter_mut().find(|(x, _)| *x == e.as_str()) {
            Some((_, v)) => v.push(k),
            None => per_ente.push((e, vec![k])),
        }
    }
    let mut o = Vec::with_capacity(per_ente.len());
    for (e, chiavi) in per_ente {
        par.push(Par::T(e.to_string()));
        let pe = par.len();
        let mut segnaposti = Vec::with_capacity(chiavi.len());
        for k in chiavi {
            par.push(Par::T(k.to_string()));
            segnaposti.push(format!("${}", par.len()));
        }
        o.push(format!(
            "(r.ente = ${pe} AND r.{campo} IN ({}))",
            segnaposti.join(", ")
        ));
    }
    let dove = format!("{} AND ({})", valida_a("r.", data), o.join(" OR "));
    (par, dove)
}

pub(crate) fn valida_a(alias: &str, data: Option<usize>) -> String {
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
            let (par, dove) = dei_genitori(blocco, campo, alla_data);
            let sql = format!(
                "SELECT {} FROM {} r WHERE {dove} ORDER BY r.ente, r.{campo}, r.chiave",
                t.colonne("r."),
                t.sql(),
            );
            out.extend(seleziona_versioni!(self, sql, par, t.campi.len()));
        }
        Ok(out)
    }

    /// Some fields of the children of the given parents (as valid on `alla_data`, or
    /// current): per child, its entity and the fields' values in the order asked. What a
    /// computation over many children needs (the interventions' computed keys read two to
    /// four of their SAL's, disbursements' and payments' fields): reading and decoding every
    /// field of every child was most of a list page's cost.
    pub async fn campi_dei_figli(
        &self,
        t: &Tavola,
        coppie: &[(String, String)],
        alla_data: Option<NaiveDate>,
        campi: &[&str],
    ) -> Risultato<Vec<CampiFiglio>> {
        let Some((_, campo)) = &t.genitore else {
            return Err(ErroreArchivio::Corrotto(format!(
                "{}: figli di una tabella senza genitore",
                t.nome
            )));
        };
        if let Some(c) = campi.iter().find(|c| t.indice(c).is_none()) {
            return Err(corrotto("campo", c));
        }
        let colonne: Vec<String> = campi.iter().map(|c| format!("r.{c}")).collect();
        let mut out = Vec::new();
        for blocco in coppie.chunks(500) {
            let (par, dove) = dei_genitori(blocco, campo, alla_data);
            let sql = format!(
                "SELECT r.ente, {} FROM {} r WHERE {dove}",
                colonne.join(", "),
                t.sql(),
            );
            let n = campi.len();
            let righe: Vec<CampiFiglio> = su_pool!(self, p => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for x in par.iter() {
                    q = match x {
                        Par::T(s) => q.bind(s.clone()),
                        Par::D(d) => q.bind(*d),
                        Par::F(f) => q.bind(*f),
                    };
                }
                match q.fetch_all(p).await {
                    Ok(righe) => righe
                        .iter()
                        .map(|r| {
                            let mut valori = Vec::with_capacity(n);
                            for i in 1..=n {
                                valori.push(r.try_get::<Option<String>, _>(i)?);
                            }
                            Ok(CampiFiglio { ente: r.try_get(0)?, valori })
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>(),
                    Err(e) => Err(e),
                }
            })?;
            out.extend(righe);
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
                    Par::F(f) => q.bind(*f),
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

    /// The search index names a register table has (normally one: [`Tavola::nome_ricerca`]).
    pub async fn ricerca_registro(&self, t: &Tavola) -> Risultato<Vec<String>> {
        let v: Vec<String> = su_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql_ricerca(self.is_postgres())))
            .bind(modello_ricerca(t)).fetch_all(p).await)?;
        Ok(v)
    }

    /// Brings the search index up to the register after merges; the rows it indexed.
    /// PostgreSQL: folds the GIN pending list (which every search reads through until then)
    /// into the index. SQLite: indexes the rows above the index's high-water mark, in
    /// transactions of [`BLOCCO_INDICIZZAZIONE`] rows so that other writers wait little;
    /// each reads the mark inside its write transaction, so two servers doing it at once
    /// index each row once.
    pub async fn riordina_ricerca(&self, t: &Tavola) -> Risultato<u64> {
        let i = t.indice_ricerca();
        if let Pool::Pg(p) = &self.pool {
            sqlx::query("SELECT gin_clean_pending_list(CAST($1 AS regclass))")
                .bind(&i.nome)
                .fetch_optional(p)
                .await?;
            return Ok(0);
        }
        let (soglia, riempi) = (soglia_indicizzata(&i.nome), i.riempi());
        let mut fatte = 0u64;
        loop {
            let mut tx = self.inizia().await?;
            let (da, a): (i64, Option<i64>) = su_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {soglia}, (SELECT MAX(id) FROM (SELECT id FROM {t} WHERE id > {soglia} ORDER BY id LIMIT {BLOCCO_INDICIZZAZIONE}))",
                t = i.tabella
            ))).fetch_one(c).await)?;
            let Some(a) = a else { break };
            let n = su_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(riempi.clone())).bind(da).bind(a).execute(c).await.map(|r| r.rows_affected()))?;
            su_tx!(tx, c => sqlx::query("INSERT OR REPLACE INTO ricerca_indicizzata (indice, fino_a) VALUES ($1, $2)").bind(&i.nome).bind(a).execute(c).await.map(|_| ()))?;
            tx.commit().await?;
            fatte += n;
        }
        Ok(fatte)
    }

    /// Empties a table's search index on SQLite, so that [`Archivio::riordina_ricerca`]
    /// builds it again from the rows (searches meanwhile read the rows by `LIKE`); nothing on
    /// PostgreSQL, whose index is written with the rows.
    pub async fn azzera_ricerca(&self, t: &Tavola) -> Risultato<()> {
        if self.is_postgres() {
            return Ok(());
        }
        let f = t.indice_ricerca().nome;
        let mut tx = self.inizia().await?;
        for sql in [
            format!("INSERT INTO {f} ({f}) VALUES ('delete-all')"),
            format!("UPDATE ricerca_indicizzata SET fino_a = 0 WHERE indice = '{f}'"),
        ] {
            su_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(c).await.map(|_| ()))?;
        }
        tx.commit().await
    }

    /// The register rows its search index does not hold yet (SQLite; always 0 on
    /// PostgreSQL, whose index is written with the rows). Searches still find them.
    pub async fn da_indicizzare(&self, t: &Tavola) -> Risultato<i64> {
        if self.is_postgres() {
            return Ok(0);
        }
        let i = t.indice_ricerca();
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE id > {}",
            i.tabella,
            soglia_indicizzata(&i.nome)
        );
        Ok(su_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await)?)
    }

    /// Creates the register tables that do not exist yet, adds the columns of fields the
    /// definitions gained since, and the indexes the engine needs (the search index too). A column is never dropped: a
    /// field removed from a definition keeps its history. When everything is in place (every
    /// start but the first after a change) it only reads; otherwise servers starting together
    /// queue on a lock (PostgreSQL) or on the write lock (SQLite) and look again inside it.
    pub async fn prepara_registro(&self, tavole: &[Tavola]) -> Risultato<()> {
        let mut manca = false;
        for t in tavole {
            let colonne = self.colonne_registro(t).await?;
            let indici = self.indici_registro(t).await?;
            let ricerca = self.ricerca_registro(t).await?;
            manca |=
                !comandi_registro(t, &colonne, &indici, &ricerca, self.is_postgres()).is_empty();
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
            let ricerca: Vec<String> = su_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql_ricerca(postgres)))
                .bind(modello_ricerca(t)).fetch_all(c).await)?;
            for sql in comandi_registro(t, &colonne, &indici, &ricerca, postgres) {
                su_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
        tx.commit().await
    }

    /// The search condition on `r` (a substring of the key or of a searched field, or of a
    /// searched field of the parent as valid on the same day), through the search indexes:
    /// the ids of the matching versions, as one `r.id IN (…)`.
    fn condizione_ricerca(
        &self,
        t: &Tavola,
        q: &str,
        data: Option<usize>,
        par: &mut Vec<Par>,
    ) -> Risultato<String> {
        let i = t.indice_ricerca();
        let mut rami = Vec::new();
        let tab = t.sql();
        let genitori: Vec<&str> = t
            .ricerca
            .iter()
            .filter_map(|x| match x {
                Ricerca::Genitore(c) => Some(*c),
                _ => None,
            })
            .collect();
        let padre = match (&t.genitore, &t.indice_genitore) {
            (Some((_, campo)), Some(ig)) => Some((*campo, ig)),
            _ if genitori.is_empty() => None,
            _ => return Err(corrotto("ricerca del genitore senza indice", t.nome)),
        };
        let valido_b = valida_a("b.", data);
        if self.is_postgres() {
            par.push(Par::T(modello_like(q)));
            let k = par.len();
            // The index narrows; the exact conditions (each item alone) decide.
            let proprie: Vec<String> = i.voci[..i.proprie]
                .iter()
                .map(|v| format!("lower({}) LIKE ${k}", v.sql("x.")))
                .collect();
            rami.push(format!(
                "SELECT x.id FROM {tab} x WHERE {} LIKE ${k} AND ({})",
                i.documento("x."),
                proprie.join(" OR ")
            ));
            if let Some((campo, ig)) = padre {
                for c in &genitori {
                    rami.push(format!(
                        "SELECT u.id FROM {tg} b JOIN {tab} u ON u.ente = b.ente AND u.{campo} = b.chiave \
                         WHERE {} LIKE ${k} AND lower(b.{c}) LIKE ${k} AND {valido_b}",
                        ig.documento("b."),
                        tg = ig.tabella,
                    ));
                }
            }
        } else {
            let frase = frase_fts(q);
            let f = &i.nome;
            // A column filter keeps the children's fields out of the table's own search.
            let colonne: Vec<String> = (0..i.proprie).map(|n| format!("k{n}")).collect();
            par.push(Par::T(format!("{{{}}} : {frase}", colonne.join(" "))));
            rami.push(format!(
                "SELECT rowid FROM {f} WHERE {f} MATCH ${}",
                par.len()
            ));
            // The rows above the index's mark (merged since it was last brought up, see
            // `riordina_ricerca`): read by `LIKE`, over the id range only.
            par.push(Par::T(modello_like(q)));
            let k = par.len();
            let proprie: Vec<String> = i.voci[..i.proprie]
                .iter()
                .map(|v| format!("lower({}) LIKE ${k} ESCAPE '\\'", v.sql("x.")))
                .collect();
            rami.push(format!(
                "SELECT x.id FROM {tab} x WHERE x.id > {} AND ({})",
                soglia_indicizzata(f),
                proprie.join(" OR ")
            ));
            if let Some((campo, ig)) = padre {
                for c in &genitori {
                    let n = ig
                        .colonna(c)
                        .ok_or_else(|| corrotto("campo di ricerca del genitore", c))?;
                    par.push(Par::T(format!("{{k{n}}} : {frase}")));
                    rami.push(format!(
                        "SELECT u.id FROM {fg} JOIN {tg} b ON b.id = {fg}.rowid \
                         JOIN {tab} u ON u.ente = b.ente AND u.{campo} = b.chiave \
                         WHERE {fg} MATCH ${} AND {valido_b}",
                        par.len(),
                        fg = ig.nome,
                        tg = ig.tabella,
                    ));
                    rami.push(format!(
                        "SELECT u.id FROM {tg} b JOIN {tab} u ON u.ente = b.ente AND u.{campo} = b.chiave \
                         WHERE b.id > {} AND lower(b.{c}) LIKE ${k} ESCAPE '\\' AND {valido_b}",
                        soglia_indicizzata(&ig.nome),
                        tg = ig.tabella,
                    ));
                }
            }
        }
        Ok(format!("r.id IN ({})", rami.join(" UNION ")))
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
        for (campo, min, max) in &f.intervalli {
            if t.indice(campo).is_none() || !min.is_finite() || !max.is_finite() {
                return Err(ErroreArchivio::Corrotto(format!(
                    "intervallo non valido su {campo}"
                )));
            }
            // DOUBLE PRECISION is a float8 on PostgreSQL and has REAL affinity on SQLite, so
            // the one text serves both; the stored values are canonical decimals.
            par.push(Par::F(*min));
            par.push(Par::F(*max));
            dove.push(format!(
                "CAST(r.{campo} AS DOUBLE PRECISION) BETWEEN ${} AND ${}",
                par.len() - 1,
                par.len()
            ));
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
            if q.chars().count() < RICERCA_MINIMA {
                return Err(ErroreArchivio::Corrotto(format!(
                    "ricerca più corta di {RICERCA_MINIMA} caratteri"
                )));
            }
            dove.push(if f.scansione {
                condizione_scansione(t, q, &genitore_valido, &mut par)
            } else {
                self.condizione_ricerca(t, q, data, &mut par)?
            });
        }
        if f.rallenta {
            // Test only (see `FiltroRegistro::rallenta`): a statement that never ends on its
            // own, on both backends, for the search's time limit to stop.
            dove.push("(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000) SELECT COUNT(*) FROM n) > 0".into());
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
        match f.tempo_massimo {
            Some(d) => self.seleziona_entro(sql, &par, t.campi.len(), d).await,
            None => Ok(seleziona_versioni!(self, sql, par, t.campi.len())),
        }
    }

    /// Runs a `SELECT` of versions that must end within `d`: PostgreSQL in a transaction with
    /// `SET LOCAL statement_timeout`; SQLite with a progress handler that interrupts the
    /// statement at the deadline (a dropped future would not stop SQLite's worker thread, which
    /// would keep the connection busy).
    async fn seleziona_entro(
        &self,
        sql: String,
        par: &[Par],
        n: usize,
        d: std::time::Duration,
    ) -> Risultato<Vec<Versione>> {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        macro_rules! lega {
            ($q:expr) => {{
                let mut q = $q;
                for x in par {
                    q = match x {
                        Par::T(s) => q.bind(s.clone()),
                        Par::D(d) => q.bind(*d),
                        Par::F(f) => q.bind(*f),
                    };
                }
                q
            }};
        }
        match &self.pool {
            Pool::Pg(p) => {
                let mut tx = p.begin().await?;
                let ms = d.as_millis().clamp(1, i32::MAX as u128);
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SET LOCAL statement_timeout = {ms}"
                )))
                .execute(&mut *tx)
                .await?;
                let righe = lega!(sqlx::query(sqlx::AssertSqlSafe(sql)))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(scaduto)?;
                tx.commit().await?;
                Ok(righe
                    .iter()
                    .map(|r| leggi_versione(r, n))
                    .collect::<Result<Vec<_>, _>>()?)
            }
            Pool::Sqlite(p) => {
                /// Disarms the handler if the request is dropped mid-statement: the connection
                /// goes back to the pool with a handler that no longer interrupts anything
                /// (the next limited statement replaces it).
                struct Disarma(Arc<AtomicBool>);
                impl Drop for Disarma {
                    fn drop(&mut self) {
                        self.0.store(false, Ordering::Relaxed);
                    }
                }
                let mut c = p.acquire().await?;
                let scade = std::time::Instant::now() + d;
                let armato = Arc::new(AtomicBool::new(true));
                let _disarma = Disarma(armato.clone());
                c.lock_handle().await?.set_progress_handler(1000, move || {
                    !armato.load(Ordering::Relaxed) || std::time::Instant::now() < scade
                });
                let righe = lega!(sqlx::query(sqlx::AssertSqlSafe(sql)))
                    .fetch_all(&mut *c)
                    .await;
                c.lock_handle().await?.remove_progress_handler();
                Ok(righe
                    .map_err(scaduto)?
                    .iter()
                    .map(|r| leggi_versione(r, n))
                    .collect::<Result<Vec<_>, _>>()?)
            }
        }
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
}

/// A value in PostgreSQL's `COPY` text format (also the form of a flow's staging file).
pub fn copia_campo(out: &mut String, v: Option<&str>) {
    match v {
        None => out.push_str("\\N"),
        // Most values need no escape: copied whole.
        Some(s)
            if !s
                .bytes()
                .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) =>
        {
            out.push_str(s)
        }
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
