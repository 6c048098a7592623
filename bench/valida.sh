#!/usr/bin/env bash
# bench/valida.sh — performance of the PUSH validator on the «patrimonio» flow.
#
# Usage, from the repository root:
#
#     bash bench/valida.sh
#
# In one run, on the same machine and on the same generated data (same seed, generated with
# `push demo genera`):
#
#   1. an `unita` table of RIGHE rows (100 000), in a ZIP with complessi.csv + fabbricati.csv +
#      unita.csv (a single unita.csv is not a valid patrimonio flow):
#      a. `push validate --dominio patrimonio --formato json` (release build);
#      b. frictionless-py (latest, installed into target/bench-venv) with
#         `frictionless validate --json datapackage.json` on the folder of the three CSV files,
#         the descriptor being `push spec --dominio patrimonio --formato tableschema`;
#      c. the raw parse limit: bench/csv-grezzo reads every record and field of the same
#         unita.csv with the `csv` crate and checks nothing (and, for information, the same file
#         inside the ZIP, to show the cost of inflating);
#   2. a ZIP flow of RIGHE_GRANDE units (1 000 000): time and peak memory (target ≤ 300 MB);
#   3. a workbook of RIGHE_XLSX units (100 000): the validator against calamine 0.38 reading
#      every cell of every sheet (bench/xlsx-grezzo). If the validator answers
#      `formato_non_supportato` (no XLSX reader yet) the row reads «n/d» and the script goes on.
#
# Each measure runs RIPETIZIONI times (3) and the BEST (lowest time) is kept; memory is the
# highest peak RSS of the repetitions, from `/usr/bin/time -v`. Time is the process's wall time
# (start-up included), taken with `date +%s%N` around the command. All three programs are
# single-threaded: rows/s is also the per-core figure. The 1-minute load average at start and end
# is printed: on a shared machine, other processes disturb the measures.
#
# Prints the results as Markdown (Italian, like the rest of the tooling's output) and saves them
# to $LAVORO/risultati.md.
#
# Environment (all optional):
#   RIGHE=100000  RIGHE_GRANDE=1000000  RIGHE_XLSX=100000  RIPETIZIONI=3  SEME=1  ENTE=ARCA-PC
#   RIPETIZIONI_GRANDE=1         repetitions of the large flow
#   LAVORO=target/bench          folder of the generated files and of the outputs
#   CARGO_TARGET_DIR             honoured by every build (default: target)
#   SALTA_FRICTIONLESS=1         neither installs nor measures frictionless
#   SALTA_GRANDE=1               skips the large flow
#   SALTA_XLSX=1                 skips the XLSX measures
#   GENERA="cmd"                 another generator taking the arguments of `push demo genera`
#
# Needs: cargo, python3 with venv, PyPI for frictionless; installs `time` with apt-get when
# /usr/bin/time is missing.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RIGHE=${RIGHE:-100000}
RIGHE_GRANDE=${RIGHE_GRANDE:-1000000}
RIGHE_XLSX=${RIGHE_XLSX:-100000}
RIPETIZIONI=${RIPETIZIONI:-3}
SEME=${SEME:-1}
ENTE=${ENTE:-ARCA-PC}
LAVORO=${LAVORO:-target/bench}
TARGET=${CARGO_TARGET_DIR:-target}
VENV=target/bench-venv

mkdir -p "$LAVORO"
LAVORO=$(cd "$LAVORO" && pwd)
mkdir -p "$TARGET"
TARGET=$(cd "$TARGET" && pwd)
export CARGO_TARGET_DIR=$TARGET

log() { printf '» %s\n' "$*" >&2; }

# --- prerequisites -----------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
    log "installo time (GNU time) con apt-get"
    apt-get install -y -q time >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
fi

log "build release di push"
cargo build --release -q -p push
PUSH=$TARGET/release/push

log "build release di bench/csv-grezzo e bench/xlsx-grezzo"
cargo build --release -q --manifest-path bench/csv-grezzo/Cargo.toml
cargo build --release -q --manifest-path bench/xlsx-grezzo/Cargo.toml
CSV_GREZZO=$TARGET/release/csv-grezzo
XLSX_GREZZO=$TARGET/release/xlsx-grezzo

if [[ -n ${GENERA:-} ]]; then
    read -r -a GENERATORE <<<"$GENERA"
else
    GENERATORE=("$PUSH" demo genera)
fi
genera() { # genera N OUTPUT
    "${GENERATORE[@]}" --dominio patrimonio --unita "$1" --ente "$ENTE" --seme "$SEME" --output "$2" >&2
}

