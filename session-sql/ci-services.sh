#!/usr/bin/env bash
# Starts the PostgreSQL and MariaDB servers session-sql's tests use, if they are not
# answering already, and waits until both accept connections.
#
#   bash session-sql/ci-services.sh            # wait up to 60 s
#   SERVICES_TIMEOUT=120 bash session-sql/ci-services.sh
#
# The tests default to postgres://postgres@127.0.0.1:5432/test and
# mysql://root@127.0.0.1:3306/test (SESSION_TEST_POSTGRES_URL / SESSION_TEST_MYSQL_URL
# override them). Exits non-zero, saying which server, if one is not up in time.
set -euo pipefail

timeout="${SERVICES_TIMEOUT:-60}"

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q; }
maria_up() { mariadb-admin --user=root --host=127.0.0.1 --port=3306 --silent ping >/dev/null 2>&1; }

if ! pg_up; then
    echo "ci-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
fi
if ! maria_up; then
    echo "ci-services: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi

deadline=$((SECONDS + timeout))
until pg_up && maria_up; do
    if ((SECONDS >= deadline)); then
        pg_up || echo "ci-services: PostgreSQL is not accepting connections on 127.0.0.1:5432 after ${timeout}s" >&2
        maria_up || echo "ci-services: MariaDB is not accepting connections on 127.0.0.1:3306 after ${timeout}s" >&2
        exit 1
    fi
    sleep 0.5
done
echo "ci-services: PostgreSQL and MariaDB are up"
