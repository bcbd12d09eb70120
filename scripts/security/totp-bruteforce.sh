#!/usr/bin/env bash
# Issue 14, item 1: try to brute-force the second factor of a running Dayaq server.
#
# Starts `dayaq demo` (synthetic data, published passwords) on 127.0.0.1 in a temporary data
# directory, passes the password step as the demo supervisor, then posts wrong TOTP codes with
# curl. Expected: after 5 wrong codes the pending sign-in is dropped (the session cookie is
# cleared and the sign-in form comes back), and the RIGHT code posted on that pending sign-in
# afterwards is refused. Exit status 0 when the server resisted, 1 when the attack succeeded,
# 2 when the test could not run.
#
# Usage: scripts/security/totp-bruteforce.sh            (binary: target/release/dayaq)
#        DAYAQ_BIN=target/debug/dayaq scripts/security/totp-bruteforce.sh
# Needs curl and python3 (for the TOTP code). Loopback only; bounded (at most 8 wrong codes);
# the server and the temporary directory are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN="${DAYAQ_BIN:-target/release/dayaq}"
MAX_WRONG=8
[ -x "$BIN" ] || { echo "no dayaq binary at $BIN (build it or set DAYAQ_BIN)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 2; }

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
echo "==> starting $BIN demo on $URL (temporary data directory)"
RUST_LOG=warn "$BIN" --data-dir "$WORK/data" demo --listen "127.0.0.1:$PORT" \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 240); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server stopped:" >&2; tail -n 20 "$WORK/server.err" >&2; exit 2; }
  sleep 0.5
done
curl -fsS "$URL/healthz" >/dev/null || { echo "the server did not start" >&2; exit 2; }

USER=demo.supervisor
PASSWORD="$(sed -n 's/^Demo logins (password for all: \(.*\)):$/\1/p' "$WORK/server.out")"
SECRET="$(awk -v u="$USER" '$1 == u {print $NF}' "$WORK/server.out")"
[ -n "$PASSWORD" ] && [ -n "$SECRET" ] || { echo "could not read the demo logins" >&2; exit 2; }

# totp STEP_OFFSET: the code of the current 30-second step (+ offset steps), RFC 6238 SHA-1.
totp() {
  python3 - "$SECRET" "$1" <<'PY'
import base64, hmac, hashlib, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
step = int(time.time()) // 30 + int(sys.argv[2])
h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$1" | head -n 1; }
JAR="$WORK/jar"

echo "==> password step as $USER"
curl -sS -c "$JAR" -b "$JAR" -o "$WORK/login.html" "$URL/login"
STATUS="$(curl -sS -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code} %{redirect_url}' \
  --data-urlencode "csrf=$(csrf_of "$WORK/login.html")" --data-urlencode "username=$USER" \
  --data-urlencode "password=$PASSWORD" "$URL/login")"
echo "    POST /login -> $STATUS"
case "$STATUS" in *"/login/totp") ;; *) echo "the password step did not lead to the second factor" >&2; exit 2 ;; esac
PENDING="$(awk '$6 == "dayaq_session" {print $7}' "$JAR")"
[ -n "$PENDING" ] || { echo "no pending session cookie" >&2; exit 2; }
curl -sS -c "$JAR" -b "$JAR" -o "$WORK/totp.html" "$URL/login/totp"
CSRF="$(csrf_of "$WORK/totp.html")"

VALID=" $(totp -1) $(totp 0) $(totp 1) $(totp 2) "
echo "==> posting up to $MAX_WRONG wrong codes"
checked=0
code=100000
for i in $(seq 1 "$MAX_WRONG"); do
  while [[ "$VALID" == *" $(printf %06d $code) "* ]]; do code=$((code + 1)); done
  STATUS="$(curl -sS -c "$JAR" -b "$JAR" -o "$WORK/answer.html" -w '%{http_code}' \
    --data-urlencode "csrf=$CSRF" --data-urlencode "code=$(printf %06d $code)" "$URL/login/totp")"
  code=$((code + 1))
  if grep -q 'name="password"' "$WORK/answer.html"; then
    echo "    wrong code $i -> $STATUS: the pending sign-in was dropped (back to the password form)"
    checked=$i
    break
  fi
  echo "    wrong code $i -> $STATUS"
  checked=$i
done

echo "==> the right code on the same pending sign-in (replaying its cookie)"
RIGHT="$(totp 0)"
STATUS="$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Cookie: dayaq_session=$PENDING" \
  --data-urlencode "csrf=$CSRF" --data-urlencode "code=$RIGHT" "$URL/login/totp")"
echo "    POST /login/totp (right code) -> $STATUS"
ME="$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: dayaq_session=$PENDING" "$URL/api/v1/me")"
echo "    GET /api/v1/me with the pending cookie -> $ME"

if [ "$ME" = "200" ] || [[ "$STATUS" == "303 $URL/" ]]; then
  echo "FAIL: the second factor was brute-forced ($checked wrong codes, then the right one was accepted)" >&2
  exit 1
fi
if [ "$checked" -gt 5 ]; then
  echo "FAIL: more than 5 wrong codes were checked on one pending sign-in" >&2
  exit 1
fi
echo "OK: the pending sign-in was dropped after $checked wrong codes and the right code was refused"