# --- measuring -----------------------------------------------------------------------------------
# misura NAME OUTPUT command… : runs RIPETIZIONI times; sets T_MIGLIORE (s, the best), RSS_MB (the
# highest peak), CPU (% of the best run), ESITO (exit status of the last run).
misura() {
    local nome=$1 uscita=$2 i t0 t1 t rss cpu
    shift 2
    T_MIGLIORE="" RSS_MB=0 CPU="" ESITO=0
    for ((i = 1; i <= RIPETIZIONI; i++)); do
        ESITO=0
        t0=$(date +%s%N)
        /usr/bin/time -v -o "$LAVORO/time.txt" "$@" >"$uscita" 2>"$uscita.err" || ESITO=$?
        t1=$(date +%s%N)
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$LAVORO/time.txt")
        cpu=$(awk -F': ' '/Percent of CPU/ { gsub("%", "", $2); print $2 }' "$LAVORO/time.txt")
        log "$nome, ripetizione $i/$RIPETIZIONI: ${t} s, RSS ${rss} MB, CPU ${cpu}%, uscita $ESITO"
        if [[ -z $T_MIGLIORE ]] || awk -v a="$t" -v b="$T_MIGLIORE" 'BEGIN { exit !(a < b) }'; then
            T_MIGLIORE=$t
            CPU=$cpu
        fi
        RSS_MB=$(awk -v a="$rss" -v b="$RSS_MB" 'BEGIN { print (a > b) ? a : b }')
    done
}

al_secondo() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
migliaia() { sed ':a;s/\B[0-9]\{3\}\>/ &/;ta' <<<"$1"; }
carico() { awk '{ print $1 }' /proc/loadavg; }
valido_push() { grep -q '"valido": *true' "$1" && echo "valido" || echo "NON valido"; }

CARICO_INIZIO=$(carico)

# --- 1. RIGHE units: data ---------------------------------------------------------------------
CARTELLA=$LAVORO/p$RIGHE
ZIP=$LAVORO/p$RIGHE.zip
log "genero $RIGHE unità (seme $SEME, ente $ENTE): $ZIP e $CARTELLA/"
rm -rf "$CARTELLA" "$ZIP"
genera "$RIGHE" "$ZIP"
genera "$RIGHE" "$CARTELLA/"
"$PUSH" spec --dominio patrimonio --formato tableschema >"$CARTELLA/datapackage.json"
for t in complessi fabbricati unita; do
    [[ -s $CARTELLA/$t.csv ]] || { echo "manca $CARTELLA/$t.csv" >&2; exit 1; }
done
RIGHE_LETTE=$(($(wc -l <"$CARTELLA/unita.csv") - 1))
[[ $RIGHE_LETTE -eq $RIGHE ]] || { echo "unita.csv ha $RIGHE_LETTE righe invece di $RIGHE" >&2; exit 1; }

# --- 1a. validator ---------------------------------------------------------------------------
misura "push validate (ZIP)" "$LAVORO/push-zip.json" \
    "$PUSH" validate --dominio patrimonio --formato json "$ZIP"
V_T=$T_MIGLIORE V_RSS=$RSS_MB V_CPU=$CPU V_ESITO=$(valido_push "$LAVORO/push-zip.json")
V_RS=$(al_secondo "$RIGHE" "$V_T")

# --- 1b. frictionless -------------------------------------------------------------------------
F_T="" F_RS="" F_RSS="" F_CPU="" F_ESITO="" F_VERSIONE="n/d"
if [[ -z ${SALTA_FRICTIONLESS:-} ]]; then
    if [[ ! -x $VENV/bin/python ]]; then
        log "creo il virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    log "installo/aggiorno frictionless in $VENV"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade frictionless; then
        "$VENV/bin/frictionless" --version >/dev/null 2>&1 || { echo "frictionless non installabile" >&2; exit 1; }
        log "aggiornamento non riuscito: uso la versione già installata"
    fi
    F_VERSIONE=$("$VENV/bin/python" -c 'import frictionless; print(frictionless.__version__)')
    misura "frictionless validate" "$LAVORO/frictionless.json" \
        bash -c 'cd "$1" && exec "$2" validate --json datapackage.json' _ "$CARTELLA" "$(cd "$VENV/bin" && pwd)/frictionless"
    F_T=$T_MIGLIORE F_RSS=$RSS_MB F_CPU=$CPU
    F_RS=$(al_secondo "$RIGHE" "$F_T")
    F_ESITO=$("$VENV/bin/python" - "$LAVORO/frictionless.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"uscita illeggibile ({e})"); sys.exit()
if r.get("valid"):
    print("valido")
else:
    tipi = {}
    for t in r.get("tasks", []):
        for e in t.get("errors", []):
            tipi[e.get("type")] = tipi.get(e.get("type"), 0) + 1
    for e in r.get("errors", []):
        tipi[e.get("type")] = tipi.get(e.get("type"), 0) + 1
    print("NON valido " + ", ".join(f"{k}×{v}" for k, v in sorted(tipi.items())))
PY
)
fi

