#!/usr/bin/env bash
# Starts the shared Redis server session-redis's tests use, if it is not answering
# already, and waits until it answers PING. Installs Redis first on a machine without it
# (the cluster and outage tests also need redis-server and redis-cli on PATH).
#
#   bash session-redis/ci-services.sh            # wait up to 60 s
#   SERVICES_TIMEOUT=120 bash session-redis/ci-services.sh
#
# The tests default to redis://127.0.0.1:6379/ (SESSION_TEST_REDIS_URL overrides it).
# Exits non-zero if the server is not up in time.
set -euo pipefail

timeout="${SERVICES_TIMEOUT:-60}"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "ci-services: installing redis-server and redis-cli"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! redis_up; then
    echo "ci-services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

deadline=$((SECONDS + timeout))
until redis_up; do
    if ((SECONDS >= deadline)); then
        echo "ci-services: Redis is not answering PING on 127.0.0.1:6379 after ${timeout}s" >&2
        tail -n 20 /var/log/redis/ci.log >&2 || true
        exit 1
    fi
    sleep 0.2
done
echo "ci-services: Redis is up"
