#!/usr/bin/env bash
# bench/cruscotto.sh — the Region's executive dashboard (issue 11) with 1 000 000 units and
# 50 000 interventions: p50/p95/p99 of GET /area/cruscotto (today, and "as of" a past day)
# under `wrk -t2 -c32`, on SQLite and PostgreSQL, in one run. Target: p95 <= 100 ms.
#
# Usage, from the repository root (`wrk`, `curl`, `python3`; `psql` for PostgreSQL):
#
#     bash bench/cruscotto.sh target/release/push
#
# Per backend: a fresh database with the demo's people (`push demo --scenario marzo-2018`,
# which loads no flow); `push demo genera` writes an asset flow of UNITA units for ENTE and a
# programme list plus an accounting flow of INTERVENTI interventions for ENTE (the buildings
# of the asset flow, so the links are checked); both go the real path (upload through the API,
# validation, submission, acceptance by a Region token: the acceptance also writes the
# dashboard's aggregates, and its time is printed); the Region officer's session comes from
# the development login; then wrk on the dashboard. The load average is printed beside each
# figure: this machine is shared.
#
# Environment: UNITA=1000000 INTERVENTI=50000 ENTE=ARCA-PC DURATA=20s PORTA=18390
#   BACKEND="sqlite postgres" PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres
#   PG_DB=push_cruscotto LAVORO=$(mktemp -d)
set -euo pipefail

PUSH=$(readlink -f "${1:-target/release/push}")
UNITA=${UNITA:-1000000}
INTERVENTI=${INTERVENTI:-50000}
ENTE=${ENTE:-ARCA-PC}
DURATA=${DURATA:-20s}
PORTA=${PORTA:-18390}
BACKEND=${BACKEND:-sqlite postgres}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-push_cruscotto}
LAVORO=${LAVORO:-$(mktemp -d)}
mkdir -p "$LAVORO"
BASE=http://127.0.0.1:$PORTA
export PUSH_SESSION_SECRET=$(printf 's%.0s' $(seq 1 48))
export PUSH_LOG=warn

PAT=$LAVORO/patrimonio.zip
PROG=$LAVORO/programmi.zip
CONT=$LAVORO/contabilita.zip
[ -f "$PAT" ] || "$PUSH" demo genera --dominio patrimonio --ente "$ENTE" --unita "$UNITA" --seme 1 --output "$PAT" >&2
[ -f "$PROG" ] || "$PUSH" demo genera --dominio programmi --output "$PROG" >&2
FABBRICATI=$(python3 - "$PAT" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
n = next(x for x in z.namelist() if x.endswith("fabbricati.csv"))
print(sum(1 for _ in z.open(n)) - 1)
PY
)
[ -f "$CONT" ] || "$PUSH" demo genera --dominio contabilita --ente "$ENTE" --interventi "$INTERVENTI" \
  --fabbricati "$FABBRICATI" --seme 1 --output "$CONT" >&2

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
avvia() {
  "$PUSH" serve --listen 127.0.0.1:$PORTA >>"$DATI/serve.log" 2>&1 &
  SERVE=$!
  for _ in $(seq 1 3000); do curl -fs -o /dev/null "$BASE/healthz" && return 0 || sleep 0.2; done
  echo "il server non risponde" >&2; return 1
}
ferma() { kill "$SERVE"; wait "$SERVE" 2>/dev/null || true; }
accetta() { # token-ente dominio file → ms of the acceptance
  local id st t0
  id=$(curl -fs -X POST -H "Authorization: Bearer $1" --data-binary @"$3" "$BASE/api/v1/flussi?dominio=$2&nome=$(basename "$3")" | json "['id']")
  for _ in $(seq 1 12000); do
    st=$(curl -fs -H "Authorization: Bearer $1" "$BASE/api/v1/flussi/$id" | json "['stato']")
    [ "$st" = valido ] && break
    [ "$st" = non_valido ] && { echo "flusso $2 non valido" >&2; return 1; }
    sleep 0.5
  done
  curl -fs -X POST -H "Authorization: Bearer $1" "$BASE/api/v1/flussi/$id/invio" >/dev/null
  t0=$(date +%s%N)
  curl -fs -X POST -H "Authorization: Bearer $TR" "$BASE/api/v1/flussi/$id/accettazione" >/dev/null
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
sessione() {
  python3 - "$BASE" "$DATI/demo.log" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base, log = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
cf = re.search(r"Istruttore regionale: [^(]*\(([A-Z0-9]{16})\)", log).group(1)
j = http.cookiejar.CookieJar()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
o = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(j), NoRedirect)
html = o.open(base + "/accesso").read().decode()
csrf = re.search(r'name="_csrf" value="([^"]+)"', html).group(1)
try:
    o.open(base + "/accesso/sviluppo", urllib.parse.urlencode({"_csrf": csrf, "cf": cf}).encode())
except urllib.error.HTTPError as e:
    assert e.code == 303, e.code
print("; ".join(f"{c.name}={c.value}" for c in j))
PY
}
LUA=$LAVORO/cruscotto.lua
cat >"$LUA" <<'LUA'
local p = os.getenv("PERCORSO")
request = function() return wrk.format("GET", p) end
done = function(summary, latency, requests)
  io.write(string.format("WRK\t%.1f\t%.1f\t%.1f\t%.0f\t%d\t%d\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
LUA

echo "| database | pagina | p50 (ms) | p95 (ms) | p99 (ms) | req/s | richieste | errori | carico |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for backend in $BACKEND; do
  DATI=$LAVORO/$backend
  rm -rf "$DATI"; mkdir -p "$DATI"
  if [ "$backend" = sqlite ]; then
    export DATABASE_URL="sqlite://$DATI/push.db?mode=rwc"
  else
    psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >&2
    export DATABASE_URL="${PG_ADMIN%/*}/$PG_DB"
  fi
  export PUSH_DATA_DIR=$DATI/dati
  "$PUSH" demo --scenario marzo-2018 >"$DATI/demo.log" 2>&1
  TR=$("$PUSH" token create --regione --nome bench 2>/dev/null | tail -1)
  TP=$("$PUSH" token create --ente "$ENTE" --area PATRIMONIO --nome bench 2>/dev/null | tail -1)
  TC=$("$PUSH" token create --ente "$ENTE" --area PROGRAMMI --nome bench 2>/dev/null | tail -1)
  avvia
  A_PAT=$(accetta "$TP" patrimonio "$PAT")
  A_PROG=$(accetta "$TR" programmi "$PROG")
  A_CONT=$(accetta "$TC" contabilita "$CONT")
  echo "$backend: accettazione patrimonio $A_PAT ms, programmi $A_PROG ms, contabilità $A_CONT ms (aggregati compresi)" >&2
  COOKIE=$(sessione)
  IERI=$(date -d yesterday +%Y-%m-%d)
  for caso in "oggi:/area/cruscotto" "al giorno:/area/cruscotto?alla_data=$IERI"; do
    nome=${caso%%:*}; p=${caso#*:}
    curl -fs -o /dev/null -H "Cookie: $COOKIE" "$BASE$p"
    w=$(PERCORSO=$p wrk -t2 -c32 -d"$DURATA" --timeout 10s -H "Cookie: $COOKIE" -s "$LUA" "$BASE" | grep '^WRK')
    awk -v b="$backend" -v n="$nome" -v w="$w" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
      split(w, x, "\t"); printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", b, n, x[2], x[3], x[4], x[5], x[6], x[7], l }'
  done
  ferma
done
