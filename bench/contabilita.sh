#!/usr/bin/env bash
# bench/contabilita.sh — the second shared database (issue 9, part 2): accepting a `contabilita`
# flow of INTERVENTI (50 000) interventions with their SAL, disbursements and payments
# (~700 000 rows) on PostgreSQL against a plain COPY of the same rows, and the Region's
# interventions list (with the computed keys) under `wrk -t2 -c32`.
#
# Usage, from the repository root (PostgreSQL at PG_ADMIN, `wrk`, `psql`, `curl`, `unzip`):
#
#     bash bench/contabilita.sh
#
# In one run:
#   1. `push demo genera` writes the programme list and the flow (seed SEME, ente ARCA-PC, no
#      building links: the asset register is not part of this measure);
#   2. a fresh database PG_DB: `push migrate`, a Region token and an ARCA-PC token with the
#      PROGRAMMI area (`push token create`), `push serve`; the programmes are uploaded and
#      accepted through the API; the flow is uploaded, validated (not timed), submitted, and
#      its acceptance (`POST /api/v1/flussi/{id}/accettazione`: the atomic versioned merge,
#      as the Region's reviewer runs it) is timed, RIPETIZIONI times on fresh databases;
#   3. in the same database, the same rows with `\copy` into copies of the register tables
#      (`CREATE TABLE … (LIKE reg_… INCLUDING ALL)`: same columns and indexes), timed;
#   4. `wrk -t2 -c32 -d$DURATA` on GET /api/v1/programmi/interventi?limit=100 (the Region's
#      first page, and the first page of a programme's filter), p50/p95/p99 from wrk's Lua hook.
#
# Environment: PUSH=target/release/push INTERVENTI=50000 SEME=1 RIPETIZIONI=1 DURATA=20s
#   PORTA=18091 PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres PG_DB=push_bench_cont
#   LAVORO=/tmp/push-bench-contabilita
set -euo pipefail

cd "$(dirname "$0")/.."
PUSH=${PUSH:-target/release/push}
INTERVENTI=${INTERVENTI:-50000}
SEME=${SEME:-1}
RIPETIZIONI=${RIPETIZIONI:-1}
DURATA=${DURATA:-20s}
PORTA=${PORTA:-18091}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-push_bench_cont}
LAVORO=${LAVORO:-/tmp/push-bench-contabilita}
DBURL=${PG_ADMIN%/*}/$PG_DB
mkdir -p "$LAVORO"
RIS=$LAVORO/risultati.md
: >"$RIS"
out() { echo "$@" | tee -a "$RIS"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

PROG=$LAVORO/programmi.zip
ZIP=$LAVORO/contabilita-$INTERVENTI.zip
[ -f "$PROG" ] || "$PUSH" demo genera --dominio programmi --output "$PROG" >&2
[ -f "$ZIP" ] || "$PUSH" demo genera --dominio contabilita --ente ARCA-PC --interventi "$INTERVENTI" \
  --seme "$SEME" --alla-data 2026-06-30 --output "$ZIP" 2>&1 | tee "$LAVORO/genera.txt" >&2
rm -rf "$LAVORO/csv" && mkdir -p "$LAVORO/csv" && unzip -q -o "$ZIP" -d "$LAVORO/csv"
RIGHE=0
for t in interventi sal erogazioni pagamenti; do
  RIGHE=$(( RIGHE + $(wc -l <"$LAVORO/csv/$t.csv") - 1 ))
done
out "Flusso: $INTERVENTI interventi, $RIGHE righe in interventi, sal, erogazioni, pagamenti ($(cat "$LAVORO/genera.txt" | tail -1))."
out ""

export DATABASE_URL=$DBURL PUSH_DATA_DIR=$LAVORO/dati PUSH_SESSION_SECRET=$(printf 's%.0s' {1..48}) PUSH_LOG=warn

api() { curl -fsS -H "Authorization: Bearer $1" "${@:2}"; }
stato() { api "$1" "http://127.0.0.1:$PORTA/api/v1/flussi/$2" | sed -E 's/.*"stato":"([a-z_]+)".*/\1/'; }
attendi_valido() {
  for _ in $(seq 1 3000); do
    s=$(stato "$1" "$2")
    case $s in valido) return 0 ;; caricato|in_validazione) sleep 0.5 ;; *) echo "flusso $2: $s" >&2; return 1 ;; esac
  done
  return 1
}
carica() { # token dominio file → id
  api "$1" -X POST -H 'content-type: application/zip' --data-binary "@$3" \
    "http://127.0.0.1:$PORTA/api/v1/flussi?dominio=$2&nome=$(basename "$3")" | sed -E 's/.*"id":([0-9]+).*/\1/'
}

