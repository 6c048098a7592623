#!/usr/bin/env bash
# bench/fusione.sh — the merge (issue 12, item 6): how fast `POST /api/v1/flussi/{id}/accettazione`
# (`Piattaforma::applica_flusso`) writes a large `patrimonio` flow into the register, on SQLite
# and on PostgreSQL, for one or two `push` binaries side by side in one run, with PostgreSQL's
# plain `COPY` of the same rows into tables of the same DDL as the anchor.
#
# Usage, from the repository root (PostgreSQL at PG_ADMIN, psql and curl on PATH):
#
#     PUSH=target/release/push [PUSH_PRIMA=<older push>] bash bench/fusione.sh
#
# Each round, for each backend and binary (the order alternates every round, so that load from
# elsewhere falls on both alike): a fresh database and data directory, the demo of March 2018
# (`push demo --scenario marzo-2018`: its entities and their small accepted flows, ARCA-PC's of
# 4 000 units among them, so the merge also closes that entity's current versions and writes
# into tables already holding other entities' rows), a token of ARCA-PC and one of the Region,
# `push serve`; the flow is uploaded, validated and submitted through the API (not
# timed), then accepted, timed: wall time of the request, and the server's CPU time (user +
# system, from /proc/PID/stat) across it. On SQLite the server's CPU is the whole cost of the
# merge (SQLite runs in the process); on PostgreSQL the database's own work is elsewhere, so the
# anchor compares wall times.
#
# The anchor (PostgreSQL, after the acceptance, in the same database): the rows the merge wrote
# (the flow's staging files, prefixed with ente, valido_dal, flusso_dal as the merge does),
# prepared before the clock starts, are loaded with `\copy … FROM` (COPY FROM STDIN through psql)
# into `CREATE TABLE ancora_<t> (LIKE reg_<t> INCLUDING ALL)`: the same columns and the same
# indexes (also the search index, when the register has one), in one transaction.
#
# Rows: every staging line of the three tables (complessi, fabbricati, unita); rows/s divides
# them by the acceptance's wall time (and by the server's CPU time, for SQLite).
#
# Environment (all optional):
#   UNITA=1000000 GIRI=2 SEME=1 PORTA=18290 ENTE=ARCA-PC BACKEND="sqlite postgres"
#   PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres PG_DB=push_fusione
#   LAVORO=target/bench-fusione
set -euo pipefail

cd "$(dirname "$0")/.."
UNITA=${UNITA:-1000000}
GIRI=${GIRI:-2}
SEME=${SEME:-1}
PORTA=${PORTA:-18290}
ENTE=${ENTE:-ARCA-PC}
BACKEND=${BACKEND:-sqlite postgres}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-push_fusione}
LAVORO=${LAVORO:-${CARGO_TARGET_DIR:-$(pwd)/target}/bench-fusione}
mkdir -p "$LAVORO"
LAVORO=$(cd "$LAVORO" && pwd)
PUSH=${PUSH:?PUSH=<binario push da misurare>}
BASE=http://127.0.0.1:$PORTA
PG_URL="${PG_ADMIN%/*}/$PG_DB"
export PUSH_SESSION_SECRET=$(printf 's%.0s' $(seq 1 48))
export PUSH_LOG=${PUSH_LOG:-info}
TICK=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$TICK" '{ printf "%d", ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

ZIP=$LAVORO/patrimonio-$UNITA.zip
[ -f "$ZIP" ] || "$PUSH" demo genera --dominio patrimonio --ente "$ENTE" --unita "$UNITA" --seme "$SEME" --output "$ZIP" >&2

# The anchor: COPY of the staging rows of flow $1 (data dir $2) into same-DDL copies; prints
# the seconds.
ancora() {
  local id=$1 dati=$2 t f prefisso cols sql=$LAVORO/ancora.sql
  prefisso="$ENTE	2024-01-01	$id	"
  : >"$sql"
  echo "BEGIN;" >>"$sql"
  for t in complessi fabbricati unita; do
    f=$(find "$dati" -path "*flusso-$id/$t.tsv" | head -1)
    [ -n "$f" ] || continue
    psql "$PG_URL" -q -c "DROP TABLE IF EXISTS ancora_$t; CREATE TABLE ancora_$t (LIKE reg_$t INCLUDING ALL)" >&2
    # The columns after the fixed ones, in table order (the optional cross-entity key first).
    cols=$(psql "$PG_URL" -tA -c "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'reg_$t' AND ordinal_position > 8")
    if psql "$PG_URL" -tA -c "SELECT 1 FROM information_schema.columns WHERE table_name = 'reg_$t' AND column_name = 'catasto'" | grep -q 1; then
      awk -v p="$prefisso" '{ print p $0 }' "$f" >"$LAVORO/ancora-$t.tsv"
    else
      awk -v p="$prefisso" 'BEGIN { FS = OFS = "\t" } { $3 = ""; s = $1 OFS $2; for (i = 4; i <= NF; i++) s = s OFS $i; print p s }' "$f" >"$LAVORO/ancora-$t.tsv"
    fi
    echo "\\copy ancora_$t (ente, valido_dal, flusso_dal, chiave, impronta, $cols) FROM '$LAVORO/ancora-$t.tsv'" >>"$sql"
  done
  echo "COMMIT;" >>"$sql"
  psql "$PG_URL" -q -c "CHECKPOINT" >&2
  local t0 t1
  t0=$(date +%s.%N)
  psql "$PG_URL" -q -v ON_ERROR_STOP=1 -f "$sql" >&2
  t1=$(date +%s.%N)
  awk -v a="$t0" -v z="$t1" 'BEGIN { printf "%.3f", z - a }'
}

