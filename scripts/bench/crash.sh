#!/usr/bin/env bash
# Crash test (issue 8): a write load against `dayaq serve`, the server killed with SIGKILL at
# random moments, restarted, and at the end: every write the server acknowledged (HTTP 201,
# the returned id recorded by the client) must be in the database, the database must pass its
# integrity check, and `dayaq audit verify` must pass. Synthetic data only.
#
#   scripts/bench/crash.sh [--kills 50] [--writers 8] [--cases 2000] [--data-dir DIR]
#                          [--database-url postgres://…/EMPTY_DB] [--bin PATH] [--out FILE.json]
#
# SQLite: `PRAGMA integrity_check` and `PRAGMA foreign_key_check`. PostgreSQL: amcheck's
# bt_index_check on every B-tree index of the database, and the same foreign-key orphan checks.
# SIGKILL ends the process, not the machine: the operating system still writes what was
# handed to it, so this shows that no acknowledged write depends on process memory; a
# power-loss test needs a VM or dm-flakey (see docs/PERFORMANCE.md).
set -euo pipefail

KILLS=50
WRITERS=8
CASES=2000
DATA_DIR=""
DATABASE_URL=""
BIN=""
OUT=""
MIN_MS=300
MAX_MS=3000

while [ $# -gt 0 ]; do
  case "$1" in
    --kills) KILLS="$2"; shift 2 ;;
    --writers) WRITERS="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --data-dir) DATA_DIR="$2"; shift 2 ;;
    --database-url) DATABASE_URL="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --min-ms) MIN_MS="$2"; shift 2 ;;
    --max-ms) MAX_MS="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
if [ -n "$DATABASE_URL" ]; then
  command -v psql >/dev/null || { echo "psql is required for PostgreSQL" >&2; exit 1; }
else
  command -v sqlite3 >/dev/null || { echo "sqlite3 is required for SQLite" >&2; exit 1; }
fi

WORK="$(mktemp -d -t dayaq-crash.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -n "$DATA_DIR" ] || DATA_DIR="$WORK/data"
DB_ARGS=(--data-dir "$DATA_DIR")
[ -z "$DATABASE_URL" ] || DB_ARGS+=(--database-url "$DATABASE_URL")
unset DAYAQ_DATABASE_URL DAYAQ_DATA_DIR DAYAQ_MASTER_KEY_FILE

if [ ! -f "$DATA_DIR/bench-population.json" ]; then
  echo "generating $CASES synthetic cases ..." >&2
  "$BIN" "${DB_ARGS[@]}" bench generate --cases "$CASES" >&2
fi
TOKEN="$("$BIN" "${DB_ARGS[@]}" token create --username bench.assistance-center --label crash-test --days 1 | tail -n 1)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"

start_server() {
  # One client address drives the whole load: lift the per-address API rate limit.
  RUST_LOG=warn "$BIN" "${DB_ARGS[@]}" serve --listen "127.0.0.1:$PORT" --api-rate 1000000 --api-burst 1000000 >>"$WORK/server.out" 2>>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -fsS "$URL/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "the server did not come back:" >&2
  tail -n 20 "$WORK/server.err" >&2
  exit 1
}

# Existing case ids to write events against.
start_server
curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/cases?limit=500" | python3 -c \
  'import json,sys; [print(c["id"]) for c in json.load(sys.stdin)["cases"]]' >"$WORK/ids"

# The writer: WRITERS threads, each on a keep-alive connection, creating cases, screenings and
# consents. A 201 is recorded (kind, id) and flushed before the next request; the writer stops
# when the server is gone.
cat >"$WORK/writer.py" <<'PY'
import http.client, json, random, sys, threading, time
port, token, ids_file, out_file, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
ids = [l.strip() for l in open(ids_file) if l.strip()]
lock = threading.Lock()
out = open(out_file, "a")
stats = {"acked": 0, "5xx": 0, "other": 0}
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

def body(kind, k):
    if kind == "case":
        return "/api/v1/cases", {"prs_FirstName": "Crash", "prs_SecondName": "Test%d" % k,
            "prs_Birthdate": "1990-01-%02d" % (k % 28 + 1), "prs_Gender": "Feminine",
            "prs_Citizenship": ["AZ"], "vic_TypeOfExploitation": ["ForcedLabour"]}
    case = random.choice(ids)
    if kind == "screening":
        return "/api/v1/cases/%s/screenings" % case, {"act": True, "means": True, "purpose": True,
            "vic_MethodsOfControl": ["DebtBondage"], "ilo_indicators": ["Deception"]}
    return "/api/v1/cases/%s/consents" % case, {"purpose": "Assistance", "given": True,
        "given_by": "Survivor", "language": "az"}

def worker(w):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    fails, k = 0, 0
    while fails < 3:
        k += 1
        kind = random.choice(["case", "screening", "consent"])
        path, b = body(kind, w * 1000000 + k)
        try:
            conn.request("POST", path, json.dumps(b), H)
            r = conn.getresponse()
            data = r.read()
            fails = 0
            if r.status == 201:
                rid = json.loads(data)["id"]
                with lock:
                    out.write("%s %s\n" % (kind, rid))
                    out.flush()
                    stats["acked"] += 1
            elif r.status >= 500:
                stats["5xx"] += 1
            else:
                stats["other"] += 1
        except Exception:
            fails += 1
            conn.close()
            time.sleep(0.02)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

