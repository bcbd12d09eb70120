#!/usr/bin/env bash
# Upload/download throughput and peak RSS of one 25 MiB attachment through `dayaq serve`
# (docs/PERFORMANCE.md "Attachments"). Run from the repository root after `cargo build -p dayaq`
# (DAYAQ_BIN names another binary). Loopback only; everything lives in a temporary directory.
set -euo pipefail
BIN=${DAYAQ_BIN:-target/debug/dayaq}
D=$(mktemp -d)
mkdir -p "$D"
export DAYAQ_DATA_DIR=$D
$BIN org add --slug bench --name "Bench org" --type NGO >/dev/null
$BIN user add --org bench --role caseworker --username bench-cw >/dev/null
TOKEN=$($BIN token create --username bench-cw | grep -o 'dq_[A-Za-z0-9_]*' | head -1)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$BIN serve --listen 127.0.0.1:$PORT --api-rate 1000 >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$D"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:$PORT/healthz && break; sleep 0.2; done
B=http://127.0.0.1:$PORT/api/v1
CASE=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"prs_FirstName":"Bench","prs_SecondName":"Case","prs_Birthdate":"1990-01-01","prs_Gender":"Feminine"}' $B/cases | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
python3 - "$D/f.pdf" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"%PDF-1.7\n")
    f.write(os.urandom(25*1024*1024 - 9))
PY
rss() { grep VmHWM /proc/$PID/status | awk '{print $2}'; }
echo "server peak RSS before upload: $(rss) kB"
T0=$(date +%s.%N)
OUT=$(curl -s -H "Authorization: Bearer $TOKEN" -F "file=@$D/f.pdf;filename=scan.pdf" "$B/cases/$CASE/attachments?section=health")
T1=$(date +%s.%N)
AID=$(echo "$OUT" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
echo "server peak RSS after upload: $(rss) kB"
T2=$(date +%s.%N)
curl -s -H "Authorization: Bearer $TOKEN" -o $D/back.pdf "$B/cases/$CASE/attachments/$AID"
T3=$(date +%s.%N)
echo "server peak RSS after download: $(rss) kB"
cmp $D/f.pdf $D/back.pdf && echo "download identical"
python3 -c "u=$T1-$T0; d=$T3-$T2; print(f'upload 25 MiB: {u:.2f} s = {25/u:.1f} MiB/s; download: {d:.2f} s = {25/d:.1f} MiB/s')"
