#!/usr/bin/env bash
# Issue 14, item 3: cutting off the audit log's tail is detected.
#
#   DAYAQ_BIN=target/debug/dayaq scripts/security/audit-truncation.sh
#
# Starts `dayaq serve` (${DAYAQ_BIN:-target/release/dayaq}) on SQLite in a temporary directory
# with a witness file (--audit-witness, checkpoints every second and at shutdown), makes some
# audited activity, stops the server, then does what an attacker with write access to the
# database (but not the master key file) would do: deletes the last audit rows with sqlite3 and
# re-points `audit_head` at the new last row (first leaving the seal alone, then moving the
# seal's (seq, hash) too). `dayaq audit verify` must fail (exit 1) and name the rows, without and
# with --witness. Exit 0 when every check behaved as expected. Synthetic data only.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${DAYAQ_BIN:-target/release/dayaq}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || { echo "no dayaq binary at $BIN (build it, or set DAYAQ_BIN)" >&2; exit 2; }
if ! command -v sqlite3 >/dev/null; then
  echo "installing sqlite3 (Debian package) ..." >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq sqlite3 >&2
fi
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }

WORK="$(mktemp -d -t dayaq-audit-trunc.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export DAYAQ_DATA_DIR="$WORK/data"
WITNESS="$WORK/elsewhere/audit.witness"   # in real use: another volume or host
mkdir -p "$WORK/elsewhere"
DB="$DAYAQ_DATA_DIR/dayaq.db"
FAILED=0
expect() { # expect <what> <expected exit> <command...>
  local what="$1" want="$2"; shift 2
  set +e; "$@" >"$WORK/out" 2>&1; local got=$?; set -e
  sed 's/^/    /' "$WORK/out"
  if [ "$got" -eq "$want" ]; then echo "  ok: $what (exit $got)"; else echo "  UNEXPECTED: $what (exit $got, wanted $want)"; FAILED=1; fi
}

echo "== 1. server with a witness file, some audited activity"
"$BIN" serve --listen 127.0.0.1:0 --audit-witness "$WITNESS" --audit-checkpoint-seconds 1 \
  >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL="$(sed -n 's/^Dayaq listening on \(http:[^ ]*\).*/\1/p' "$WORK/server.out" | head -n1)"
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "the server did not start:"; cat "$WORK/server.log"; exit 1; }
echo "  server at $URL"
"$BIN" org add --slug ngo-test --name "Test NGO" --type NGO --region Baku >/dev/null
for u in test.one test.two test.three test.four; do
  "$BIN" user add --org ngo-test --role caseworker --username "$u" >/dev/null
done
sleep 2
echo "  /metrics: $(curl -fsS "$URL/metrics" | grep '^dayaq_audit_head_seq')"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
echo "  witness file (seq hash mac time):"; sed 's/^/    /' "$WITNESS"
expect "untouched log verifies, with the witness" 0 "$BIN" audit verify --witness "$WITNESS"

HEAD=$(sqlite3 "$DB" "SELECT seq FROM audit_head WHERE id = 1")
KEEP=$((HEAD - 3))
echo
echo "== 2. attacker: delete rows $((KEEP + 1))..$HEAD and point audit_head at row $KEEP"
sqlite3 "$DB" "DELETE FROM audit_log WHERE seq > $KEEP;
  UPDATE audit_head SET seq = $KEEP, hash = (SELECT hash FROM audit_log WHERE seq = $KEEP) WHERE id = 1;"
expect "verify without witness fails" 1 "$BIN" audit verify
expect "verify with witness fails" 1 "$BIN" audit verify --witness "$WITNESS"

echo
echo "== 3. attacker also moves the seal's (seq, hash) to row $KEEP (cannot recompute its MAC)"
sqlite3 "$DB" "UPDATE audit_head SET mac_seq = $KEEP,
  mac_hash = (SELECT hash FROM audit_log WHERE seq = $KEEP) WHERE id = 1;"
expect "verify without witness fails" 1 "$BIN" audit verify
expect "verify with witness fails" 1 "$BIN" audit verify --witness "$WITNESS"

echo
if [ "$FAILED" -eq 0 ]; then echo "PASS: truncation detected in every case"; else echo "FAIL"; fi
exit "$FAILED"
