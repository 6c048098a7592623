#!/usr/bin/env bash
# bench/coda.sh — a small flow behind another entity's large one (issue 8 item 3): how long a
# 40-unit flow of Andria waits to be validated when ARCA Puglia Centrale's flow of UNITA
# (1 000 000) units was uploaded just before it, with one background worker per server (the
# queue as it was: one job at a time) and with two (the default: the second worker prefers
# the oldest job of an entity with no job running).
#
# Usage, from the repository root (curl on PATH):
#
#     bash bench/coda.sh          # about 5 minutes on 2 cores, after the release build
#
# For each setting of PUSH_LAVORI_PARALLELI (1, then 2), RIPETIZIONI times, on a fresh SQLite
# data directory with the demo entities (`push demo`): start `push serve` (release), upload the
# large flow, wait ATTESA_S seconds (its validation is under way), upload the small one, and
# time from the small upload until it is `valido`; also the large flow's time to `valido`.
# Prints a table (Italian labels, like the rest of the tooling) and saves it under $LAVORO.
#
# Environment (all optional):
#   UNITA=1000000  PICCOLO=40  RIPETIZIONI=3  ATTESA_S=1  PORTA=18091  SEME=1
#   LAVORO=target/bench-coda
#   PUSH=<binary>   use this `push` instead of building the release one
set -euo pipefail

cd "$(dirname "$0")/.."
UNITA=${UNITA:-1000000}
PICCOLO=${PICCOLO:-40}
RIPETIZIONI=${RIPETIZIONI:-3}
ATTESA_S=${ATTESA_S:-1}
PORTA=${PORTA:-18091}
SEME=${SEME:-1}
BERSAGLIO=${CARGO_TARGET_DIR:-$(pwd)/target}
LAVORO=${LAVORO:-$BERSAGLIO/bench-coda}
mkdir -p "$LAVORO"

if [ -z "${PUSH:-}" ]; then
  echo "== compilazione (release)" >&2
  cargo build --release -p push >&2
  PUSH=$BERSAGLIO/release/push
fi

GRANDE=$LAVORO/grande-$UNITA.zip
PICCOLO_ZIP=$LAVORO/piccolo-$PICCOLO.zip
[ -f "$GRANDE" ] || "$PUSH" demo genera --dominio patrimonio --ente ARCA-PC --unita "$UNITA" --seme "$SEME" --output "$GRANDE" >&2
[ -f "$PICCOLO_ZIP" ] || "$PUSH" demo genera --dominio patrimonio --ente 110001 --unita "$PICCOLO" --seme "$SEME" --output "$PICCOLO_ZIP" >&2

ms() { date +%s%3N; }

# Uploads a file; prints the flow's id.
carica() {
  curl -fs -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/zip' \
    --data-binary "@$2" "http://127.0.0.1:$PORTA/api/v1/flussi?dominio=patrimonio&nome=f.zip" |
    sed -n 's/.*"id":\([0-9]*\).*/\1/p'
}

# Waits until the flow is no longer waiting or validating; prints the time (ms since epoch).
attendi() {
  while :; do
    s=$(curl -fs -H "Authorization: Bearer $1" "http://127.0.0.1:$PORTA/api/v1/flussi/$2" |
      sed -n 's/.*"stato":"\([a-z_]*\)".*/\1/p')
    case "$s" in
      caricato | in_validazione | '') sleep 0.05 ;;
      *) ms; return ;;
    esac
  done
}

RISULTATI=$LAVORO/risultati.md
{
  echo "| esecutori per server | giro | attesa del flusso di $PICCOLO unità (ms) | flusso di $UNITA unità validato in (ms) |"
  echo "|---|---|---|---|"
} >"$RISULTATI"

for N in 1 2; do
  for GIRO in $(seq 1 "$RIPETIZIONI"); do
    DATI=$LAVORO/dati-$N-$GIRO
    rm -rf "$DATI"
    export PUSH_DATA_DIR=$DATI PUSH_LOG=warn
    unset DATABASE_URL
    "$PUSH" demo >/dev/null 2>&1
    T_ARCA=$("$PUSH" token create --ente ARCA-PC --area PATRIMONIO --nome bench 2>/dev/null | tail -1)
    T_ANDRIA=$("$PUSH" token create --ente 110001 --area PATRIMONIO --nome bench 2>/dev/null | tail -1)
    PUSH_LAVORI_PARALLELI=$N "$PUSH" serve --listen "127.0.0.1:$PORTA" >"$LAVORO/serve-$N-$GIRO.log" 2>&1 &
    SERVER=$!
    until curl -fs -o /dev/null "http://127.0.0.1:$PORTA/healthz"; do sleep 0.2; done
    t_grande=$(ms)
    ID_G=$(carica "$T_ARCA" "$GRANDE")
    sleep "$ATTESA_S"
    t_piccolo=$(ms)
    ID_P=$(carica "$T_ANDRIA" "$PICCOLO_ZIP")
    fine_p=$(attendi "$T_ANDRIA" "$ID_P")
    fine_g=$(attendi "$T_ARCA" "$ID_G")
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    echo "| $N | $GIRO | $((fine_p - t_piccolo)) | $((fine_g - t_grande)) |" | tee -a "$RISULTATI" >&2
    rm -rf "$DATI"
  done
done
cat "$RISULTATI"
