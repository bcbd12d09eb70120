#!/usr/bin/env bash
# API fuzzing with schemathesis (issue 8): every operation of /api/v1/openapi.json, called as
# a caseworker, a police officer and the national coordinator of a generated population, with
# generated valid and invalid inputs. Fails on any 5xx answer or any answer that violates the
# schema (status codes, content types, response schemas). Synthetic data only.
#
#   scripts/bench/schemathesis.sh [--cases 300] [--max-examples 50] [--max-time SECONDS]
#                                 [--database-url postgres://…/EMPTY_DB] [--bin PATH]
#                                 [--report-dir DIR]
#
# Installs schemathesis from PyPI (pip --user) when `st` is missing. Destructive operations
# (erasure, transfer, session revocation) run too: the data is generated and thrown away.
set -euo pipefail

CASES=300
MAX_EXAMPLES=50
MAX_TIME=""
DATABASE_URL=""
BIN=""
REPORT_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) CASES="$2"; shift 2 ;;
    --max-examples) MAX_EXAMPLES="$2"; shift 2 ;;
    --max-time) MAX_TIME="$2"; shift 2 ;;
    --database-url) DATABASE_URL="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --report-dir) REPORT_DIR="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -z "$BIN" ]; then
  BIN="$ROOT/target/release/dayaq"
  if [ ! -x "$BIN" ]; then
    echo "building $BIN ..." >&2
    (cd "$ROOT" && cargo build --release -p dayaq >&2)
  fi
fi
if ! command -v st >/dev/null 2>&1; then
  echo "installing schemathesis ..." >&2
  python3 -m pip install --user --quiet schemathesis >&2
  export PATH="$HOME/.local/bin:$PATH"
fi

WORK="$(mktemp -d -t dayaq-st.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "$REPORT_DIR" ] || REPORT_DIR="$WORK/report"
mkdir -p "$REPORT_DIR"

DB_ARGS=(--data-dir "$WORK/data")
[ -z "$DATABASE_URL" ] || DB_ARGS+=(--database-url "$DATABASE_URL")
unset DAYAQ_DATABASE_URL DAYAQ_DATA_DIR DAYAQ_MASTER_KEY_FILE
echo "generating $CASES synthetic cases ..." >&2
"$BIN" "${DB_ARGS[@]}" bench generate --cases "$CASES" >&2
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
# One client address drives the whole load: lift the per-address API rate limit.
RUST_LOG=warn "$BIN" "${DB_ARGS[@]}" serve --listen "127.0.0.1:$PORT" --api-rate 1000000 --api-burst 1000000 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done

failed=0
for user in bench.assistance-center bench.police-officer bench.coordinator; do
  if ! TOKEN="$("$BIN" "${DB_ARGS[@]}" token create --username "$user" --label schemathesis --days 1 2>/dev/null | tail -n 1)"; then
    echo "no account $user in the generated population: skipped" >&2
    continue
  fi
  echo "== schemathesis as $user" >&2
  extra=()
  [ -z "$MAX_TIME" ] || extra+=(--max-time "$MAX_TIME")
  if ! st run "$URL/api/v1/openapi.json" \
      -H "Authorization: Bearer $TOKEN" \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
      --max-examples "$MAX_EXAMPLES" --seed 1 --workers 2 --no-color \
      --request-timeout 30 \
      --report junit,har --report-dir "$REPORT_DIR/$user" "${extra[@]}"; then
    failed=1
  fi
done
if grep -Eq '"level":"ERROR"|panicked' "$WORK/server.err"; then
  echo "the server logged errors:" >&2
  grep -E '"level":"ERROR"|panicked' "$WORK/server.err" | tail -n 20 >&2
  failed=1
fi
if [ "$failed" -ne 0 ]; then
  echo "SCHEMATHESIS FAILED" >&2
  exit 1
fi
echo "schemathesis passed: no 5xx, no schema violations" >&2
