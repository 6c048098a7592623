#!/usr/bin/env bash
# bench/registro.sh — performance of the asset register (issue 4): accepting a `patrimonio`
# flow of UNITA (1 000 000) units, and the "as of date" unit list over them.
#
# Usage, from the repository root (PostgreSQL reachable at PG_ADMIN, `wrk` and `psql` on PATH):
#
#     bash bench/registro.sh          # about 10 minutes on 2 cores
#
# In one run:
#   1. builds `push` (release) and bench/registro (a standalone crate, not a workspace member),
#      both into bench/registro/target; generates the flow with `push demo genera` (seed SEME);
#   2. PostgreSQL, RIPETIZIONI times on a fresh database PG_DB: demo people and entities, upload,
#      validation (timed, NOT part of the acceptance), submission, then
#      `Piattaforma::applica_flusso` (the acceptance) and, in the same run and database, a plain
#      `COPY … FROM STDIN` of the same rows into copies of the register tables (the same DDL:
#      same indexes and, like the register since migration 0002 was edited, no foreign keys;
#      as an extra row the same plus the foreign keys the register had before; no indexes),
#      plus the acceptance's pieces timed one by one (see bench/registro/src/main.rs);
#   3. SQLite, RIPETIZIONI times on a fresh file: the same acceptance on a flow of UNITA_SQLITE
#      units (by default the full flow), with a plain multi-row INSERT of the same rows
#      (anonymous `?`, like the store) as the anchor (same DDL; + the old foreign keys; no
#      indexes; same DDL with the indexes built after the rows), the pieces, and first and deep pages; then, as the evidence of why the store
#      ran at ~900 rows/s before it switched to anonymous `?`, the same-DDL INSERT with
#      placeholders `$N` next to `?`, on a small flow of UNITA_DOLLARO units (20 000; `$N` is
#      quadratic per statement, ~25 s for those), RIP_DOLLARO (1) times;
#   4. lists on the kept PostgreSQL database: `Archivio::elenco_registro` first and deep pages
#      (in the bench binary), EXPLAIN ANALYZE of the page query as `elenco_registro` writes it
#      now and, for the deep page, as it wrote it before (psql), then `push serve` and
#      `wrk -t2 -c32 -d${DURATA}` on GET /api/v1/patrimonio/unita?ente=…&alla_data=…&limit=100
#      with a Region token: the first page, and the deep pages (cursors after 1/4, 1/2, 3/4 of
#      the rows and 200 rows before the end, in rotation). RIPETIZIONI runs each; p50/p95/p99 from
#      wrk's Lua `done` hook.
#   5. drops PG_DB.
#
# Prints the tables (Italian labels, like the rest of the tooling) and saves everything under
# $LAVORO (risultati.md, plus the raw logs).
#
# Environment (all optional):
#   UNITA=1000000  UNITA_SQLITE=$UNITA  UNITA_DOLLARO=20000 (0: skip)  RIP_DOLLARO=1
#   RIPETIZIONI=3  SEME=1  DURATA=20s  PORTA=18089
#   PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres  PG_DB=push_bench
#   LAVORO=bench/registro/target/lavoro
#   SALTA_SQLITE=1 / SALTA_PG=1   skip a backend (SALTA_PG also skips the lists)
#   SOLO_LISTE=1                  only EXPLAIN + wrk, on the PG_DB kept by an earlier run
#   TIENI_DB=1                    do not drop PG_DB at the end
set -euo pipefail

cd "$(dirname "$0")/.."
RADICE=$(pwd)
UNITA=${UNITA:-1000000}
UNITA_SQLITE=${UNITA_SQLITE:-$UNITA}
UNITA_DOLLARO=${UNITA_DOLLARO:-20000}
RIP_DOLLARO=${RIP_DOLLARO:-1}
RIPETIZIONI=${RIPETIZIONI:-3}
SEME=${SEME:-1}
DURATA=${DURATA:-20s}
PORTA=${PORTA:-18089}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-push_bench}
LAVORO=${LAVORO:-$RADICE/bench/registro/target/lavoro}
export CARGO_TARGET_DIR=$RADICE/bench/registro/target
mkdir -p "$LAVORO"
RIS=$LAVORO/risultati.md
: >"$RIS"
out() { echo "$@" | tee -a "$RIS"; }
carico() { cut -d' ' -f1 /proc/loadavg; }
INIZIO=$(date +%s)
durata() { echo "$(( ($(date +%s) - INIZIO) / 60 )) min $(( ($(date +%s) - INIZIO) % 60 )) s"; }

