#!/usr/bin/env bash
# bench/stringhe.sh — peak memory of `push validate` on a workbook whose shared-strings table
# holds millions of tiny strings (issue 8, item 1).
#
# Usage, from the repository root:
#
#     bash bench/stringhe.sh
#
# Builds (with Python's zipfile, streaming) a small .xlsx whose xl/sharedStrings.xml holds
# STRINGHE (20 000 000) one-to-three-character strings (a cycle of 1 000): about 3.7 MB on disk,
# a few hundred MB of XML, compressed ~100:1 (under the 200:1 ratio bound, so the ZIP checks
# let it through). calamine keeps each string as its own allocation plus a 24-byte slot, so
# the table alone would take over 1 GB. Then runs the release `push validate` on it under
# `/usr/bin/time -v` and prints the time, the peak RSS and the verdict as Markdown.
#
# Environment (optional): STRINGHE=20000000  LAVORO=target/bench  CARGO_TARGET_DIR
#   CONTEGGIO=0    omit the `uniqueCount` attribute (the reader must then count while streaming)
#   PUSH=path      the `push` binary to measure (default: the release build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STRINGHE=${STRINGHE:-20000000}
LAVORO=${LAVORO:-target/bench}
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$LAVORO"
CONTEGGIO=${CONTEGGIO:-1}
FILE="$LAVORO/stringhe-$STRINGHE-$CONTEGGIO.xlsx"

[ -x /usr/bin/time ] || sudo apt-get install -y time >/dev/null

if [ ! -f "$FILE" ]; then
  python3 - "$FILE" "$STRINGHE" "$CONTEGGIO" <<'PY'
import sys, zipfile
percorso, n, conteggio = sys.argv[1], int(sys.argv[2]), sys.argv[3] != '0'
dichiarate = f' count="{n}" uniqueCount="{n}"' if conteggio else ''
ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
parti = {
  '[Content_Types].xml': '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
  '_rels/.rels': f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
  'xl/workbook.xml': f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="unita" sheetId="1" r:id="rId1"/></sheets></workbook>',
  'xl/_rels/workbook.xml.rels': f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
  'xl/worksheets/sheet1.xml': f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
}
with zipfile.ZipFile(percorso, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for nome, testo in parti.items():
        z.writestr(nome, testo)
    with z.open('xl/sharedStrings.xml', 'w', force_zip64=True) as f:
        f.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {ns}{dichiarate}>'.encode())
        # A cycle of 1 000 short strings: long back-references, about 100:1.
        blocco = []
        for i in range(n):
            blocco.append(f'<si><t>{i % 1000}</t></si>')
            if len(blocco) == 100000:
                f.write(''.join(blocco).encode()); blocco = []
        f.write(''.join(blocco).encode())
        f.write(b'</sst>')
PY
fi

if [ -z "${PUSH:-}" ]; then
  cargo build --release -p push >/dev/null 2>&1
  PUSH="$TARGET/release/push"
fi
echo "file: $FILE ($(du -k "$FILE" | cut -f1) kB, $STRINGHE shared strings, uniqueCount declared: $CONTEGGIO)"
python3 -c "
import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); i=z.getinfo('xl/sharedStrings.xml')
print(f'sharedStrings.xml: {i.file_size/1e6:.0f} MB expanded, ratio {i.file_size/i.compress_size:.0f}:1')" "$FILE"
inizio=$(date +%s%N)
set +e
/usr/bin/time -v "$PUSH" validate --dominio patrimonio --formato json "$FILE" \
  >"$LAVORO/stringhe.json" 2>"$LAVORO/stringhe.time"
uscita=$?
set -e
fine=$(date +%s%N)
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$LAVORO/stringhe.time")
codice=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(', '.join(sorted({s['codice'] for s in r.get('segnalazioni',[])})) or 'nessuna')" "$LAVORO/stringhe.json" 2>/dev/null || echo '?')
echo
echo "| measure | time (s) | peak RSS (MB) | exit | codes |"
echo "|---|---|---|---|---|"
printf '| `%s validate`, %s shared strings, uniqueCount %s | %.3f | %.1f | %s | %s |\n' \
  "$PUSH" "$STRINGHE" "$([ "$CONTEGGIO" = 0 ] && echo omitted || echo declared)" "$(echo "($fine-$inizio)/1000000000" | bc -l)" "$(echo "$rss/1024" | bc -l)" "$uscita" "$codice"
