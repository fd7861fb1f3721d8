#!/usr/bin/env bash
# Makes sure the memcached binary is there for session-memcache's tests, installing it
# from Debian's packages when it is missing. Starts nothing: the tests spawn their own
# private servers on free loopback ports and stop them afterwards.
set -euo pipefail

need_major=1
need_minor=6 # the meta protocol the store speaks

check_version() {
    local version
    version="$(memcached -V | awk '{print $2}')"
    local major="${version%%.*}" rest="${version#*.}"
    local minor="${rest%%.*}"
    if [ "$major" -lt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -lt "$need_minor" ]; }; then
        echo "memcached $version is too old: session-memcache needs $need_major.$need_minor or later" >&2
        exit 1
    fi
    echo "memcached $version at $(command -v memcached)"
}

if command -v memcached >/dev/null 2>&1; then
    check_version
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "memcached is missing and this is not a Debian-like system: install memcached >= 1.6" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends memcached
check_version
