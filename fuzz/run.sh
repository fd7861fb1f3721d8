#!/usr/bin/env bash
# Runs the fuzz targets, two at a time, one libFuzzer process each, from the seed
# corpus. Not in CI (too long); see README.md.
#
#   fuzz/run.sh            # every target for 600 s (the issue-9 runs)
#   fuzz/run.sh 30         # a short smoke run of every target
#   fuzz/run.sh 600 cookie_open signed_id
#
# New corpus entries go to a scratch directory ($FUZZ_WORK, default a temp dir), so
# fuzz/corpus keeps only the committed `seed-*` files. Logs: $FUZZ_WORK/<target>.log;
# crashes: fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(cookie_open signed_id envelope_decode session_id_parse)
fi
work="${FUZZ_WORK:-$(mktemp -d -t session-fuzz.XXXXXX)}"
mkdir -p "$work"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); RUSTC_BOOTSTRAP lets the
# stable toolchain accept them.
export RUSTC_BOOTSTRAP=1
cargo fuzz build

run() {
    local t="$1"
    mkdir -p "$work/$t"
    cargo fuzz run "$t" "$work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$work/$t.log" 2>&1
}

status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    pids=()
    for t in "${targets[@]:i:2}"; do
        run "$t" & pids+=("$!:$t")
    done
    for p in "${pids[@]}"; do
        if wait "${p%%:*}"; then
            echo "fuzz: ${p#*:}: ok"
        else
            echo "fuzz: ${p#*:}: FAILED, see $work/${p#*:}.log and fuzz/artifacts/${p#*:}/" >&2
            status=1
        fi
        grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs|stat::)' "$work/${p#*:}.log" || true
    done
done
exit "$status"
