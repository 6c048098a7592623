#!/usr/bin/env bash
# bench/registro_prima_dopo.sh — two `push` binaries side by side in one run, on the same flow
# and the same machine: the acceptance of a `patrimonio` flow through the API (the time of
# `POST /api/v1/flussi/{id}/accettazione`, i.e. `applica_flusso`) and the unit list under
# `wrk -c32` (first page, p95 from wrk's Lua `done` hook), on SQLite and PostgreSQL.
#
# For a change to the register that must not make it slower when the full bench/registro.sh
# (release, a million units, ≈ 10 minutes of an idle machine) cannot be run: both binaries get
# the same flow, the same database state (the demo of March 2018) and alternate, so load from
# elsewhere falls on both alike.
#
# Usage: bash bench/registro_prima_dopo.sh PUSH_PRIMA PUSH_DOPO
# Environment: UNITA=100000 GIRI=2 DURATA=10s PORTA=18190 ENTE=ARCA-PC
#   PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres PG_DB=push_prima_dopo
#   LAVORO=$(mktemp -d)
set -euo pipefail

PRIMA=$1
DOPO=$2
UNITA=${UNITA:-100000}
GIRI=${GIRI:-2}
DURATA=${DURATA:-10s}
PORTA=${PORTA:-18190}
ENTE=${ENTE:-ARCA-PC}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-push_prima_dopo}
LAVORO=${LAVORO:-$(mktemp -d)}
BASE=http://127.0.0.1:$PORTA
export PUSH_SESSION_SECRET=$(printf 's%.0s' $(seq 1 48))
export PUSH_LOG=warn

ZIP=$LAVORO/flusso.zip
[ -f "$ZIP" ] || "$DOPO" demo genera --dominio patrimonio --ente "$ENTE" --unita "$UNITA" --seme 1 --output "$ZIP" >&2
LUA=$LAVORO/prima.lua
cat >"$LUA" <<EOF
local paths = { "/api/v1/patrimonio/unita?ente=$ENTE&limit=100" }
local i = 0
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
done = function(summary, latency, requests)
  io.write(string.format("WRK\t%.2f\t%.2f\t%.0f\t%d\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
EOF

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

giro() {
  local nome=$1 bin=$2 backend=$3 g=$4
  local dati=$LAVORO/$nome-$backend-$g
  rm -rf "$dati"; mkdir -p "$dati"
  if [ "$backend" = sqlite ]; then
    export DATABASE_URL="sqlite://$dati/push.db?mode=rwc"
  else
    psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >&2
    export DATABASE_URL="${PG_ADMIN%/*}/$PG_DB"
  fi
  export PUSH_DATA_DIR=$dati/dati
  "$bin" demo --scenario marzo-2018 >"$dati/demo.log" 2>&1
  local te tr
  te=$("$bin" token create --ente "$ENTE" --area PATRIMONIO | tail -1)
  tr=$("$bin" token create --regione | tail -1)
  "$bin" serve --listen 127.0.0.1:$PORTA >"$dati/serve.log" 2>&1 &
  local serve=$!
  for _ in $(seq 1 300); do curl -fs -o /dev/null "$BASE/healthz" && break || sleep 0.2; done
  local id
  id=$(curl -fs -X POST -H "Authorization: Bearer $te" --data-binary @"$ZIP" "$BASE/api/v1/flussi?dominio=patrimonio&nome=flusso.zip" | json "['id']")
  for _ in $(seq 1 3000); do
    st=$(curl -fs -H "Authorization: Bearer $te" "$BASE/api/v1/flussi/$id" | json "['stato']")
    [ "$st" = valido ] && break
    [ "$st" = non_valido ] && { echo "flusso non valido" >&2; kill $serve; return 1; }
    sleep 0.5
  done
  curl -fs -X POST -H "Authorization: Bearer $te" -H "Content-Type: application/json" \
    -d '{"motivazione_rimozioni":"prova di prestazioni"}' "$BASE/api/v1/flussi/$id/invio" >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  curl -fs -X POST -H "Authorization: Bearer $tr" "$BASE/api/v1/flussi/$id/accettazione" >/dev/null
  t1=$(date +%s.%N)
  curl -fs -o /dev/null -H "Authorization: Bearer $tr" "$BASE/api/v1/patrimonio/unita?ente=$ENTE&limit=100"
  local w
  w=$(wrk -t2 -c32 -d"$DURATA" -H "Authorization: Bearer $tr" -s "$LUA" "$BASE" | grep '^WRK')
  kill $serve; wait $serve 2>/dev/null || true
  awk -v n="$nome" -v b="$backend" -v g="$g" -v a="$t0" -v z="$t1" -v u="$UNITA" -v w="$w" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    split(w, x, "\t"); s = z - a;
    printf "| %s | %s | %d | %.2f | %.0f | %s | %s | %s | %s | %s |\n", n, b, g, s, u / s, x[2], x[3], x[4], x[5], l }'
}

echo "| binario | database | giro | accettazione (s) | unità/s | lista p50 (ms) | lista p95 (ms) | req/s | errori | carico |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for g in $(seq 1 "$GIRI"); do
  for backend in sqlite postgres; do
    # Alternate the order each round, so neither binary always runs first.
    if [ $((g % 2)) = 1 ]; then ordine="prima dopo"; else ordine="dopo prima"; fi
    for nome in $ordine; do
      if [ "$nome" = prima ]; then bin=$PRIMA; else bin=$DOPO; fi
      giro "$nome" "$bin" "$backend" "$g"
    done
  done
done
psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >&2 || true
