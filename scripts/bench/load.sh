#!/usr/bin/env bash
# Load test (issue 8): a mixed, authenticated workload against `dayaq serve` on 127.0.0.1
# with wrk. Synthetic data only: the data directory is generated with `dayaq bench generate`.
#
#   scripts/bench/load.sh [--cases N] [--data-dir DIR] [--database-url URL] [--bin PATH]
#                         [--duration 30s] [--connections 16] [--threads 2] [--rate R]
#                         [--breakdown 10s] [--out FILE.json]
#
# Mix (per request, at random; issue 8's 70 % reads, 20 % writes, 10 % search): 35 % case page
# with identity (GET /api/v1/cases/{id}?include=identity, audited), 35 % caseload list
# (GET /api/v1/cases?limit=50&offset=…), 10 % service delivered (POST /api/v1/cases/{id}/
# services), 10 % follow-up contact logged (POST /api/v1/cases/{id}/followup/contacts, with a
# sealed justification), 10 % blind-index search (POST /api/v1/cases/search, name + birth
# date). With --rate R the
# load is paced to about R requests/s in total (wrk's delay()); without it wrk runs closed-loop
# (as fast as the server answers). After the mix, each kind runs alone for --breakdown
# (0 to skip) so that each gets its own percentiles. Server RSS (VmRSS) is read from
# /proc/<pid>/status idle and every second under load. Requests are bounded by time
# (--duration) and, through the connection count, in number in flight.
set -euo pipefail

CASES=10000
DATA_DIR=""
DATABASE_URL=""
BIN=""
DURATION=30s
CONNECTIONS=16
THREADS=2
RATE=""
BREAKDOWN=10s
OUT=""
PORT=""

while [ $# -gt 0 ]; do
  case "$1" in
    --cases) CASES="$2"; shift 2 ;;
    --data-dir) DATA_DIR="$2"; shift 2 ;;
    --database-url) DATABASE_URL="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --breakdown) BREAKDOWN="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk ..." >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y wrk >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi
for tool in jq curl; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

WORK="$(mktemp -d -t dayaq-load.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$DATA_DIR" ]; then
  DATA_DIR="$WORK/data"
fi
DB_ARGS=(--data-dir "$DATA_DIR")
if [ -n "$DATABASE_URL" ]; then DB_ARGS+=(--database-url "$DATABASE_URL"); fi
unset DAYAQ_DATABASE_URL DAYAQ_DATA_DIR DAYAQ_MASTER_KEY_FILE

if [ ! -f "$DATA_DIR/bench-population.json" ]; then
  echo "generating $CASES synthetic cases into $DATA_DIR ..." >&2
  "$BIN" "${DB_ARGS[@]}" bench generate --cases "$CASES" >&2
fi

USERNAME="bench.assistance-center"
TOKEN="$("$BIN" "${DB_ARGS[@]}" token create --username "$USERNAME" --label load-test --days 1 | tail -n 1)"

if [ -z "$PORT" ]; then
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)"
fi
URL="http://127.0.0.1:$PORT"
# One client address drives the whole load: lift the per-address API rate limit.
RUST_LOG=warn "$BIN" "${DB_ARGS[@]}" serve --listen "127.0.0.1:$PORT" --api-rate 1000000 --api-burst 1000000 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$URL/healthz" >/dev/null || { echo "the server did not start:" >&2; cat "$WORK/server.err" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
sleep 2
RSS_IDLE="$(rss_kib)"

AUTH="Authorization: Bearer $TOKEN"
# Case ids of the organisation (first 20 pages), and search probes (name + birth date of 100
# cases, read through the audited identity API; synthetic data, kept in the temporary dir).
: >"$WORK/ids"
for off in $(seq 0 500 9500); do
  curl -fsS -H "$AUTH" "$URL/api/v1/cases?limit=500&offset=$off" | jq -r '.cases[].id' >>"$WORK/ids"
done
NIDS="$(wc -l <"$WORK/ids")"
[ "$NIDS" -gt 0 ] || { echo "no cases visible to $USERNAME" >&2; exit 1; }
: >"$WORK/probes"
head -n 400 "$WORK/ids" | while read -r id; do
  curl -fsS -H "$AUTH" "$URL/api/v1/cases/$id?include=identity" \
    | jq -c 'select(.identity.prs_Birthdate != null) | {prs_FirstName: .identity.prs_FirstName, prs_SecondName: .identity.prs_SecondName, prs_Birthdate: .identity.prs_Birthdate}' >>"$WORK/probes"
done
head -n 100 "$WORK/probes" >"$WORK/probes.100" && mv "$WORK/probes.100" "$WORK/probes"

