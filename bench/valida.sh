#!/usr/bin/env bash
# bench/valida.sh — performance of the PUSH validator on the «patrimonio» flow.
#
# Usage, from the repository root:
#
#     bash bench/valida.sh                          # the release build of this tree
#     PUSH_PRIMA=/path/to/old/push bash bench/valida.sh   # and an older build, side by side
#
# In one run, on the same machine and on the same generated data (same seed, generated with
# `push demo genera`):
#
#   1. flow A: RIGHE units (100 000) with the generator's buildings (about 7 700) and
#      complessi, in a ZIP of complessi.csv + fabbricati.csv + unita.csv; and flow B, shaped
#      like a large ARCA's: the same units on FABBRICATI_B buildings (5 000) — the units of
#      the buildings left out are moved to a kept building of the same Comune (so the
#      cadastral identifiers stay unique). On each:
#      a. `push validate --dominio patrimonio --formato json` (this release build, and
#         PUSH_PRIMA when given);
#      b. frictionless-py (latest, installed into target/bench-venv) with
#         `frictionless validate --json datapackage.json` on the folder of the three CSV files,
#         the descriptor being `push spec --dominio patrimonio --formato tableschema`;
#      c. the raw parse limit: bench/csv-grezzo reads every record and field of the three CSV
#         members of the same ZIP with the `csv` crate (inflating included) and checks nothing;
#         for information, also unita.csv alone, unpacked;
#   2. a ZIP flow of RIGHE_GRANDE units (1 000 000), both builds, and one of RIGHE_ENORME
#      (10 000 000, this build only, with `--limite-righe` and `--limite-mb` raised): time,
#      rows/s and peak memory (target: ≤ 300 MB at 10 M, time linear);
#   3. a workbook of RIGHE_XLSX units (100 000): the validator (both builds) against calamine
#      0.38 reading every cell of every sheet (bench/xlsx-grezzo).
#
# Each measure runs RIPETIZIONI times (3) and the BEST (lowest) time is kept; memory is the
# highest peak RSS of the repetitions, from `/usr/bin/time -v`. Two times are kept: the CPU time
# of the process (user + system, from `/usr/bin/time -v`, start-up included) and its wall time
# (`date +%s%N` around the command). All programs are single-threaded, so on an idle machine
# the two agree; on a shared machine the wall time measures the scheduler as much as the
# program, so rows/s and every ratio use the CPU time. Rows/s counts `unita` rows only. The
# 1-minute load average at start and end is printed.
#
# Prints the results as Markdown (Italian, like the rest of the tooling's output) and saves them
# to $LAVORO/risultati.md.
#
# Environment (all optional):
#   RIGHE=100000  FABBRICATI_B=5000  RIGHE_GRANDE=1000000  RIGHE_ENORME=10000000
#   RIGHE_XLSX=100000  RIPETIZIONI=3  SEME=1  ENTE=ARCA-PC
#   RIPETIZIONI_GRANDE=1         repetitions of the large flows
#   LAVORO=target/bench          folder of the generated files and of the outputs
#   VENV=target/bench-venv       the virtualenv of frictionless
#   CARGO_TARGET_DIR             honoured by every build (default: target)
#   PUSH=<binary>                measure this binary instead of building the release one
#   PUSH_PRIMA=<binary>          an older build measured beside it ("prima")
#   SALTA_FRICTIONLESS=1  SALTA_GRANDE=1  SALTA_ENORME=1  SALTA_XLSX=1
#
# Needs: cargo, python3 with venv, PyPI for frictionless; installs `time` with apt-get when
# /usr/bin/time is missing.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RIGHE=${RIGHE:-100000}
FABBRICATI_B=${FABBRICATI_B:-5000}
RIGHE_GRANDE=${RIGHE_GRANDE:-1000000}
RIGHE_ENORME=${RIGHE_ENORME:-10000000}
RIGHE_XLSX=${RIGHE_XLSX:-100000}
RIPETIZIONI=${RIPETIZIONI:-3}
SEME=${SEME:-1}
ENTE=${ENTE:-ARCA-PC}
LAVORO=${LAVORO:-target/bench}
TARGET=${CARGO_TARGET_DIR:-target}
VENV=${VENV:-target/bench-venv}

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

