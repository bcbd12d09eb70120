#!/usr/bin/env bash
# Issue 14, item 2, shown on a running server: spreadsheet bombs uploaded by a caseworker get a
# 422 naming the problem, and the server keeps answering.
#
#   scripts/security/xlsx-bomb.sh                      (uses target/release/dayaq)
#   DAYAQ_BIN=target/debug/dayaq scripts/security/xlsx-bomb.sh
#   scripts/security/xlsx-bomb.sh --build FILE         (only write the 4.8 KB bomb to FILE)
#
# Three files are built with python3's zipfile: the issue's file (one cell at A1, one at
# XFD1048576), a "wide" sheet (600 rows each with a cell in column XFD), and a ZIP member that
# inflates to 300 MiB. A temporary data directory and a free port are used; nothing else is
# touched. Exit 0 when every upload got 422 and the server still answered; 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

build() { # build KIND FILE
  python3 - "$1" "$2" <<'PY'
import sys, zipfile
kind, out = sys.argv[1], sys.argv[2]
ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
def cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
if kind == "corner":
    rows = f'<row r="1">{cell("A1", "prs_FirstName")}</row>' \
           f'<row r="1048576">{cell("XFD1048576", "x")}</row>'
    dim = "A1:XFD1048576"
elif kind == "wide":
    rows = f'<row r="1">{cell("A1", "prs_FirstName")}</row>' + "".join(
        f'<row r="{r}">{cell(f"XFD{r}", "x")}</row>' for r in range(2, 602))
    dim = "A1:XFD601"
else:
    rows = f'<row r="1">{cell("A1", "prs_FirstName")}</row>'
    dim = "A1"
files = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><dimension ref="{dim}"/><sheetData>{rows}</sheetData></worksheet>',
}
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name, body in files.items():
        z.writestr(name, body)
    if kind == "inflate":
        # 300 MiB of spaces in a member that nothing reads: a few hundred KiB compressed.
        with z.open("xl/padding.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                f.write(chunk)
PY
}

if [ "${1:-}" = "--build" ]; then
  build corner "$2"
  exit 0
fi

BIN="${DAYAQ_BIN:-$ROOT/target/release/dayaq}"
[ -x "$BIN" ] || { echo "no dayaq binary at $BIN (build it, or set DAYAQ_BIN)" >&2; exit 2; }
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
DATA="$WORK/data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
export RUST_LOG=warn

"$BIN" org add --slug bomb-ngo --name "Bomb test NGO" --type NGO --region Baku --data-dir "$DATA" >/dev/null
"$BIN" user add --org bomb-ngo --role caseworker --username bomb.caseworker --data-dir "$DATA" >/dev/null
TOKEN="$("$BIN" token create --username bomb.caseworker --days 1 --data-dir "$DATA" | grep '^dq_' | tail -n1)"
[ -n "$TOKEN" ] || { echo "could not create a token" >&2; exit 2; }

"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 2; }

fail=0
for kind in corner wide inflate; do
  build "$kind" "$WORK/$kind.xlsx"
  size=$(stat -c %s "$WORK/$kind.xlsx")
  status=$(curl -sS -o "$WORK/$kind.json" -w '%{http_code}' -X POST "$BASE/api/v1/import/htcds" \
    -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" \
    --data-binary "@$WORK/$kind.xlsx" || echo "000")
  problem=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]["errors"][0]; print(e["code"], "-", e["message"])' "$WORK/$kind.json" 2>/dev/null || echo "?")
  echo "$kind.xlsx ($size bytes): HTTP $status: $problem"
  [ "$status" = "422" ] || fail=1
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL: the server process died on $kind.xlsx" >&2
    exit 1
  fi
done

status=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/api/v1/export/htcds?format=csv&identity=none" -H "Authorization: Bearer $TOKEN" || echo "000")
echo "after the bombs: GET /api/v1/export/htcds answers HTTP $status"
[ "$status" = "200" ] || fail=1
if [ "$fail" = 0 ]; then echo "OK: every bomb was refused with 422 and the server kept answering"; else echo "FAIL" >&2; fi
exit "$fail"
