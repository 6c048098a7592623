"""SQL that loads a `patrimonio` flow's CSV straight into the register (bench/ricerca.sh with
CARICA=sql): each table's CSV into a temporary table, then one timed `INSERT … SELECT` into
`reg_<tabella>` as version 1 of the entity, valid from 12/02/2018; `ANALYZE` at the end.

Usage: python3 bench/ricerca_carica.py CSV_DIR sqlite|postgres ENTE > carica.sql
"""

import csv
import sys

d, backend, ente = sys.argv[1:]
tabelle = []
for t, chiave in [("fabbricati", "codice_fabbricato"), ("unita", "codice_unita")]:
    with open(f"{d}/{t}.csv", encoding="utf-8-sig") as f:
        campi = next(csv.reader(f))
    tabelle.append((t, chiave, campi))
    print(f"CREATE TEMP TABLE tmp_{t} ({', '.join(c + ' TEXT' for c in campi)});")
    if backend == "sqlite":
        print(f".import --csv --skip 1 {d}/{t}.csv tmp_{t}")
    else:
        print(f"\\copy tmp_{t} FROM '{d}/{t}.csv' WITH (FORMAT csv, HEADER true)")
for t, chiave, campi in tabelle:
    col = ", ".join(campi)
    val = ", ".join(f"NULLIF({c}, '')" for c in campi)
    print(f"SELECT 'INIZIO {t}', CURRENT_TIMESTAMP;" if backend == "postgres" else ".timer on")
    print(
        f"INSERT INTO reg_{t} (ente, chiave, impronta, valido_dal, flusso_dal, {col}) "
        f"SELECT '{ente}', {chiave}, 0, '2018-02-12', 1, {val} FROM tmp_{t};"
    )
print("ANALYZE;")