if [[ -z ${PUSH:-} ]]; then
    log "build release di push"
    cargo build --release -q -p push
    PUSH=$TARGET/release/push
fi
PRIMA=${PUSH_PRIMA:-}

log "build release di bench/csv-grezzo e bench/xlsx-grezzo"
cargo build --release -q --manifest-path bench/csv-grezzo/Cargo.toml
cargo build --release -q --manifest-path bench/xlsx-grezzo/Cargo.toml
CSV_GREZZO=$TARGET/release/csv-grezzo
XLSX_GREZZO=$TARGET/release/xlsx-grezzo

genera() { # genera N OUTPUT
    "$PUSH" demo genera --dominio patrimonio --unita "$1" --ente "$ENTE" --seme "$SEME" --output "$2" >&2
}

# --- measuring -----------------------------------------------------------------------------------
# misura NAME OUTPUT command… : runs RIPETIZIONI times; sets T_MIGLIORE (CPU s, the best),
# R_MIGLIORE (wall s, the best), RSS_MB (the highest peak), CPU (% of the best run), ESITO
# (exit status of the last run).
misura() {
    local nome=$1 uscita=$2 i t0 t1 t rss cpu c
    shift 2
    T_MIGLIORE="" R_MIGLIORE="" RSS_MB=0 CPU="" ESITO=0
    for ((i = 1; i <= RIPETIZIONI; i++)); do
        ESITO=0
        t0=$(date +%s%N)
        /usr/bin/time -v -o "$LAVORO/time.txt" "$@" >"$uscita" 2>"$uscita.err" || ESITO=$?
        t1=$(date +%s%N)
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$LAVORO/time.txt")
        cpu=$(awk -F': ' '/Percent of CPU/ { gsub("%", "", $2); print $2 }' "$LAVORO/time.txt")
        c=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.3f", (s > 0 ? s : 0.001) }' "$LAVORO/time.txt")
        log "$nome, ripetizione $i/$RIPETIZIONI: CPU ${c} s, reale ${t} s, RSS ${rss} MB, CPU ${cpu}%, uscita $ESITO"
        if [[ -z $T_MIGLIORE ]] || awk -v a="$c" -v b="$T_MIGLIORE" 'BEGIN { exit !(a < b) }'; then
            T_MIGLIORE=$c
            CPU=$cpu
        fi
        if [[ -z $R_MIGLIORE ]] || awk -v a="$t" -v b="$R_MIGLIORE" 'BEGIN { exit !(a < b) }'; then
            R_MIGLIORE=$t
        fi
        RSS_MB=$(awk -v a="$rss" -v b="$RSS_MB" 'BEGIN { print (a > b) ? a : b }')
    done
}