# --- 1c. raw parse -----------------------------------------------------------------------
misura "csv-grezzo (unita.csv)" "$LAVORO/csv-grezzo.txt" "$CSV_GREZZO" "$CARTELLA/unita.csv"
G_T=$T_MIGLIORE G_RSS=$RSS_MB G_CPU=$CPU
G_RS=$(al_secondo "$RIGHE" "$G_T")
misura "csv-grezzo (unita.csv nello ZIP)" "$LAVORO/csv-grezzo-zip.txt" "$CSV_GREZZO" "$ZIP" unita.csv
GZ_T=$T_MIGLIORE GZ_RSS=$RSS_MB GZ_CPU=$CPU
GZ_RS=$(al_secondo "$RIGHE" "$GZ_T")

# --- 2. large flow -------------------------------------------------------------------------
M_T="" M_RS="" M_RSS="" M_CPU="" M_ESITO="" M_GEN=""
if [[ -z ${SALTA_GRANDE:-} ]]; then
    GRANDE=$LAVORO/p$RIGHE_GRANDE.zip
    rm -f "$GRANDE"
    log "genero $RIGHE_GRANDE unità: $GRANDE"
    t0=$(date +%s%N)
    genera "$RIGHE_GRANDE" "$GRANDE"
    M_GEN=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    RIPETIZIONI_SALVATE=$RIPETIZIONI
    RIPETIZIONI=${RIPETIZIONI_GRANDE:-1}
    misura "push validate (ZIP $RIGHE_GRANDE)" "$LAVORO/push-grande.json" \
        "$PUSH" validate --dominio patrimonio --formato json "$GRANDE"
    RIPETIZIONI=$RIPETIZIONI_SALVATE
    M_T=$T_MIGLIORE M_RSS=$RSS_MB M_CPU=$CPU M_ESITO=$(valido_push "$LAVORO/push-grande.json")
    M_RS=$(al_secondo "$RIGHE_GRANDE" "$M_T")
    M_MB=$(awk -v b="$(stat -c %s "$GRANDE")" 'BEGIN { printf "%.1f", b / 1048576 }')
fi

# --- 3. XLSX ----------------------------------------------------------------------------------
X_T="" X_RS="n/d" X_RSS="n/d" X_CPU="n/d" X_ESITO="n/d" XG_T="" XG_RS="" XG_RSS="" XR_T="" XR_RS="" XR_RSS=""
if [[ -z ${SALTA_XLSX:-} ]]; then
    XLSX=$LAVORO/p$RIGHE_XLSX.xlsx
    rm -f "$XLSX"
    log "genero $RIGHE_XLSX unità: $XLSX"
    genera "$RIGHE_XLSX" "$XLSX"
    misura "push validate (XLSX)" "$LAVORO/push-xlsx.json" \
        "$PUSH" validate --dominio patrimonio --formato json "$XLSX"
    if grep -q formato_non_supportato "$LAVORO/push-xlsx.json"; then
        log "il validatore non legge ancora l'XLSX (formato_non_supportato): n/d"
        X_ESITO="n/d (formato_non_supportato)"
    elif [[ $ESITO -gt 1 ]]; then
        log "push validate sull'XLSX è uscito con $ESITO: n/d"
        X_ESITO="n/d (uscita $ESITO)"
    else
        X_T=$T_MIGLIORE X_RSS=$RSS_MB X_CPU=$CPU X_ESITO=$(valido_push "$LAVORO/push-xlsx.json")
        X_RS=$(al_secondo "$RIGHE_XLSX" "$X_T")
    fi
    misura "xlsx-grezzo (celle)" "$LAVORO/xlsx-grezzo.txt" "$XLSX_GREZZO" "$XLSX" celle
    XG_T=$T_MIGLIORE XG_RSS=$RSS_MB XG_CPU=$CPU
    XG_RS=$(al_secondo "$RIGHE_XLSX" "$XG_T")
    misura "xlsx-grezzo (range)" "$LAVORO/xlsx-grezzo-range.txt" "$XLSX_GREZZO" "$XLSX" range
    XR_T=$T_MIGLIORE XR_RSS=$RSS_MB XR_CPU=$CPU
    XR_RS=$(al_secondo "$RIGHE_XLSX" "$XR_T")
fi

