#!/usr/bin/env bash
# Vendors the front-end assets (Bootstrap Italia, Leaflet, Leaflet.markercluster) from the npm
# registry into crates/web/assets/vendor/, so that building and running the
# Rust binary needs no network. The result is committed; run this script
# again only to change versions (edit the pins below).
#
# Needs: bash, npm (with node), sha256sum, find, du.
# Usage: tools/vendor-assets.sh        (from anywhere inside the repo)
set -euo pipefail

# ---- Pinned versions -------------------------------------------------------
# bootstrap-italia: latest 2.x (`npm view bootstrap-italia version`)
BOOTSTRAP_ITALIA_VERSION="2.18.3"
# leaflet: latest 1.9.x (`npm view leaflet versions`)
LEAFLET_VERSION="1.9.4"
# leaflet.markercluster: latest 1.x (`npm view leaflet.markercluster version`), for leaflet 1.x
MARKERCLUSTER_VERSION="1.5.3"
# ----------------------------------------------------------------------------

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASSETS_DIR="$REPO_ROOT/crates/web/assets"
VENDOR_DIR="$ASSETS_DIR/vendor"

command -v npm >/dev/null || { echo "error: npm not found" >&2; exit 1; }
command -v node >/dev/null || { echo "error: node not found" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo ">> installing bootstrap-italia@$BOOTSTRAP_ITALIA_VERSION leaflet@$LEAFLET_VERSION leaflet.markercluster@$MARKERCLUSTER_VERSION in $WORK"
cat >"$WORK/package.json" <<'EOF'
{ "name": "push-vendor-assets", "private": true, "version": "0.0.0" }
EOF
(
  cd "$WORK"
  npm install --no-audit --no-fund --ignore-scripts --save-exact --loglevel=error \
    "bootstrap-italia@$BOOTSTRAP_ITALIA_VERSION" \
    "leaflet@$LEAFLET_VERSION" \
    "leaflet.markercluster@$MARKERCLUSTER_VERSION" >/dev/null
)

BI="$WORK/node_modules/bootstrap-italia"
LF="$WORK/node_modules/leaflet"
MC="$WORK/node_modules/leaflet.markercluster"

# Sanity: the installed versions are exactly the pinned ones.
pkg_field() { node -e 'const p=require(process.argv[1]); process.stdout.write(String(p[process.argv[2]]))' "$1/package.json" "$2"; }
for pair in "$BI:$BOOTSTRAP_ITALIA_VERSION" "$LF:$LEAFLET_VERSION" "$MC:$MARKERCLUSTER_VERSION"; do
  dir="${pair%%:*}"; want="${pair##*:}"
  got="$(pkg_field "$dir" version)"
  [[ "$got" == "$want" ]] || { echo "error: $dir has version $got, expected $want" >&2; exit 1; }
done

# ---- Wipe and recreate (idempotent) ----------------------------------------
echo ">> recreating $VENDOR_DIR"
rm -rf "$VENDOR_DIR"
mkdir -p "$VENDOR_DIR/bootstrap-italia/css" \
         "$VENDOR_DIR/bootstrap-italia/js" \
         "$VENDOR_DIR/bootstrap-italia/svg" \
         "$VENDOR_DIR/bootstrap-italia/fonts" \
         "$VENDOR_DIR/leaflet/images" \
         "$VENDOR_DIR/leaflet.markercluster"

# ---- Bootstrap Italia ------------------------------------------------------
cp "$BI/LICENSE"                                   "$VENDOR_DIR/bootstrap-italia/LICENSE"
cp "$BI/dist/css/bootstrap-italia.min.css"         "$VENDOR_DIR/bootstrap-italia/css/"
cp "$BI/dist/js/bootstrap-italia.bundle.min.js"    "$VENDOR_DIR/bootstrap-italia/js/"
cp "$BI/dist/svg/sprites.svg"                      "$VENDOR_DIR/bootstrap-italia/svg/"

# Fonts. In bootstrap-italia 2.x the CSS declares no @font-face for its fonts
# (Titillium Web, Lora, Roboto Mono): they are injected at run time by the JS
# function `bootstrap.loadFonts(path)`. We check that the CSS indeed references
# no font files (if a future version does, this script must be revisited),
# then keep only the woff2 files with the fonts' own licence files, in the
# same <Family>/<file> layout under fonts/, and generate a static
# css/fonts.css (woff2 only, `../fonts/...`) so fonts work without JS.
CSS="$VENDOR_DIR/bootstrap-italia/css/bootstrap-italia.min.css"
if grep -oE 'url\([^)]*\.(woff2?|ttf|eot|otf)[^)]*\)' "$CSS" | grep -v 'data:' | grep -q .; then
  echo "error: bootstrap-italia.min.css now references font files by url(); update this script" >&2
  grep -oE 'url\([^)]*\.(woff2?|ttf|eot|otf)[^)]*\)' "$CSS" | grep -v 'data:' | sort -u >&2
  exit 1
fi

( cd "$BI/dist/fonts" && find . -type f \( -name '*.woff2' -o -name '*.txt' \) ) | sort | while read -r f; do
  mkdir -p "$VENDOR_DIR/bootstrap-italia/fonts/$(dirname "$f")"
  cp "$BI/dist/fonts/$f" "$VENDOR_DIR/bootstrap-italia/fonts/$f"
done

# Generate css/fonts.css from the @font-face rules that loadFonts() would
# inject, keeping only the woff2 source of each rule.
node - "$BI/dist/js/bootstrap-italia.bundle.min.js" "$VENDOR_DIR/bootstrap-italia" "$BOOTSTRAP_ITALIA_VERSION" <<'EOF'
const fs = require('fs');
const path = require('path');
const [bundle, outDir, version] = process.argv.slice(2);
const src = fs.readFileSync(bundle, 'utf8');
const at = src.indexOf('loadFonts:');
if (at < 0) { console.error('error: loadFonts not found in the bundle'); process.exit(1); }
const open = src.indexOf('`', at);
const close = src.indexOf('`', open + 1);
if (open < 0 || close < 0) { console.error('error: loadFonts template not found'); process.exit(1); }
const tpl = src.slice(open + 1, close).replace(/\\n/g, '\n').replace(/\/\*[\s\S]*?\*\//g, '')
  .replace(/\$\{\w+\}/g, '@FONTS@');
const blocks = tpl.split('@font-face').slice(1);
const rules = [];
for (const b of blocks) {
  const body = b.slice(b.indexOf('{') + 1, b.indexOf('}'));
  const get = (re) => { const m = body.match(re); return m ? m[1].trim() : null; };
  const family = get(/font-family:\s*([^;]+);/);
  const style = get(/font-style:\s*([^;]+);/) || 'normal';
  const weight = get(/font-weight:\s*([^;]+);/) || '400';
  const display = get(/font-display:\s*([^;]+);/) || 'swap';
  const woff2 = get(/url\(['"]?@FONTS@\/([^'")]+\.woff2)['"]?\)/);
  if (!family || !woff2) { console.error('error: cannot parse @font-face rule:\n' + body); process.exit(1); }
  if (!fs.existsSync(path.join(outDir, 'fonts', woff2))) {
    console.error('error: font file missing: fonts/' + woff2); process.exit(1);
  }
  rules.push(`@font-face{font-family:${family};font-style:${style};font-weight:${weight};` +
             `font-display:${display};src:url("../fonts/${woff2}") format("woff2")}`);
}
if (rules.length === 0) { console.error('error: no @font-face rules found'); process.exit(1); }
// Every vendored woff2 must be used by some rule (and vice versa, checked above).
const used = new Set(rules.map(r => r.match(/\.\.\/fonts\/([^"]+)/)[1]));
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap(e =>
  e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
const fontsDir = path.join(outDir, 'fonts');
for (const f of walk(fontsDir).filter(f => f.endsWith('.woff2'))) {
  const rel = path.relative(fontsDir, f).split(path.sep).join('/');
  if (!used.has(rel)) { fs.unlinkSync(f); console.error('note: dropped unused font ' + rel); }
}
const header = `/* Bootstrap Italia ${version} fonts (Titillium Web, Lora, Roboto Mono), woff2 only.\n` +
  ` * Generated by tools/vendor-assets.sh from bootstrap.loadFonts(); do not edit.\n` +
  ` * Fonts licensed under the SIL Open Font License / Apache 2.0: see ../fonts/<Family>/. */\n`;
fs.writeFileSync(path.join(outDir, 'css', 'fonts.css'), header + rules.join('\n') + '\n');
console.log(`>> css/fonts.css: ${rules.length} @font-face rules`);
EOF

# ---- Leaflet -----------------------------------------------------------------
cp "$LF/LICENSE"               "$VENDOR_DIR/leaflet/LICENSE"
cp "$LF/dist/leaflet.css"      "$VENDOR_DIR/leaflet/"
cp "$LF/dist/leaflet.js"       "$VENDOR_DIR/leaflet/"
cp "$LF/dist/images/"*         "$VENDOR_DIR/leaflet/images/"

# Every non-data url() in leaflet.css must resolve.
grep -oE 'url\([^)]*\)' "$VENDOR_DIR/leaflet/leaflet.css" | sed -E 's/^url\(["'\'']?//; s/["'\'']?\)$//' \
  | grep -vE '^(data:|#)' | sort -u | while read -r u; do
  [[ -f "$VENDOR_DIR/leaflet/$u" ]] || { echo "error: leaflet.css references missing $u" >&2; exit 1; }
done

# ---- Leaflet.markercluster (clusters the dashboard's and the register's building maps) ----
cp "$MC/MIT-LICENCE.txt"                        "$VENDOR_DIR/leaflet.markercluster/LICENSE"
cp "$MC/dist/leaflet.markercluster.js"          "$VENDOR_DIR/leaflet.markercluster/"
cp "$MC/dist/MarkerCluster.css"                 "$VENDOR_DIR/leaflet.markercluster/"
cp "$MC/dist/MarkerCluster.Default.css"         "$VENDOR_DIR/leaflet.markercluster/"

# ---- VERSIONS.md -------------------------------------------------------------
TODAY="$(date -u +%Y-%m-%d)"
row() { # name version dir
  local name="$1" ver="$2" dir="$3" lic integrity
  lic="$(pkg_field "$dir" license)"
  integrity="$(npm view "$name@$ver" dist.integrity)"
  [[ -n "$integrity" ]] || { echo "error: no dist.integrity for $name@$ver" >&2; exit 1; }
  printf '| %s | %s | %s | `%s` | %s |\n' "$name" "$ver" "$lic" "$integrity" "$TODAY"
}
{
  echo "# Vendored front-end assets"
  echo
  echo "Generated by \`tools/vendor-assets.sh\` — do not edit by hand; change the pinned versions in the script and run it again."
  echo
  echo "| package | version | licence | tarball integrity (npm \`dist.integrity\`) | vendored on |"
  echo "| --- | --- | --- | --- | --- |"
  row bootstrap-italia "$BOOTSTRAP_ITALIA_VERSION" "$BI"
  row leaflet "$LEAFLET_VERSION" "$LF"
  row leaflet.markercluster "$MARKERCLUSTER_VERSION" "$MC"
  echo
  echo "Fonts shipped by bootstrap-italia (woff2 only) keep their own licences: \`bootstrap-italia/fonts/*/OFL.txt\` (Titillium Web, Lora: SIL OFL 1.1) and \`bootstrap-italia/fonts/Roboto_Mono/LICENSE.txt\` (Apache 2.0)."
  echo "\`bootstrap-italia/css/fonts.css\` is generated by the script from the bundle's \`loadFonts()\` rules, keeping only the woff2 sources."
  echo
  echo "## Files (sha256)"
  echo
  echo '```'
  ( cd "$VENDOR_DIR" && find . -type f ! -name VERSIONS.md | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum )
  echo '```'
} >"$VENDOR_DIR/VERSIONS.md"

echo ">> done: $(du -sh "$VENDOR_DIR" | cut -f1) in $VENDOR_DIR"
( cd "$VENDOR_DIR" && find . -type f | sed 's|^\./||' | LC_ALL=C sort )