giro() {
  local nome=$1 bin=$2 backend=$3 g=$4
  local dati=$LAVORO/$nome-$backend
  rm -rf "$dati"; mkdir -p "$dati"
  if [ "$backend" = sqlite ]; then
    export DATABASE_URL="sqlite://$dati/push.db?mode=rwc"
  else
    psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >&2
    export DATABASE_URL=$PG_URL
  fi
  export PUSH_DATA_DIR=$dati/dati
  "$bin" demo --scenario marzo-2018 >"$dati/demo.log" 2>&1
  local te tr
  te=$("$bin" token create --ente "$ENTE" --area PATRIMONIO | tail -1)
  tr=$("$bin" token create --regione | tail -1)
  "$bin" serve --listen 127.0.0.1:$PORTA >"$dati/serve.log" 2>&1 &
  local serve=$!
  for _ in $(seq 1 300); do curl -fs -o /dev/null "$BASE/healthz" && break || sleep 0.2; done
  local id st
  id=$(curl -fs -X POST -H "Authorization: Bearer $te" --data-binary @"$ZIP" "$BASE/api/v1/flussi?dominio=patrimonio&nome=flusso.zip" | json "['id']")
  for _ in $(seq 1 6000); do
    st=$(curl -fs -H "Authorization: Bearer $te" "$BASE/api/v1/flussi/$id" | json "['stato']")
    [ "$st" = valido ] && break
    [ "$st" = non_valido ] && { echo "flusso non valido" >&2; kill $serve; return 1; }
    sleep 0.5
  done
  curl -fs -X POST -H "Authorization: Bearer $te" -H "Content-Type: application/json" \
    -d '{"motivazione_rimozioni":"prova di prestazioni"}' "$BASE/api/v1/flussi/$id/invio" >/dev/null
  # Let the difference job and the checkpoint of the upload settle before the clock.
  sleep 3
  local t0 t1 c0 c1 righe l0
  righe=$(cat $(find "$dati/dati" -path "*flusso-$id/*.tsv") | wc -l)
  l0=$(cut -d' ' -f1 /proc/loadavg)
  c0=$(cpu_ms $serve)
  t0=$(date +%s.%N)
  curl -fs -X POST -H "Authorization: Bearer $tr" "$BASE/api/v1/flussi/$id/accettazione" >/dev/null
  t1=$(date +%s.%N)
  c1=$(cpu_ms $serve)
  # The search index catches up after the acceptance (SQLite: filled in the background):
  # wait for it, up to 10 minutes, to report its time.
  local log=$dati/serve.txt
  # (PostgreSQL's index is written with the rows: nothing to wait for.)
  if [ "$nome" = dopo ] && [ "$backend" = sqlite ]; then
    for _ in $(seq 1 600); do
      sed 's/\x1b\[[0-9;]*m//g' "$dati/serve.log" > "$log"
      grep -q 'indice di ricerca aggiornato.*tabella="\?unita' "$log" && break
      sleep 1
    done
  fi
  sed 's/\x1b\[[0-9;]*m//g' "$dati/serve.log" > "$log"
  grep -o 'fasi=.*' "$log" | sed "s/^/$nome $backend: /" >> "$LAVORO/fasi.txt" || true
  grep 'indice di ricerca aggiornato' "$log" | grep -o 'tabella="\?[a-z_]*"\? righe=[0-9]* ms=[0-9]*' | sed "s/^/$nome $backend, indice: /" >> "$LAVORO/fasi.txt" || true
  kill $serve; wait $serve 2>/dev/null || true
  local anc="—"
  if [ "$backend" = postgres ]; then anc=$(ancora "$id" "$dati/dati"); fi
  awk -v n="$nome" -v b="$backend" -v g="$g" -v a="$t0" -v z="$t1" -v c="$((c1 - c0))" -v r="$righe" -v k="$anc" -v l="$l0" 'BEGIN {
    s = z - a; cs = c / 1000;
    if (k == "—") { ks = "—"; kr = "—"; q = "—" } else { ks = sprintf("%.2f", k); kr = sprintf("%.0f", r / k); q = sprintf("%.1f %%", 100 * k / s) }
    printf "| %s | %s | %d | %d | %.2f | %.0f | %.2f | %.0f | %s | %s | %s | %s |\n", n, b, g, r, s, r / s, cs, r / cs, ks, kr, q, l }'
  rm -rf "$dati"
}

: > "$LAVORO/fasi.txt"
{
echo "### Fusione di $UNITA unità ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPU, carico $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| binario | database | giro | righe | accettazione, reale (s) | righe/s (reale) | CPU del server (s) | righe/s (CPU) | COPY stesso DDL (s) | righe/s COPY | accettazione / COPY | carico |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for g in $(seq 1 "$GIRI"); do
  for backend in $BACKEND; do
    if [ $((g % 2)) = 1 ]; then ordine="prima dopo"; else ordine="dopo prima"; fi
    for nome in $ordine; do
      if [ "$nome" = prima ]; then bin=${PUSH_PRIMA:-}; else bin=$PUSH; fi
      [ -n "$bin" ] || continue
      giro "$nome" "$bin" "$backend" "$g"
    done
  done
done
echo
echo "Fasi della fusione (dal log del server) e indice di ricerca dopo l'accettazione:"
echo
echo '```'
cat "$LAVORO/fasi.txt"
echo '```'
} | tee "$LAVORO/risultati.md"
psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >&2 || true