# --- results --------------------------------------------------------------------------------
rapporto() { # A/B with one decimal, or n/d
    [[ -n $1 && -n $2 && $1 != n/d && $2 != n/d ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "n/d"
}
percento() {
    [[ -n $1 && -n $2 && $1 != n/d && $2 != n/d ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f %%", 100 * a / b }' || echo "n/d"
}
riga() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }

{
    echo "## Risultati di bench/valida.sh"
    echo
    echo "- data: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (con modifiche locali)')"
    echo "- macchina: $(nproc) CPU, $(lscpu | awk -F': *' '/Model name/ { print $2; exit }'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- $(rustc --version), frictionless $F_VERSIONE, seme $SEME, ente $ENTE"
    echo "- carico medio a 1 minuto: $CARICO_INIZIO all'inizio, $(carico) alla fine (su $(nproc) CPU: oltre ~0.3 altri processi hanno disturbato le misure)"
    echo "- tempo: il migliore di $RIPETIZIONI esecuzioni (tempo reale del processo, avvio compreso); RSS: il massimo dei picchi"
    echo
    echo "### Tabella unita di $(migliaia "$RIGHE") righe (più $(($(wc -l <"$CARTELLA/fabbricati.csv") - 1)) fabbricati e $(($(wc -l <"$CARTELLA/complessi.csv") - 1)) complessi)"
    echo
    riga "misura" "tempo (s)" "righe unita/s" "CPU" "RSS max (MB)" "esito" "note"
    riga "---" "---:" "---:" "---:" "---:" "---" "---"
    riga "push validate, ZIP (release)" "$V_T" "$(migliaia "$V_RS")" "$V_CPU %" "$V_RSS" "$V_ESITO" "tutte e tre le tabelle, tutti i controlli"
    if [[ -n $F_T ]]; then
        riga "frictionless $F_VERSIONE, cartella CSV" "$F_T" "$(migliaia "$F_RS")" "$F_CPU %" "$F_RSS" "$F_ESITO" "datapackage.json da push spec"
    fi
    riga "csv-grezzo, unita.csv" "$G_T" "$(migliaia "$G_RS")" "$G_CPU %" "$G_RSS" "—" "solo lettura dei record, nessun controllo"
    riga "csv-grezzo, unita.csv nello ZIP" "$GZ_T" "$(migliaia "$GZ_RS")" "$GZ_CPU %" "$GZ_RSS" "—" "idem, con la decompressione"
    echo
    echo "| rapporto | valore | obiettivo |"
    echo "| --- | ---: | --- |"
    echo "| validatore / frictionless (righe/s) | $(rapporto "$V_RS" "$F_RS") × | ≥ 25 × |"
    echo "| validatore / lettura grezza unita.csv | $(percento "$V_RS" "$G_RS") | ≥ 40 % |"
    echo "| validatore / lettura grezza dallo ZIP | $(percento "$V_RS" "$GZ_RS") | (informativo) |"
    if [[ -n $M_T ]]; then
        echo
        echo "### Flusso ZIP di $(migliaia "$RIGHE_GRANDE") unità ($M_MB MB, generato in $M_GEN s)"
        echo
        riga "misura" "tempo (s)" "righe unita/s" "CPU" "RSS max (MB)" "esito" "obiettivo"
        riga "---" "---:" "---:" "---:" "---:" "---" "---"
        riga "push validate, ZIP (release)" "$M_T" "$(migliaia "$M_RS")" "$M_CPU %" "$M_RSS" "$M_ESITO" "RSS ≤ 300 MB"
    fi
    if [[ -n $XG_T ]]; then
        echo
        echo "### XLSX di $(migliaia "$RIGHE_XLSX") unità"
        echo
        riga "misura" "tempo (s)" "righe unita/s" "CPU" "RSS max (MB)" "esito" "note"
        riga "---" "---:" "---:" "---:" "---:" "---" "---"
        riga "push validate, XLSX (release)" "${X_T:-n/d}" "$(migliaia "$X_RS")" "$X_CPU${X_T:+ %}" "$X_RSS" "$X_ESITO" "tutti i controlli"
        riga "xlsx-grezzo, calamine celle" "$XG_T" "$(migliaia "$XG_RS")" "$XG_CPU %" "$XG_RSS" "—" "worksheet_cells_reader, tutti i fogli"
        riga "xlsx-grezzo, calamine range" "$XR_T" "$(migliaia "$XR_RS")" "$XR_CPU %" "$XR_RSS" "—" "worksheet_range, tutti i fogli"
        echo
        echo "| rapporto | valore | obiettivo |"
        echo "| --- | ---: | --- |"
        echo "| tempo validatore / lettura calamine (celle) | $(rapporto "$X_T" "$XG_T") × | ≤ 2 × |"
        echo "| tempo validatore / lettura calamine (range) | $(rapporto "$X_T" "$XR_T") × | (informativo) |"
    fi
} | tee "$LAVORO/risultati.md"