ts = [threading.Thread(target=worker, args=(w,)) for w in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps(stats))
PY

: >"$WORK/acked"
: >"$WORK/writer-stats"
started=$(date +%s)
for k in $(seq 1 "$KILLS"); do
  kill -0 "$SERVER_PID" 2>/dev/null || start_server
  python3 "$WORK/writer.py" "$PORT" "$TOKEN" "$WORK/ids" "$WORK/acked" "$WRITERS" >>"$WORK/writer-stats" &
  WRITER_PID=$!
  sleep "$(python3 -c "import random; print(random.uniform($MIN_MS, $MAX_MS) / 1000)")"
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  wait "$WRITER_PID" || true
  SERVER_PID=""
  if [ $((k % 10)) -eq 0 ]; then
    echo "crash: $k/$KILLS kills, $(wc -l <"$WORK/acked") acknowledged writes so far" >&2
  fi
done
elapsed=$(( $(date +%s) - started ))

# Recovery: start once more (recovers the WAL), stop cleanly, then check.
start_server
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""

sql() {
  if [ -n "$DATABASE_URL" ]; then psql "$DATABASE_URL" -qAtX -c "$1"; else sqlite3 "$DATA_DIR/dayaq.db" "$1"; fi
}
missing=0
for pair in "case:cases" "screening:screenings" "consent:consents"; do
  kind="${pair%%:*}"; table="${pair##*:}"
  awk -v k="$kind" '$1 == k {print $2}' "$WORK/acked" | sort -u >"$WORK/acked.$kind"
  sql "SELECT id FROM $table" | sort -u >"$WORK/present.$kind"
  m="$(comm -23 "$WORK/acked.$kind" "$WORK/present.$kind" | wc -l)"
  echo "$kind: $(wc -l <"$WORK/acked.$kind") acknowledged, $m missing" >&2
  missing=$((missing + m))
done

orphans="$(sql "SELECT (SELECT COUNT(*) FROM case_keys k WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = k.case_id))
  + (SELECT COUNT(*) FROM screenings s WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = s.case_id))
  + (SELECT COUNT(*) FROM consents s WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = s.case_id))
  + (SELECT COUNT(*) FROM cases c WHERE c.erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM case_keys k WHERE k.case_id = c.id))")"
if [ -n "$DATABASE_URL" ]; then
  sql "CREATE EXTENSION IF NOT EXISTS amcheck" >/dev/null
  integrity="$(sql "SELECT COUNT(*) FROM (SELECT bt_index_check(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE a.amname = 'btree' AND n.nspname = 'public') t" >/dev/null 2>&1 && echo ok || echo FAILED)"
else
  integrity="$(sql "PRAGMA integrity_check")"
  fk="$(sql "PRAGMA foreign_key_check" | wc -l)"
  [ "$fk" = 0 ] || integrity="$integrity; foreign_key_check: $fk rows"
fi
if audit="$("$BIN" "${DB_ARGS[@]}" audit verify 2>&1)"; then audit_ok=true; else audit_ok=false; fi
stats="$(python3 - "$WORK/writer-stats" <<'PY'
import json, sys
t = {"acked": 0, "5xx": 0, "other": 0}
for l in open(sys.argv[1]):
    l = l.strip()
    if l.startswith("{"):
        for k, v in json.loads(l).items(): t[k] = t.get(k, 0) + v
print(json.dumps(t))
PY
)"
if [ "$(echo "$stats" | jq '."5xx"')" != 0 ]; then
  # 5xx answers are not lost writes (nothing was acknowledged), but say where they came from.
  echo "the writer saw 5xx answers; server errors logged (last 10):" >&2
  grep -E 'ERROR|panicked' "$WORK/server.err" "$WORK/server.out" 2>/dev/null | tail -n 10 >&2 || true
fi
ENGINE=sqlite; [ -z "$DATABASE_URL" ] || ENGINE=postgres
result="$(jq -n --arg engine "$ENGINE" --argjson kills "$KILLS" --argjson secs "$elapsed" \
  --argjson acked "$(wc -l <"$WORK/acked")" --argjson missing "$missing" --argjson orphans "${orphans:-0}" \
  --arg integrity "$integrity" --argjson audit_ok "$audit_ok" --arg audit "$audit" --argjson writers "$stats" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{date: $date, engine: $engine, kills: $kills, seconds: $secs, acknowledged_writes: $acked, missing: $missing,
    orphan_rows: $orphans, integrity: $integrity, audit_verify_ok: $audit_ok, audit_verify: $audit, writer: $writers}')"
echo "$result"
[ -z "$OUT" ] || echo "$result" >"$OUT"
if [ "$missing" -ne 0 ] || [ "$integrity" != ok ] || [ "$audit_ok" != true ] || [ "${orphans:-0}" != 0 ]; then
  echo "CRASH TEST FAILED" >&2
  exit 1
fi
echo "crash test passed: $KILLS kills, $(wc -l <"$WORK/acked") acknowledged writes, none lost" >&2
