#!/usr/bin/env bash
# session-bench with the client and the servers on separate CPUs, so that one run
# measures one placement (see src/pin.rs for why: unpinned, a one-task cell's latency
# jumped between two modes, 25 µs and 70 µs per memcached round trip, from cell to
# cell). The bench and tower-sessions' client run on CLIENT_CPUS (default 0); every
# server on SERVER_CPUS (default: all the others): the running PostgreSQL, MariaDB and
# Redis are re-pinned with `taskset -a -p` (needs the right to, e.g. root; their
# backends forked later inherit it), and the private memcached and the HTTP apps the
# bench starts get `--server-cpus`.
#
#   session-bench/pinned.sh all --json session-bench/results/all.json --markdown session-bench/results/all.md
#
# The servers stay pinned after the run; `taskset -a -p -c 0-$(($(nproc)-1)) <pid>`
# undoes it.
set -euo pipefail
cd "$(dirname "$0")/.."

cpus=$(nproc)
if [ "$cpus" -lt 2 ]; then
    echo "pinned.sh: one CPU only; running unpinned" >&2
    exec cargo run -q -p session-bench --release -- "$@"
fi
client="${CLIENT_CPUS:-0}"
if [ "$cpus" -eq 2 ]; then rest=1; else rest="1-$((cpus - 1))"; fi
server="${SERVER_CPUS:-$rest}"

for name in postgres mariadbd mysqld redis-server; do
    for pid in $(pgrep -x "$name" || true); do
        taskset -a -p -c "$server" "$pid" >/dev/null
    done
done

# Build unpinned (all CPUs), then run pinned.
cargo build -q -p session-bench --release
exec taskset -c "$client" cargo run -q -p session-bench --release -- "$@" --server-cpus "$server"