echo "== compilazione (release)" >&2
cargo build --release -p push >&2
(cd bench/registro && cargo build --release) >&2
PUSH=$CARGO_TARGET_DIR/release/push
BENCH=$CARGO_TARGET_DIR/release/registro-bench

ZIP=$LAVORO/patrimonio-$UNITA.zip
if [ ! -f "$ZIP" ]; then
  echo "== generazione di $UNITA unità" >&2
  t0=$(date +%s%N)
  "$PUSH" demo genera --dominio patrimonio --ente ARCA-PC --unita "$UNITA" --seme "$SEME" --output "$ZIP" >&2
  echo "generato in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
fi

out "# bench/registro.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) core, commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
out ""
out "Flusso: $ZIP ($(du -m "$ZIP" | cut -f1) MB), $UNITA unità, seme $SEME. Carico all'avvio: $(carico)."

if [ -z "${SALTA_PG:-}" ] && [ -z "${SOLO_LISTE:-}" ]; then
  echo "== PostgreSQL" >&2
  "$BENCH" pg "$PG_ADMIN" "$PG_DB" "$ZIP" "$LAVORO" "$RIPETIZIONI" | tee "$LAVORO/pg.log" | grep -v '^RIS' | tee -a "$RIS"
  out "Carico dopo PostgreSQL: $(carico). Tempo trascorso: $(durata)."
fi
if [ -z "${SALTA_SQLITE:-}" ] && [ -z "${SOLO_LISTE:-}" ]; then
  ZIP_S=$LAVORO/patrimonio-$UNITA_SQLITE.zip
  [ -f "$ZIP_S" ] || "$PUSH" demo genera --dominio patrimonio --ente ARCA-PC --unita "$UNITA_SQLITE" --seme "$SEME" --output "$ZIP_S" >&2
  echo "== SQLite, accettazione di $UNITA_SQLITE unità" >&2
  "$BENCH" sqlite "$ZIP_S" "$LAVORO" "$RIPETIZIONI" | tee "$LAVORO/sqlite.log" | grep -v '^RIS' | tee -a "$RIS"
  if [ "$UNITA_DOLLARO" != 0 ]; then
    ZIP_D=$LAVORO/patrimonio-$UNITA_DOLLARO.zip
    [ -f "$ZIP_D" ] || "$PUSH" demo genera --dominio patrimonio --ente ARCA-PC --unita "$UNITA_DOLLARO" --seme "$SEME" --output "$ZIP_D" >&2
    echo "== SQLite, segnaposti \$N contro ? su $UNITA_DOLLARO unità" >&2
    "$BENCH" sqlite-dollaro "$ZIP_D" "$LAVORO" "$RIP_DOLLARO" | tee "$LAVORO/sqlite-dollaro.log" | grep -v '^RIS' | tee -a "$RIS"
  fi
  out "Carico dopo SQLite: $(carico). Tempo trascorso: $(durata)."
fi