al_secondo() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
migliaia() { sed ':a;s/\B[0-9]\{3\}\>/ &/;ta' <<<"$1"; }
carico() { awk '{ print $1 }' /proc/loadavg; }
valido_push() { grep -q '"valido": *true' "$1" && echo "valido" || echo "NON valido"; }
rapporto() { # A/B with two decimals, or n/d
    [[ -n $1 && -n $2 && $1 != n/d && $2 != n/d ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "n/d"
}
percento() {
    [[ -n $1 && -n $2 && $1 != n/d && $2 != n/d ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f %%", 100 * a / b }' || echo "n/d"
}
riga() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }
# riga_misura LABEL ROWS NOTE [OUTCOME]: one table row from the last `misura`.
riga_misura() {
    riga "$1" "$T_MIGLIORE" "$R_MIGLIORE" "$(migliaia "$(al_secondo "$2" "$T_MIGLIORE")")" "$RSS_MB" "${4:-—}" "$3"
}

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
else
    F_VERSIONE="n/d"
fi
esito_frictionless() {
    "$VENV/bin/python" - "$1" <<'PY'
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
}

CARICO_INIZIO=$(carico)
RISULTATI=$LAVORO/risultati.md
: >"$RISULTATI.corpo"
scrivi() { tee -a "$RISULTATI.corpo"; }

# --- 1. flows A and B ---------------------------------------------------------------------------
CARTELLA_A=$LAVORO/p$RIGHE
ZIP_A=$LAVORO/p$RIGHE.zip
log "genero $RIGHE unità (seme $SEME, ente $ENTE): $ZIP_A e $CARTELLA_A/"
rm -rf "$CARTELLA_A" "$ZIP_A"
genera "$RIGHE" "$ZIP_A"
genera "$RIGHE" "$CARTELLA_A/"
"$PUSH" spec --dominio patrimonio --formato tableschema >"$CARTELLA_A/datapackage.json"
RIGHE_LETTE=$(($(wc -l <"$CARTELLA_A/unita.csv") - 1))
[[ $RIGHE_LETTE -eq $RIGHE ]] || { echo "unita.csv ha $RIGHE_LETTE righe invece di $RIGHE" >&2; exit 1; }

CARTELLA_B=$LAVORO/p${RIGHE}-f$FABBRICATI_B
ZIP_B=$CARTELLA_B.zip
log "flusso B: le stesse unità su $FABBRICATI_B fabbricati: $ZIP_B"
rm -rf "$CARTELLA_B" "$ZIP_B"
mkdir -p "$CARTELLA_B"
python3 - "$CARTELLA_A" "$CARTELLA_B" "$ZIP_B" "$FABBRICATI_B" <<'PY'
import csv, sys, zipfile, shutil
a, b, z, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def leggi(nome):
    with open(f"{a}/{nome}", newline="", encoding="utf-8") as f:
        testo = f.read()
    sep = ";" if testo.split("\n", 1)[0].count(";") >= testo.split("\n", 1)[0].count(",") else ","
    righe = list(csv.reader(testo.splitlines(), delimiter=sep))
    return sep, righe[0], righe[1:]
sep, tf, fabbricati = leggi("fabbricati.csv")
cod, com, anno = tf.index("codice_fabbricato"), tf.index("comune_istat"), tf.index("anno_costruzione")
tenuti, per_comune = fabbricati[:n], {}
for r in tenuti:
    r[anno] = ""  # the moved units' last works must not predate the building they join
    per_comune.setdefault(r[com], []).append(r[cod])
dove, giro = {}, {}
for r in fabbricati[n:]:
    scelte = per_comune.get(r[com]) or [t[cod] for t in tenuti]
    i = giro.get(r[com], 0)
    dove[r[cod]] = scelte[i % len(scelte)]
    giro[r[com]] = i + 1
sep_u, tu, unita = leggi("unita.csv")
cf = tu.index("codice_fabbricato")
for r in unita:
    r[cf] = dove.get(r[cf], r[cf])
def scrivi(nome, intestazione, righe, s):
    with open(f"{b}/{nome}", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=s, lineterminator="\n")
        w.writerow(intestazione)
        w.writerows(righe)
scrivi("fabbricati.csv", tf, tenuti, sep)
scrivi("unita.csv", tu, unita, sep_u)
shutil.copy(f"{a}/complessi.csv", f"{b}/complessi.csv")
shutil.copy(f"{a}/datapackage.json", f"{b}/datapackage.json")
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
    for t in ("complessi", "fabbricati", "unita"):
        zf.write(f"{b}/{t}.csv", f"{t}.csv")
PY

# misura_flusso LABEL ZIP FOLDER: all the measures of one flow, as a Markdown section.
misura_flusso() {
    local etichetta=$1 zip=$2 cartella=$3 v_rs="" p_t="" f_rs="" gz_rs=""
    local fab
    fab=$(($(wc -l <"$cartella/fabbricati.csv") - 1))
    {
        echo
        echo "### $etichetta: $(migliaia "$RIGHE") unità, $(migliaia "$fab") fabbricati, $(($(wc -l <"$cartella/complessi.csv") - 1)) complessi"
        echo
        riga "misura" "tempo CPU (s)" "tempo reale (s)" "righe unita/s (CPU)" "RSS max (MB)" "esito" "note"
        riga "---" "---:" "---:" "---:" "---:" "---" "---"
    } | scrivi
    misura "push validate ($etichetta)" "$LAVORO/push.json" "$PUSH" validate --dominio patrimonio --formato json "$zip"
    riga_misura "push validate, ZIP (questa build)" "$RIGHE" "tutte e tre le tabelle, tutti i controlli" "$(valido_push "$LAVORO/push.json")" | scrivi
    local v_t=$T_MIGLIORE
    if [[ -n $PRIMA ]]; then
        misura "push validate prima ($etichetta)" "$LAVORO/push-prima.json" "$PRIMA" validate --dominio patrimonio --formato json "$zip"
        riga_misura "push validate, ZIP (prima)" "$RIGHE" "la build di confronto" "$(valido_push "$LAVORO/push-prima.json")" | scrivi
        p_t=$T_MIGLIORE
    fi
    local f_t=""
    if [[ -z ${SALTA_FRICTIONLESS:-} ]]; then
        misura "frictionless ($etichetta)" "$LAVORO/frictionless.json" \
            bash -c 'cd "$1" && exec "$2" validate --json datapackage.json' _ "$cartella" "$(cd "$VENV/bin" && pwd)/frictionless"
        riga_misura "frictionless $F_VERSIONE, cartella CSV" "$RIGHE" "datapackage.json da push spec" "$(esito_frictionless "$LAVORO/frictionless.json")" | scrivi
        f_t=$T_MIGLIORE
    fi
    misura "csv-grezzo ZIP ($etichetta)" "$LAVORO/csv-grezzo.txt" "$CSV_GREZZO" "$zip" '*'
    riga_misura "csv-grezzo, i tre CSV nello ZIP" "$RIGHE" "stessi byte, decompressione compresa, nessun controllo" | scrivi
    local gz_t=$T_MIGLIORE
    misura "csv-grezzo unita.csv ($etichetta)" "$LAVORO/csv-grezzo-u.txt" "$CSV_GREZZO" "$cartella/unita.csv"
    riga_misura "csv-grezzo, solo unita.csv estratto" "$RIGHE" "(informativo)" | scrivi
    {
        echo
        echo "| rapporto | valore | obiettivo |"
        echo "| --- | ---: | --- |"
        echo "| velocità validatore / frictionless | $(rapporto "$f_t" "$v_t") × | ≥ 25 × |"
        echo "| velocità validatore / lettura grezza degli stessi byte | $(percento "$gz_t" "$v_t") | ≥ 40 % |"
        if [[ -n $p_t ]]; then
            echo "| velocità prima / frictionless | $(rapporto "$f_t" "$p_t") × | |"
            echo "| velocità prima / lettura grezza | $(percento "$gz_t" "$p_t") | |"
            echo "| accelerazione (tempo prima / tempo questa build) | $(rapporto "$p_t" "$v_t") × | |"
        fi
    } | scrivi
}

misura_flusso "Flusso A" "$ZIP_A" "$CARTELLA_A"
misura_flusso "Flusso B" "$ZIP_B" "$CARTELLA_B"

# --- 2. large flows ------------------------------------------------------------------------------
grande() { # N WITH_PRIMA
    local n=$1 zip=$LAVORO/p$1.zip t0 gen mb
    if [[ ! -s $zip ]]; then
        log "genero $n unità: $zip"
        t0=$(date +%s%N)
        genera "$n" "$zip"
        gen=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    else
        gen="già presente"
    fi
    mb=$(awk -v b="$(stat -c %s "$zip")" 'BEGIN { printf "%.1f", b / 1048576 }')
    {
        echo
        echo "### Flusso ZIP di $(migliaia "$n") unità ($mb MB; generazione: $gen s)"
        echo
        riga "misura" "tempo CPU (s)" "tempo reale (s)" "righe unita/s (CPU)" "RSS max (MB)" "esito" "obiettivo"
        riga "---" "---:" "---:" "---:" "---:" "---" "---"
    } | scrivi
    local salvate=$RIPETIZIONI
    RIPETIZIONI=${RIPETIZIONI_GRANDE:-1}
    local limiti=(--limite-righe $((n * 2)) --limite-mb 4096)
    misura "push validate ($n)" "$LAVORO/push-grande.json" "$PUSH" validate "${limiti[@]}" --dominio patrimonio --formato json "$zip"
    riga_misura "push validate (questa build)" "$n" "RSS ≤ 300 MB a 10 M; tempo lineare" "$(valido_push "$LAVORO/push-grande.json")" | scrivi
    if [[ $2 == si && -n $PRIMA ]]; then
        misura "push validate prima ($n)" "$LAVORO/push-grande-prima.json" "$PRIMA" validate "${limiti[@]}" --dominio patrimonio --formato json "$zip"
        riga_misura "push validate (prima)" "$n" "" "$(valido_push "$LAVORO/push-grande-prima.json")" | scrivi
    fi
    RIPETIZIONI=$salvate
}
[[ -n ${SALTA_GRANDE:-} ]] || grande "$RIGHE_GRANDE" si
[[ -n ${SALTA_ENORME:-} ]] || grande "$RIGHE_ENORME" no

# --- 3. XLSX ----------------------------------------------------------------------------------
if [[ -z ${SALTA_XLSX:-} ]]; then
    XLSX=$LAVORO/p$RIGHE_XLSX.xlsx
    rm -f "$XLSX"
    log "genero $RIGHE_XLSX unità: $XLSX"
    genera "$RIGHE_XLSX" "$XLSX"
    {
        echo
        echo "### XLSX di $(migliaia "$RIGHE_XLSX") unità"
        echo
        riga "misura" "tempo CPU (s)" "tempo reale (s)" "righe unita/s (CPU)" "RSS max (MB)" "esito" "note"
        riga "---" "---:" "---:" "---:" "---:" "---" "---"
    } | scrivi
    misura "push validate (XLSX)" "$LAVORO/push-xlsx.json" "$PUSH" validate --dominio patrimonio --formato json "$XLSX"
    riga_misura "push validate, XLSX (questa build)" "$RIGHE_XLSX" "tutti i controlli" "$(valido_push "$LAVORO/push-xlsx.json")" | scrivi
    X_T=$T_MIGLIORE XP_T=""
    if [[ -n $PRIMA ]]; then
        misura "push validate prima (XLSX)" "$LAVORO/push-xlsx-prima.json" "$PRIMA" validate --dominio patrimonio --formato json "$XLSX"
        riga_misura "push validate, XLSX (prima)" "$RIGHE_XLSX" "" "$(valido_push "$LAVORO/push-xlsx-prima.json")" | scrivi
        XP_T=$T_MIGLIORE
    fi
    misura "xlsx-grezzo (celle)" "$LAVORO/xlsx-grezzo.txt" "$XLSX_GREZZO" "$XLSX" celle
    riga_misura "xlsx-grezzo, calamine celle" "$RIGHE_XLSX" "worksheet_cells_reader, tutti i fogli" | scrivi
    XG_T=$T_MIGLIORE
    misura "xlsx-grezzo (range)" "$LAVORO/xlsx-grezzo-range.txt" "$XLSX_GREZZO" "$XLSX" range
    riga_misura "xlsx-grezzo, calamine range" "$RIGHE_XLSX" "worksheet_range, tutti i fogli" | scrivi
    {
        echo
        echo "| rapporto | valore | obiettivo |"
        echo "| --- | ---: | --- |"
        echo "| tempo validatore / lettura calamine (celle) | $(rapporto "$X_T" "$XG_T") × | ≤ 1,5 × |"
        [[ -z $XP_T ]] || echo "| tempo prima / lettura calamine (celle) | $(rapporto "$XP_T" "$XG_T") × | |"
    } | scrivi
fi

# --- results --------------------------------------------------------------------------------
{
    echo "## Risultati di bench/valida.sh"
    echo
    echo "- data: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (con modifiche locali)')"
    echo "- questa build: $PUSH${PRIMA:+; prima: $PRIMA}"
    echo "- macchina: $(nproc) CPU, $(lscpu | awk -F': *' '/Model name/ { print $2; exit }'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- $(rustc --version), frictionless $F_VERSIONE, seme $SEME, ente $ENTE"
    echo "- carico medio a 1 minuto: $CARICO_INIZIO all'inizio, $(carico) alla fine (su $(nproc) CPU: oltre ~0.3 altri processi hanno disturbato le misure)"
    echo "- tempi (CPU e reale): il migliore di $RIPETIZIONI esecuzioni, avvio compreso; righe/s e rapporti sul tempo CPU; RSS: il massimo dei picchi"
    cat "$RISULTATI.corpo"
} >"$RISULTATI"
rm -f "$RISULTATI.corpo"
echo >&2
cat "$RISULTATI"
