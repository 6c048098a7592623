#!/usr/bin/env bash
# bench/ricerca.sh — the register search (`q=`, issue 12 item 7) at a million units, before and
# after, side by side in one run, on SQLite and PostgreSQL, with one `push` binary:
#
# - "prima": the search as it was before issue 12 — every row read with `lower(…) LIKE '%q%'`
#   (PUSH_PROVA_RICERCA_SCANSIONE=1, the store's reference path) and no budget of its own
#   (PUSH_RICERCHE_PARALLELE=1024, PUSH_RICERCA_TEMPO_MASSIMO_MS=600000);
# - "dopo": the indexed search (SQLite FTS5 trigram, PostgreSQL pg_trgm GIN) with its default
#   budget (half the pool, 3 s).
#
# For each: `wrk -c32` on the API (`/api/v1/patrimonio/unita?q=…`, Region token) and on the
# page (`/area/registro/unita?q=…`, the demo's Region officer through the development login),
# cycling through 300 queries drawn from the flow itself (unit codes, building codes, cadastral
# `foglio/particella/subalterno`, street names reached through the building); p50/p95/p99 from
# wrk's Lua `done` hook, statuses counted; meanwhile a probe asks `/healthz` and a list without
# search (`/api/v1/patrimonio/fabbricati?limit=10`) every 100 ms and counts what is not a 200.
# The merge's cost of keeping the index is measured too: the same flow accepted with the index
# and, in a second database, with the index dropped before acceptance (then rebuilt by the next
# start, which is timed).
#
# CARICA=sql loads the register straight from the flow's CSV (bench/ricerca_carica.py: one
# `INSERT … SELECT` per table, as version 1 of entity $ENTE) instead of upload, validation and
# acceptance: for a run on a loaded machine or with a debug binary, where the platform path
# would take most of the time. The index's cost is then that load with and without the index.
#
# Usage: bash bench/ricerca.sh PUSH
# Environment: UNITA=1000000 DURATA=20s PORTA=18290 ENTE=ARCA-PC BACKEND="sqlite postgres"
#   PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres PG_DB=push_ricerca LAVORO=$(mktemp -d)
set -euo pipefail

PUSH=$(readlink -f "$1")
UNITA=${UNITA:-1000000}
DURATA=${DURATA:-20s}
PORTA=${PORTA:-18290}
ENTE=${ENTE:-ARCA-PC}
BACKEND=${BACKEND:-sqlite postgres}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-push_ricerca}
LAVORO=${LAVORO:-$(mktemp -d)}
BASE=http://127.0.0.1:$PORTA
export PUSH_SESSION_SECRET=$(printf 's%.0s' $(seq 1 48))
export PUSH_LOG=warn

ZIP=$LAVORO/flusso.zip
[ -f "$ZIP" ] || "$PUSH" demo genera --dominio patrimonio --ente "$ENTE" --unita "$UNITA" --seme 1 --output "$ZIP" >&2

# 300 queries from the flow: a quarter each of unit codes, building codes, cadastral triples,
# street names (searched through the building).
QUERY=$LAVORO/query.txt
[ -f "$QUERY" ] || python3 - "$ZIP" >"$QUERY" <<'EOF'
import csv, io, random, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
def righe(nome):
    n = next(x for x in z.namelist() if x.endswith(nome + ".csv"))
    return list(csv.DictReader(io.TextIOWrapper(z.open(n), encoding="utf-8-sig")))
r = random.Random(1)
u = righe("unita")
f = righe("fabbricati")
out = []
for x in r.sample(u, 75):
    out.append(x["codice_unita"])
for x in r.sample(f, 75):
    out.append(x["codice_fabbricato"])
for x in r.sample(u, 75):
    out.append("/".join([x["foglio"], x["particella"], x["subalterno"]]))
for x in r.sample(f, 75):
    parole = x["indirizzo"].split(",")[0]
    out.append(parole)
for q in out:
    print(q)
EOF