if [ -z "${SALTA_PG:-}" ]; then
  BASE=${PG_ADMIN%/*}
  DBURL=$BASE/$PG_DB
  DATA=2024-06-30
  echo "== EXPLAIN ANALYZE" >&2
  COLONNE=$(psql "$DBURL" -At -c "SELECT string_agg('r.' || column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'reg_unita' AND column_name NOT IN ('impronta', 'catasto')")
  PROFONDA=$(awk -F'\t' '$1 == "meta" { print $3 }' "$LAVORO/cursori.txt")
  FONDO=$(awk -F'\t' '$1 == "fondo" { print $3 }' "$LAVORO/cursori.txt")
  # The page query as `archivio::registro::elenco_registro` writes it with one entity and the
  # default order (keyset on `chiave` alone), and the deep page as it wrote it before the fix.
  DOVE="r.valido_dal <= '$DATA' AND (r.valido_al IS NULL OR r.valido_al > '$DATA') AND r.ente = 'ARCA-PC'"
  {
    echo "-- prima pagina alla_data"
    psql "$DBURL" -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $COLONNE FROM reg_unita r WHERE $DOVE ORDER BY r.chiave LIMIT 100"
    echo "-- pagina dopo la riga 500 000, alla_data"
    psql "$DBURL" -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $COLONNE FROM reg_unita r WHERE $DOVE AND (r.chiave) > ('$PROFONDA') ORDER BY r.chiave LIMIT 100"
    echo "-- pagina dopo la riga 999 800, alla_data"
    psql "$DBURL" -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $COLONNE FROM reg_unita r WHERE $DOVE AND (r.chiave) > ('$FONDO') ORDER BY r.chiave LIMIT 100"
    echo "-- pagina dopo la riga 500 000, alla_data, come prima della correzione: (ente, chiave) > (…)"
    psql "$DBURL" -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $COLONNE FROM reg_unita r WHERE $DOVE AND (r.ente, r.chiave) > ('ARCA-PC', '$PROFONDA') ORDER BY r.ente, r.chiave LIMIT 100"
  } >"$LAVORO/explain.txt" 2>&1
  out ""
  out "EXPLAIN (ANALYZE, BUFFERS) della pagina (psql):"
  out ""
  grep -E "^-- |Execution Time|Buffers: shared|Index|Sort|Limit" "$LAVORO/explain.txt" | grep -v "^ *Buffers.*Planning" | sed 's/^/    /' | tee -a "$RIS" || true

  echo "== push serve + wrk" >&2
  T=$(DATABASE_URL=$DBURL PUSH_DATA_DIR=$LAVORO/pg/dati "$PUSH" token create --regione --nome bench 2>/dev/null | tail -1)
  DATABASE_URL=$DBURL PUSH_DATA_DIR=$LAVORO/pg/dati PUSH_LOG=warn "$PUSH" serve --listen 127.0.0.1:$PORTA >"$LAVORO/serve.log" 2>&1 &
  SERVE=$!
  trap 'kill $SERVE 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORTA/" && break || sleep 0.2
  done
  URL="/api/v1/patrimonio/unita?ente=ARCA-PC&alla_data=$DATA&limit=100"
  # The cursor is opaque: take the real one from page 1's Link header and check that the deep
  # cursors written by the bench (same encoding, keys at other depths) match its form.
  LINK=$(curl -fs -D - -o "$LAVORO/pagina1.json" -H "Authorization: Bearer $T" "http://127.0.0.1:$PORTA$URL" | tr -d '\r' | grep -i '^link:' || true)
  VERO=$(echo "$LINK" | sed -E 's/.*[?&]cursor=([^&>]*).*/\1/')
  ATTESO=$(awk -F'\t' '$1 == "p1" { print $4 }' "$LAVORO/cursori.txt")
  if [ "$VERO" != "$ATTESO" ]; then
    echo "cursore della pagina 1 ($VERO) diverso da quello atteso ($ATTESO): interrompo" >&2
    exit 1
  fi
  curl -fs -D - -o /dev/null -H "Authorization: Bearer $T" "http://127.0.0.1:$PORTA$URL&cursor=$VERO" | tr -d '\r' | grep -i '^link:' >"$LAVORO/pagina2-link.txt"
  out ""
  out "Cursore della pagina 1 preso dall'intestazione Link = cursore atteso dopo la riga 100: sì."
  LUA_DONE='done = function(summary, latency, requests)
  io.write(string.format("WRK\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency.max / 1000))
end'
  {
    echo "local paths = { \"$URL\" }"
    echo 'local i = 0
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
    echo "$LUA_DONE"
  } >"$LAVORO/prima.lua"
  {
    echo "local paths = {"
    awk -F'\t' -v u="$URL" '$1 != "p1" { printf "  \"%s&cursor=%s\",\n", u, $4 }' "$LAVORO/cursori.txt"
    echo "}"
    echo 'local i = 0
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
    echo "$LUA_DONE"
  } >"$LAVORO/profonde.lua"
  out ""
  out "| wrk -t2 -c32 -d$DURATA | esecuzione | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | req/s | richieste | errori | carico |"
  out "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for caso in prima profonde; do
    for r in $(seq 1 "$RIPETIZIONI"); do
      wrk -t2 -c32 -d"$DURATA" --latency -H "Authorization: Bearer $T" -s "$LAVORO/$caso.lua" "http://127.0.0.1:$PORTA" >"$LAVORO/wrk-$caso-$r.txt"
      awk -F'\t' -v c="$caso" -v r="$r" -v l="$(carico)" '$1 == "WRK" { printf "| %s | %d | %s | %s | %s | %s | %.0f | %s | %s | %s |\n", c, r, $2, $3, $4, $8, $5, $6, $7, l }' "$LAVORO/wrk-$caso-$r.txt" | tee -a "$RIS"
    done
  done
  kill $SERVE 2>/dev/null || true
  wait $SERVE 2>/dev/null || true
  trap - EXIT
  out ""
  out "Tempo trascorso dopo wrk: $(durata)."
  [ -n "${TIENI_DB:-}" ] || psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >&2
fi
out ""
out "Carico alla fine: $(carico). Risultati in $RIS."