# The wrk script: ids and probes are read from files in the temporary directory.
cat >"$WORK/mixed.lua" <<LUA
local ids, probes = {}, {}
for l in io.lines("$WORK/ids") do ids[#ids + 1] = l end
for l in io.lines("$WORK/probes") do probes[#probes + 1] = l end
local token = "$TOKEN"
local mode = os.getenv("DAYAQ_LOAD_MODE") or "mixed"
local pause = tonumber(os.getenv("DAYAQ_LOAD_DELAY_MS") or "0")
local threads = {}
local hdr = { ["Authorization"] = "Bearer " .. token }
local jhdr = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local service = '{"service":"PsychologicalCounselling","started_on":"2026-01-15","ended_on":"2026-01-15","outcome":"Completed","cost_minor":2500}'
local contact = '{"channel":"phone","at":"2026-01-20T10:00:00Z","reached":true,"justification":"She called back on the number she gave"}'

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (id or 0) * 7919)
  counts = { read = 0, list = 0, service = 0, followup = 0, search = 0 }
  non2xx = 0
end

local function kind()
  if mode ~= "mixed" then return mode end
  local x = math.random(100)
  if x <= 35 then return "read" elseif x <= 70 then return "list"
  elseif x <= 80 then return "service" elseif x <= 90 then return "followup" else return "search" end
end

function request()
  local k = kind()
  counts[k] = counts[k] + 1
  local id = ids[math.random(#ids)]
  if k == "read" then
    return wrk.format("GET", "/api/v1/cases/" .. id .. "?include=identity", hdr)
  elseif k == "list" then
    return wrk.format("GET", "/api/v1/cases?limit=50&offset=" .. (50 * math.random(0, 9)), hdr)
  elseif k == "service" then
    return wrk.format("POST", "/api/v1/cases/" .. id .. "/services", jhdr, service)
  elseif k == "followup" then
    return wrk.format("POST", "/api/v1/cases/" .. id .. "/followup/contacts", jhdr, contact)
  else
    return wrk.format("POST", "/api/v1/cases/search", jhdr, probes[math.random(#probes)])
  end
end

function delay()
  return pause
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local errs = 0
  local c = { read = 0, list = 0, service = 0, followup = 0, search = 0 }
  for _, t in ipairs(threads) do
    errs = errs + (t:get("non2xx") or 0)
    local tc = t:get("counts")
    if tc then for k, v in pairs(tc) do c[k] = c[k] + v end end
  end
  local secs = summary.duration / 1e6
  io.write(string.format('{"mode":"%s","requests":%d,"seconds":%.2f,"rps":%.1f,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"p999_ms":%.2f,"max_ms":%.2f,' ..
    '"mix":{"read":%d,"list":%d,"service":%d,"followup":%d,"search":%d}}\n',
    mode, summary.requests, secs, summary.requests / secs, errs,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    c.read, c.list, c.service, c.followup, c.search))
end
LUA

DELAY_MS=0
if [ -n "$RATE" ]; then
  # Each connection waits connections/rate seconds between requests.
  DELAY_MS=$(( CONNECTIONS * 1000 / RATE ))
fi

PEAK=0
sample_rss() {
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    r="$(rss_kib || echo 0)"
    echo "$r" >>"$WORK/rss"
    sleep 1
  done
}
: >"$WORK/rss"
sample_rss &
SAMPLER=$!

run_wrk() { # mode duration
  DAYAQ_LOAD_MODE="$1" DAYAQ_LOAD_DELAY_MS="$DELAY_MS" \
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "$2" --timeout 10s -s "$WORK/mixed.lua" "$URL" \
    | grep '^{"mode"' || true
}

echo "load: $NIDS case ids, $(wc -l <"$WORK/probes") search probes, idle RSS $((RSS_IDLE / 1024)) MiB; mixed run for $DURATION, $CONNECTIONS connections, $THREADS threads${RATE:+, paced to ~$RATE req/s}" >&2
RESULTS=("$(run_wrk mixed "$DURATION")")
RSS_MIXED_MAX="$(sort -n "$WORK/rss" | tail -n 1)"
if [ "$BREAKDOWN" != "0" ]; then
  for m in read list service followup search; do
    RESULTS+=("$(run_wrk "$m" "$BREAKDOWN")")
  done
fi
kill "$SAMPLER" 2>/dev/null || true
RSS_MAX="$(sort -n "$WORK/rss" | tail -n 1)"
HWM="$(hwm_kib)"
ENGINE=sqlite; [ -n "$DATABASE_URL" ] && ENGINE=postgres

SUMMARY="$(printf '%s\n' "${RESULTS[@]}" | jq -s \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg engine "$ENGINE" \
  --argjson cpus "$(nproc)" --argjson idle "$RSS_IDLE" --argjson mixed "${RSS_MIXED_MAX:-0}" \
  --argjson max "${RSS_MAX:-0}" --argjson hwm "${HWM:-0}" \
  --arg conns "$CONNECTIONS" --arg rate "${RATE:-closed-loop}" \
  --slurpfile pop "$DATA_DIR/bench-population.json" \
  '{date: $date, engine: $engine, cpus: $cpus, cases: $pop[0].cases, connections: ($conns|tonumber), rate: $rate,
    rss_mib: {idle: ($idle/1024), under_mixed_load_max: ($mixed/1024), max: ($max/1024), peak_hwm: ($hwm/1024)},
    runs: .}')"
echo "$SUMMARY"
if [ -n "$OUT" ]; then echo "$SUMMARY" >"$OUT"; fi

printf '\n| Run | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | non-2xx |\n|---|---:|---:|---:|---:|---:|---:|\n' >&2
echo "$SUMMARY" | jq -r '.runs[] | "| \(.mode) | \(.rps) | \(.p50_ms) | \(.p90_ms) | \(.p99_ms) | \(.p999_ms) | \(.non_2xx) |"' >&2
echo "$SUMMARY" | jq -r '"\nserver RSS: idle \(.rss_mib.idle|floor) MiB, under mixed load max \(.rss_mib.under_mixed_load_max|floor) MiB, peak (VmHWM) \(.rss_mib.peak_hwm|floor) MiB"' >&2
