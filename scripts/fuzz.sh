#!/usr/bin/env bash
# Fuzzing (issue 8): runs every cargo-fuzz target in fuzz/ for a bounded time, one after the
# other, and fails on the first crash (libFuzzer keeps the crashing input under
# fuzz/artifacts/<target>/). Installs cargo-fuzz when missing.
#
#   scripts/fuzz.sh [--seconds 600] [--jobs 1] [TARGET ...]     (default: every target)
#
# The toolchain here is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its flags, and
# `--sanitizer none` builds without AddressSanitizer (safe Rust; the targets look for panics,
# unbounded allocation and time-outs, not memory errors). The corpus grows in
# fuzz/corpus/<target>/ (not committed); the seeds in fuzz/seeds/<target>/ are read too.
set -euo pipefail

SECONDS_PER_TARGET=600
JOBS=1
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT/fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz ..." >&2
  cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
[ "${#TARGETS[@]}" -gt 0 ] || mapfile -t TARGETS < <(cargo fuzz list)

summary=()
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  seeds=()
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  echo "== fuzzing $t for ${SECONDS_PER_TARGET}s" >&2
  start=$(date +%s)
  log="$(mktemp -t "fuzz-$t.XXXXXX")"
  # With -jobs libFuzzer writes each worker's output to fuzz-N.log in the working directory
  # (ignored by git); with one job everything goes to $log.
  parallel=()
  [ "$JOBS" -gt 1 ] && parallel=(-jobs="$JOBS" -workers="$JOBS")
  if ! cargo fuzz run "$t" --sanitizer none --release "corpus/$t" "${seeds[@]}" -- \
      -max_total_time="$SECONDS_PER_TARGET" "${parallel[@]}" \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "FUZZ TARGET $t FAILED (input under fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1 || true)"
  cov="$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 || true)"
  secs=$(( $(date +%s) - start ))
  summary+=("$t: ${secs}s (incl. build), ${runs:-?} executions, ${cov:-cov ?}, no crash")
  rm -f "$log"
done
printf '%s\n' "${summary[@]}"
