#!/usr/bin/env bash
# bench/piattaforma.sh — the platform path against the command line (issue 12, target 5): how
# long a `patrimonio` flow takes from its upload to the end of its background validation
# (report stored, staging files written, the flow `valido`), against `push validate` on the same
# file, with the same binary.
#
# Usage, from the repository root (curl on PATH):
#
#     bash bench/piattaforma.sh
#
# For each binary (PUSH, and PUSH_PRIMA when given, to compare two builds in one run), on a
# fresh SQLite data directory with the demo entities (`push demo`) each time (the same file
# uploaded twice would be the same flow), RIPETIZIONI times: start `push serve`, upload the flow
# through the API as ARCA-PC and poll its state every 20 ms
# until it is no longer `caricato` or `in_validazione`; the time is from just before the upload
# to the first poll that sees the outcome (so it includes the HTTP upload, the queue, the row
# estimate, the validation, the staging files and the transaction). Then RIPETIZIONI times
# `push validate --formato json` on the same file. The best time of each is kept.
#
# Two times each: wall time, and CPU time (the server's user + system time from /proc/PID/stat
# across the upload and validation, which also counts the polling requests; the command's from
# `/usr/bin/time`). On a shared, loaded machine the wall time measures the scheduler as much as
# the program: compare the CPU times.
#
# Environment (all optional):
#   UNITA=1000000  RIPETIZIONI=3  PORTA=18093  SEME=1
#   LAVORO=target/bench-piattaforma
#   PUSH=<binary>          the binary to measure (default: the release build, built here)
#   PUSH_PRIMA=<binary>    another binary measured the same way, in the same run
set -euo pipefail

cd "$(dirname "$0")/.."
UNITA=${UNITA:-1000000}
RIPETIZIONI=${RIPETIZIONI:-3}
PORTA=${PORTA:-18093}
SEME=${SEME:-1}
BERSAGLIO=${CARGO_TARGET_DIR:-$(pwd)/target}
LAVORO=${LAVORO:-$BERSAGLIO/bench-piattaforma}
mkdir -p "$LAVORO"
LAVORO=$(cd "$LAVORO" && pwd)

if [ -z "${PUSH:-}" ]; then
  echo "== compilazione (release)" >&2
  cargo build --release -q -p push >&2
  PUSH=$BERSAGLIO/release/push
fi

FLUSSO=$LAVORO/p$UNITA.zip
[ -f "$FLUSSO" ] || "$PUSH" demo genera --dominio patrimonio --ente ARCA-PC --unita "$UNITA" --seme "$SEME" --output "$FLUSSO" >&2

ms() { date +%s%3N; }
TICK=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$TICK" '{ printf "%d", ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }

carica() { # TOKEN FILE → id
  curl -fs -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/zip' \
    --data-binary "@$2" "http://127.0.0.1:$PORTA/api/v1/flussi?dominio=patrimonio&nome=flusso.zip" |
    sed -n 's/.*"id":\([0-9]*\).*/\1/p'
}

attendi() { # TOKEN ID → state at the end
  while :; do
    s=$(curl -fs -H "Authorization: Bearer $1" "http://127.0.0.1:$PORTA/api/v1/flussi/$2" |
      sed -n 's/.*"stato":"\([a-z_]*\)".*/\1/p')
    case "$s" in
      caricato | in_validazione | '') sleep 0.02 ;;
      *) echo "$s"; return ;;
    esac
  done
}

migliore() { sort -n | head -1; }

misura() { # NAME BINARY → prints one table row
  local nome=$1 bin=$2 dati=$LAVORO/dati-$1 tempi_p=() tempi_v=() cpu_p=() cpu_v=() stato="" server t0 c0 id i token
  unset DATABASE_URL
  export PUSH_LOG=warn
  for ((i = 1; i <= RIPETIZIONI; i++)); do
    # A fresh platform each time: the same file uploaded again would be the same flow.
    rm -rf "$dati"
    export PUSH_DATA_DIR=$dati
    "$bin" demo >/dev/null 2>&1
    token=$("$bin" token create --ente ARCA-PC --area PATRIMONIO --nome bench 2>/dev/null | tail -1)
    "$bin" serve --listen "127.0.0.1:$PORTA" >"$LAVORO/serve-$nome.log" 2>&1 &
    server=$!
    until curl -fs -o /dev/null "http://127.0.0.1:$PORTA/healthz"; do sleep 0.2; done
    t0=$(ms)
    c0=$(cpu_ms "$server")
    id=$(carica "$token" "$FLUSSO")
    stato=$(attendi "$token" "$id")
    tempi_p+=($(($(ms) - t0)))
    cpu_p+=($(($(cpu_ms "$server") - c0)))
    echo "» $nome, piattaforma $i/$RIPETIZIONI: ${tempi_p[-1]} ms reali, ${cpu_p[-1]} ms CPU ($stato)" >&2
    kill "$server"
    wait "$server" 2>/dev/null || true
    rm -rf "$dati"
  done
  for ((i = 1; i <= RIPETIZIONI; i++)); do
    t0=$(ms)
    /usr/bin/time -f "%U %S" -o "$LAVORO/time.txt" "$bin" validate --dominio patrimonio --formato json "$FLUSSO" >"$LAVORO/validate-$nome.json" || true
    tempi_v+=($(($(ms) - t0)))
    cpu_v+=($(awk '{ printf "%d", ($1 + $2) * 1000 }' "$LAVORO/time.txt"))
    echo "» $nome, push validate $i/$RIPETIZIONI: ${tempi_v[-1]} ms reali, ${cpu_v[-1]} ms CPU" >&2
  done
  local p v pc vc
  p=$(printf '%s\n' "${tempi_p[@]}" | migliore)
  v=$(printf '%s\n' "${tempi_v[@]}" | migliore)
  pc=$(printf '%s\n' "${cpu_p[@]}" | migliore)
  vc=$(printf '%s\n' "${cpu_v[@]}" | migliore)
  echo "| $nome | $pc | $vc | $(awk -v a="$pc" -v b="$vc" 'BEGIN { printf "%.2f", a / b }') × | $p | $v | $(awk -v a="$p" -v b="$v" 'BEGIN { printf "%.2f", a / b }') × | $stato |"
}

{
  echo "### Percorso della piattaforma, $UNITA unità ($(date -u +%Y-%m-%dT%H:%M:%SZ), carico $(cut -d' ' -f1 /proc/loadavg))"
  echo
  echo "| binario | piattaforma, CPU del server (ms) | push validate, CPU (ms) | rapporto CPU | caricamento → validato, reale (ms) | push validate, reale (ms) | rapporto reale | esito |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  if [ -n "${PUSH_PRIMA:-}" ]; then misura prima "$PUSH_PRIMA"; fi
  misura dopo "$PUSH"
} | tee "$LAVORO/risultati.md"