LUA=$LAVORO/ricerca.lua
python3 - "$QUERY" >"$LUA" <<'EOF'
import sys, urllib.parse
qs = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
print("local q = {" + ", ".join('"%s"' % urllib.parse.quote_plus(x) for x in qs) + "}")
EOF
cat >>"$LUA" <<'EOF'
local prefisso = os.getenv("PREFISSO")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) i = math.random(#q); ok = 0; s503 = 0; altri = 0 end
request = function() i = i % #q + 1; return wrk.format("GET", prefisso .. q[i]) end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then s503 = s503 + 1 else altri = altri + 1 end
end
done = function(summary, latency, requests)
  local o, b, a = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("s503"); a = a + t:get("altri") end
  io.write(string.format("WRK\t%.1f\t%.1f\t%.1f\t%.0f\t%d\t%d\t%d\t%d\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), o, b, a,
    summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
EOF

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

avvia() { # env for the server in "$@"
  env "$@" "$PUSH" serve --listen 127.0.0.1:$PORTA >>"$DATI/serve.log" 2>&1 &
  SERVE=$!
  for _ in $(seq 1 3000); do curl -fs -o /dev/null "$BASE/healthz" && return 0 || sleep 0.2; done
  echo "il server non risponde" >&2; return 1
}
ferma() { kill -9 "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true; SERVE=; }
SERVE=
trap '[ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null || true' EXIT

# A database with the demo and the flow accepted; prints the acceptance time. $2 = "senza" drops
# the search index before acceptance.
prepara() {
  local backend=$1 indice=$2
  DATI=$LAVORO/$backend-$indice
  rm -rf "$DATI"; mkdir -p "$DATI"
  if [ "$backend" = sqlite ]; then
    export DATABASE_URL="sqlite://$DATI/push.db?mode=rwc"
  else
    psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS ${PG_DB}_$indice WITH (FORCE)" -c "CREATE DATABASE ${PG_DB}_$indice" >&2
    export DATABASE_URL="${PG_ADMIN%/*}/${PG_DB}_$indice"
  fi
  export PUSH_DATA_DIR=$DATI/dati
  "$PUSH" demo --scenario marzo-2018 >"$DATI/demo.log" 2>&1
  TE=$("$PUSH" token create --ente "$ENTE" --area PATRIMONIO | tail -1)
  TR=$("$PUSH" token create --regione | tail -1)
  avvia
  if [ "$indice" = senza ]; then
    if [ "$backend" = sqlite ]; then
      for f in $(sqlite3 "$DATI/push.db" "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'reg_unita_cerca_%' AND sql LIKE 'CREATE VIRTUAL%'"); do
        sqlite3 "$DATI/push.db" "DROP TRIGGER ${f}_ins; DROP TABLE $f;"
      done
    else
      for f in $(psql "$DATABASE_URL" -tAc "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'reg_unita_cerca_%'"); do
        psql "$DATABASE_URL" -qc "DROP INDEX $f"
      done
    fi
  fi
  local id st
  id=$(curl -fs -X POST -H "Authorization: Bearer $TE" --data-binary @"$ZIP" "$BASE/api/v1/flussi?dominio=patrimonio&nome=flusso.zip" | json "['id']")
  for _ in $(seq 1 6000); do
    st=$(curl -fs -H "Authorization: Bearer $TE" "$BASE/api/v1/flussi/$id" | json "['stato']")
    [ "$st" = valido ] && break
    [ "$st" = non_valido ] && { echo "flusso non valido" >&2; ferma; return 1; }
    sleep 0.5
  done
  curl -fs -X POST -H "Authorization: Bearer $TE" -H "Content-Type: application/json" \
    -d '{"motivazione_rimozioni":"prova di prestazioni"}' "$BASE/api/v1/flussi/$id/invio" >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  curl -fs -X POST -H "Authorization: Bearer $TR" "$BASE/api/v1/flussi/$id/accettazione" >/dev/null
  t1=$(date +%s.%N)
  ferma
  ACCETTAZIONE=$(echo "$t1 - $t0" | bc)
}

# The register loaded by SQL (CARICA=sql), timed.
prepara_sql() {
  local backend=$1 indice=$2
  DATI=$LAVORO/$backend-$indice
  rm -rf "$DATI"; mkdir -p "$DATI/csv"
  unzip -q -o "$ZIP" -d "$DATI/csv"
  if [ "$backend" = sqlite ]; then
    export DATABASE_URL="sqlite://$DATI/push.db?mode=rwc"
  else
    psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS ${PG_DB}_$indice WITH (FORCE)" -c "CREATE DATABASE ${PG_DB}_$indice" >&2
    export DATABASE_URL="${PG_ADMIN%/*}/${PG_DB}_$indice"
  fi
  export PUSH_DATA_DIR=$DATI/dati
  "$PUSH" demo --scenario marzo-2018 >"$DATI/demo.log" 2>&1
  TR=$("$PUSH" token create --regione | tail -1)
  python3 "$(dirname "$0")/ricerca_carica.py" "$DATI/csv" "$backend" "$ENTE" >"$DATI/carica.sql"
  if [ "$indice" = senza ]; then
    if [ "$backend" = sqlite ]; then
      for f in $(sqlite3 "$DATI/push.db" "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%' AND (name LIKE 'reg_unita_cerca%' OR name LIKE 'reg_fabbricati_cerca%')"); do
        sqlite3 "$DATI/push.db" "DROP TRIGGER ${f}_ins; DROP TABLE $f;"
      done
    else
      for f in $(psql "$DATABASE_URL" -tAc "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'reg_unita_cerca_%' OR indexname LIKE 'reg_fabbricati_cerca_%'"); do
        psql "$DATABASE_URL" -qc "DROP INDEX $f"
      done
    fi
  fi
  local t0 t1
  t0=$(date +%s.%N)
  if [ "$backend" = sqlite ]; then
    sqlite3 "$DATI/push.db" <"$DATI/carica.sql" >"$DATI/carica.log"
  else
    psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -f "$DATI/carica.sql" >"$DATI/carica.log"
  fi
  t1=$(date +%s.%N)
  ACCETTAZIONE=$(echo "$t1 - $t0" | bc)
}

# The page's session: the demo's Region officer through the development login.
sessione() {
  python3 - "$BASE" "$DATI/demo.log" <<'EOF'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base, log = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
cf = re.search(r"Istruttore regionale:.*?\(([A-Z0-9]{16})\)", log).group(1)
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
EOF
}

# A probe of /healthz and a list without search every 100 ms: "ok non_ok" on stop.
sonda() {
  local ok=0 no=0
  trap 'echo "$ok $no"; exit 0' TERM
  while :; do
    for u in "$BASE/healthz" "$BASE/api/v1/patrimonio/fabbricati?limit=10"; do
      c=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Authorization: Bearer $TR" "$u" || true)
      if [ "$c" = 200 ]; then ok=$((ok + 1)); else no=$((no + 1)); fi
    done
    sleep 0.1
  done
}

misura() { # backend modo superficie
  local backend=$1 modo=$2 dove=$3 intestazione prefisso
  if [ "$dove" = api ]; then
    prefisso="/api/v1/patrimonio/unita?limit=50&q="; intestazione="Authorization: Bearer $TR"
  else
    prefisso="/area/registro/unita?q="; intestazione="Cookie: $COOKIE"
  fi
  curl -fs -m 30 -o /dev/null -H "$intestazione" "$BASE${prefisso}prova" || true
  sonda >"$DATI/sonda.txt" &
  local s=$!
  local w
  w=$(PREFISSO=$prefisso wrk -t2 -c32 -d"$DURATA" --timeout 10s -H "$intestazione" -s "$LUA" "$BASE" | grep '^WRK')
  kill -TERM $s; wait $s 2>/dev/null || true
  awk -v b="$backend" -v m="$modo" -v d="$dove" -v w="$w" -v p="$(cat "$DATI/sonda.txt")" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    split(w, x, "\t"); split(p, y, " ");
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n", b, m, d, x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], y[1], y[1] + y[2], l }'
}

echo "| database | ricerca | superficie | p50 (ms) | p95 (ms) | p99 (ms) | req/s | 200 | 503 | altri | errori | sonda 200 / totale | carico |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
FUSIONI=""
for backend in $BACKEND; do
  if [ "${CARICA:-}" = sql ]; then prepara=prepara_sql; else prepara=prepara; fi
  $prepara "$backend" senza
  SENZA=$ACCETTAZIONE
  t0=$(date +%s.%N); avvia; t1=$(date +%s.%N); ferma
  RICOSTRUZIONE=$(echo "$t1 - $t0" | bc)
  $prepara "$backend" con
  FUSIONI="$FUSIONI| $backend | $UNITA | $SENZA | $ACCETTAZIONE | $RICOSTRUZIONE |"$'\n'
  for modo in prima dopo; do
    if [ $modo = prima ]; then
      avvia PUSH_PROVA_RICERCA_SCANSIONE=1 PUSH_RICERCHE_PARALLELE=1024 PUSH_RICERCA_TEMPO_MASSIMO_MS=600000
    else
      avvia
    fi
    COOKIE=$(sessione)
    misura "$backend" $modo api
    misura "$backend" $modo pagina
    ferma
  done
done
echo
echo "| database | unità | accettazione senza indice (s) | con indice (s) | avvio che costruisce l'indice (s) |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf '%s' "$FUSIONI"
for i in senza con; do psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS ${PG_DB}_$i WITH (FORCE)" >&2 || true; done
