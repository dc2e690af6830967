#!/usr/bin/env bash
# Coverage-guided fuzzing of the pure core (src/core, phone/) with cargo-fuzz (libFuzzer), bounded.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#       SECONDS_PER_TARGET  default 60; TARGETs default to all: phone lead response bulk_map
#
# Environment (all optional):
#   FUZZ_RUNS=N            also stop a target after N executions (whichever comes first);
#                          e.g. FUZZ_RUNS=10000000 scripts/fuzz.sh 1800 for the 10M-run goal
#   FUZZ_SANITIZER=none    (default) or address. The crate has no `unsafe`, so ASan adds
#                          little but costs 2-3x speed; `address` needs -Zsanitizer, which the
#                          stable toolchain only accepts with RUSTC_BOOTSTRAP=1 (set here then).
#   FUZZ_ARGS="..."        extra libFuzzer flags, e.g. "-max_len=8192"
#
# Builds with debug assertions (so integer overflow panics, as in tests), runs one target at
# a time (the machine has 2 cores), and prints per target the executions run, exec/s and the
# crashes found (libFuzzer's final stats). Corpora grow in fuzz/corpus/<target>/ (seeded from
# fuzz/seeds/<target>.txt, one input per line; dictionaries in fuzz/dict/), crashes land in
# fuzz/artifacts/<target>/, logs in fuzz/target/fuzz-logs/.
#
# Exit status: 0 when every target ran and none crashed; 1 when a target crashed (the
# reproducer and the command to replay it are printed); 2 when the fuzzer could not be
# installed, built or run: a failure is never reported as a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(phone lead response bulk_map)

say() { printf '== fuzz: %s\n' "$*"; }
die() { printf 'fuzz failed: %s\n' "$*" >&2; exit 2; }

secs=${1:-60}
if [ "$#" -gt 0 ]; then shift; fi
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || die "SECONDS_PER_TARGET must be a positive integer (got '$secs')"
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${ALL_TARGETS[@]}"); fi
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || die "no fuzz target '$t' (have: ${ALL_TARGETS[*]})"
done
runs=${FUZZ_RUNS:-}
[ -z "$runs" ] || [[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "FUZZ_RUNS must be a positive integer"
sanitizer=${FUZZ_SANITIZER:-none}
case "$sanitizer" in
  none) ;;
  address | leak | memory | thread) export RUSTC_BOOTSTRAP=1 ;;
  *) die "FUZZ_SANITIZER must be none, address, leak, memory or thread" ;;
esac
read -r -a extra <<<"${FUZZ_ARGS:-}"

command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup"
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about a minute, once)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force \
    || cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --force \
    || die "could not install cargo-fuzz $CARGO_FUZZ_VERSION"
fi

build_flags=(--sanitizer "$sanitizer" --debug-assertions)
say "building ${targets[*]} (sanitizer: $sanitizer, debug assertions on)"
for t in "${targets[@]}"; do
  cargo fuzz build "${build_flags[@]}" "$t" || die "cargo fuzz build $t failed"
done

logs=fuzz/target/fuzz-logs
mkdir -p "$logs"
crashed=()
broken=()
rows=()
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  if [ -f "fuzz/seeds/$t.txt" ]; then
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
      n=$((n + 1))
      printf '%s' "$line" >"$corpus/seed-$(printf %03d "$n")"
    done <"fuzz/seeds/$t.txt"
  fi
  before=$(mktemp)
  ls -1 "$artifacts" | sort >"$before"
  log=$logs/$t.log
  case "$t" in
    phone) dict=fuzz/dict/phone.dict ;;
    lead | response) dict=fuzz/dict/json.dict ;;
    *) dict= ;;
  esac
  limits=(-max_total_time="$secs")
  [ -z "$dict" ] || limits+=(-dict="$dict")
  [ -z "$runs" ] || limits+=(-runs="$runs")
  say "running $t for at most ${secs}s${runs:+ or $runs executions} (log: $log)"
  set +e
  cargo fuzz run "${build_flags[@]}" "$t" "$corpus" -- \
    "${limits[@]}" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 "${extra[@]}" \
    >"$log" 2>&1
  rc=$?
  set -e
  new=$(ls -1 "$artifacts" | sort | comm -13 "$before" - | grep -E '^(crash|timeout|oom|leak)-' || true)
  rm -f "$before"
  execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -n 1)
  speed=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log" | tail -n 1)
  units=$(awk '/^stat::new_units_added:/ {print $2}' "$log" | tail -n 1)
  ncrash=$(printf '%s' "$new" | grep -c . || true)
  if [ -z "$execs" ] || [ "$execs" -eq 0 ]; then
    printf '%s: no executions recorded (exit %s); last lines of %s:\n' "$t" "$rc" "$log" >&2
    tail -n 25 "$log" >&2
    broken+=("$t")
    rows+=("$(printf '%-10s %14s %10s %10s %8s' "$t" "-" "-" "-" "ERROR")")
    continue
  fi
  if [ "$rc" -ne 0 ] && [ "$ncrash" -eq 0 ]; then
    # libFuzzer stopped with an error but wrote no reproducer: count it as a crash anyway.
    printf '%s: the fuzzer exited %s without a reproducer; see %s\n' "$t" "$rc" "$log" >&2
    grep -m 5 -E 'panicked|ERROR|SUMMARY' "$log" >&2 || tail -n 25 "$log" >&2
    ncrash=1
  fi
  if [ "$ncrash" -gt 0 ]; then
    crashed+=("$t")
    grep -m 1 -A 4 -E 'panicked at' "$log" >&2 || grep -m 3 -E 'ERROR|SUMMARY' "$log" >&2 || true
    for f in $new; do
      printf '%s: reproducer %s/%s; replay: cargo fuzz run %s %s %s/%s\n' \
        "$t" "$artifacts" "$f" "${build_flags[*]}" "$t" "$artifacts" "$f" >&2
    done
  fi
  rows+=("$(printf '%-10s %14s %10s %10s %8s' "$t" "$execs" "$speed" "${units:-?}" "$ncrash")")
done

printf '\n%-10s %14s %10s %10s %8s\n' target executions exec/s new_units crashes
printf '%s\n' "${rows[@]}"
if [ "${#broken[@]}" -gt 0 ]; then
  die "the fuzzer did not run for: ${broken[*]}"
fi
if [ "${#crashed[@]}" -gt 0 ]; then
  printf '\nfuzz: CRASHES in: %s (reproducers in fuzz/artifacts/)\n' "${crashed[*]}" >&2
  exit 1
fi
say "no crashes in ${targets[*]}"