out "| esecuzione | accettazione (ms) | righe/s | COPY (ms) | righe/s COPY | accettazione / COPY |"
out "| ---: | ---: | ---: | ---: | ---: | ---: |"
for r in $(seq 1 "$RIPETIZIONI"); do
  psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >&2
  rm -rf "$LAVORO/dati"
  "$PUSH" migrate >&2
  T_REG=$("$PUSH" token create --regione --nome bench 2>/dev/null | tail -1)
  T_ENTE=$("$PUSH" token create --ente ARCA-PC --area PROGRAMMI --nome bench 2>/dev/null | tail -1)
  "$PUSH" serve --listen 127.0.0.1:$PORTA >"$LAVORO/serve.log" 2>&1 &
  SERVE=$!
  trap 'kill $SERVE 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORTA/healthz" && break || sleep 0.2; done
  ID=$(carica "$T_REG" programmi "$PROG")
  attendi_valido "$T_REG" "$ID"
  api "$T_REG" -X POST -o /dev/null "http://127.0.0.1:$PORTA/api/v1/flussi/$ID/invio"
  api "$T_REG" -X POST -o /dev/null "http://127.0.0.1:$PORTA/api/v1/flussi/$ID/accettazione"
  ID=$(carica "$T_ENTE" contabilita "$ZIP")
  t0=$(date +%s%N)
  attendi_valido "$T_ENTE" "$ID"
  VALIDAZIONE=$(ms "$t0")
  api "$T_ENTE" -X POST -o /dev/null "http://127.0.0.1:$PORTA/api/v1/flussi/$ID/invio"
  t0=$(date +%s%N)
  api "$T_REG" -X POST -o /dev/null "http://127.0.0.1:$PORTA/api/v1/flussi/$ID/accettazione"
  ACCETTAZIONE=$(ms "$t0")
  # The same rows with COPY, into copies of the register tables (same columns and indexes).
  t0=$(date +%s%N)
  for t in interventi sal erogazioni pagamenti; do
    campi=$(head -1 "$LAVORO/csv/$t.csv")
    psql "$DBURL" -q -c "CREATE TABLE copia_$t (LIKE reg_$t INCLUDING ALL)" >&2
    awk -v t="$t" 'NR > 1 { printf "ARCA-PC,%s-%d,0,2026-06-30,1,%s\n", t, NR, $0 }' "$LAVORO/csv/$t.csv" |
      psql "$DBURL" -q -c "\\copy copia_$t (ente, chiave, impronta, valido_dal, flusso_dal, $campi) FROM STDIN WITH (FORMAT csv)" >&2
  done
  COPIA=$(ms "$t0")
  out "| $r | $ACCETTAZIONE | $(( RIGHE * 1000 / (ACCETTAZIONE + 1) )) | $COPIA | $(( RIGHE * 1000 / (COPIA + 1) )) | $(( COPIA * 100 / (ACCETTAZIONE + 1) )) % |"
  out ""
  out "Validazione in background (non nell'accettazione): $VALIDAZIONE ms."
  if [ "$r" -lt "$RIPETIZIONI" ]; then kill $SERVE; wait $SERVE 2>/dev/null || true; trap - EXIT; fi
done

LUA_DONE='done = function(summary, latency, requests)
  io.write(string.format("WRK\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency.max / 1000))
end'
out ""
out "| wrk -t2 -c32 -d$DURATA | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | req/s | richieste | errori |"
out "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for caso in "elenco:/api/v1/programmi/interventi?limit=100" "programma:/api/v1/programmi/interventi?codice_programma=PINQUA-2021&limit=100" "in_corso:/api/v1/programmi/interventi?stato=LAVORI_IN_CORSO&limit=100"; do
  nome=${caso%%:*}; url=${caso#*:}
  { echo "local p = \"$url\""; echo 'request = function() return wrk.format("GET", p) end'; echo "$LUA_DONE"; } >"$LAVORO/$nome.lua"
  curl -fsS -o /dev/null -H "Authorization: Bearer $T_REG" "http://127.0.0.1:$PORTA$url"
  wrk -t2 -c32 -d"$DURATA" --latency -H "Authorization: Bearer $T_REG" -s "$LAVORO/$nome.lua" "http://127.0.0.1:$PORTA" >"$LAVORO/wrk-$nome.txt"
  awk -F'\t' -v c="$nome" '$1 == "WRK" { printf "| %s | %s | %s | %s | %s | %.0f | %s | %s |\n", c, $2, $3, $4, $8, $5, $6, $7 }' "$LAVORO/wrk-$nome.txt" | tee -a "$RIS"
done
kill $SERVE 2>/dev/null || true
wait $SERVE 2>/dev/null || true
trap - EXIT
[ -n "${TIENI_DB:-}" ] || psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >&2
