"""Times the register search's statement alone, query by query, on a database prepared by
bench/ricerca.sh (CARICA=sql): the indexed statement the platform runs ("dopo") and, for the
first N queries, the row-by-row one it ran before issue 12 ("prima"). SQLite through the
`sqlite3` shell (its own optimized build), PostgreSQL through `psql` (`EXPLAIN ANALYZE`'s
execution time). Prints p50/p95/max per kind of query.

Usage: python3 bench/ricerca_sql.py sqlite DB_FILE QUERY_FILE [N_PRIMA]
       python3 bench/ricerca_sql.py postgres URL QUERY_FILE [N_PRIMA]
"""

import re
import subprocess
import sys

backend, db, file = sys.argv[1:4]
n_prima = int(sys.argv[4]) if len(sys.argv) > 4 else 0
qs = [l.rstrip("\n") for l in open(file, encoding="utf-8") if l.strip()]
# bench/ricerca.sh writes 75 unit codes, 75 building codes, 75 cadastral triples, 75 streets.
tipi = ["codice unità"] * 75 + ["codice fabbricato"] * 75 + ["catasto"] * 75 + ["via"] * 75


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def nomi():
    if backend == "sqlite":
        out = subprocess.run(["sqlite3", db, "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL%' AND (name LIKE 'reg_unita_cerca%' OR name LIKE 'reg_fabbricati_cerca%') ORDER BY name"], capture_output=True, text=True).stdout.split()
    else:
        out = subprocess.run(["psql", db, "-tAc", "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'reg_unita_cerca%' OR indexname LIKE 'reg_fabbricati_cerca%' ORDER BY indexname"], capture_output=True, text=True).stdout.split()
    return out  # [fabbricati, unita]


F, U = nomi()
COLS = "r.id, r.ente, r.chiave, r.codice_fabbricato, r.foglio, r.particella, r.subalterno"


def dopo(q):
    if backend == "sqlite":
        fr = '"' + q.replace('"', '""') + '"'
        return (f"SELECT {COLS} FROM reg_unita r WHERE r.valido_al IS NULL AND r.id IN ("
                f"SELECT rowid FROM {U} WHERE {U} MATCH {lit('{k0 k1 k2} : ' + fr)} UNION "
                f"SELECT u.id FROM {F} JOIN reg_fabbricati b ON b.id = {F}.rowid JOIN reg_unita u ON u.ente = b.ente AND u.codice_fabbricato = b.chiave "
                f"WHERE {F} MATCH {lit('{k2} : ' + fr)} AND b.valido_al IS NULL) ORDER BY r.ente, r.chiave LIMIT 51")
    like = lit("%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    du = ("lower(COALESCE(x.chiave, '') || E'\\n' || COALESCE(x.codice_fabbricato, '') || E'\\n' || "
          "COALESCE(x.foglio || '/' || x.particella || '/' || x.subalterno, ''))")
    db_ = ("lower(COALESCE(b.chiave, '') || E'\\n' || COALESCE(b.codice_complesso, '') || E'\\n' || COALESCE(b.indirizzo, ''))")
    return (f"SELECT {COLS} FROM reg_unita r WHERE r.valido_al IS NULL AND r.id IN ("
            f"SELECT x.id FROM reg_unita x WHERE {du} LIKE {like} AND (lower(x.chiave) LIKE {like} OR lower(x.codice_fabbricato) LIKE {like} OR lower(x.foglio || '/' || x.particella || '/' || x.subalterno) LIKE {like}) UNION "
            f"SELECT u.id FROM reg_fabbricati b JOIN reg_unita u ON u.ente = b.ente AND u.codice_fabbricato = b.chiave WHERE {db_} LIKE {like} AND lower(b.indirizzo) LIKE {like} AND b.valido_al IS NULL) "
            f"ORDER BY r.ente, r.chiave LIMIT 51")


def prima(q):
    like = lit("%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    l = f"LIKE {like} ESCAPE '\\'"
    return (f"SELECT {COLS} FROM reg_unita r WHERE r.valido_al IS NULL AND (lower(r.chiave) {l} OR lower(r.codice_fabbricato) {l} "
            f"OR lower(r.foglio || '/' || r.particella || '/' || r.subalterno) {l} OR r.codice_fabbricato IN "
            f"(SELECT b.chiave FROM reg_fabbricati b WHERE b.ente = r.ente AND lower(b.indirizzo) {l} AND b.valido_al IS NULL)) "
            f"ORDER BY r.ente, r.chiave LIMIT 51")


def esegui(sqls):
    if backend == "sqlite":
        script = ".timer on\n" + "\n".join(s + ";" for s in sqls) + "\n"
        out = subprocess.run(["sqlite3", db], input=script, capture_output=True, text=True).stdout
        return [float(x) * 1000 for x in re.findall(r"Run Time: real ([0-9.]+)", out)]
    script = "\n".join("EXPLAIN (ANALYZE, TIMING OFF) " + s + ";" for s in sqls) + "\n"
    out = subprocess.run(["psql", db, "-tA"], input=script, capture_output=True, text=True).stdout
    return [float(p) + float(e) for p, e in zip(re.findall(r"Planning Time: ([0-9.]+)", out), re.findall(r"Execution Time: ([0-9.]+)", out))]


def riassumi(nome, tempi):
    tempi = sorted(tempi)
    if not tempi:
        return
    p = lambda x: tempi[min(len(tempi) - 1, int(round(x * (len(tempi) - 1))))]
    print(f"| {backend} | {nome} | {len(tempi)} | {p(0.5):.1f} | {p(0.95):.1f} | {tempi[-1]:.1f} |")


esegui([dopo(q) for q in qs[:20]])  # warm the cache
t = esegui([dopo(q) for q in qs])
print(f"| database | istruzione | query | p50 (ms) | p95 (ms) | max (ms) |")
print(f"| --- | --- | ---: | ---: | ---: | ---: |")
riassumi("dopo: tutte", t)
for k in dict.fromkeys(tipi):
    riassumi(f"dopo: {k}", [x for x, y in zip(t, tipi) if y == k])
if n_prima:
    # One of each kind, in turn.
    scelte = [qs[i * 75 + j] for j in range(n_prima) for i in range(4)][:n_prima]
    riassumi("prima: tutte", esegui([prima(q) for q in scelte]))
