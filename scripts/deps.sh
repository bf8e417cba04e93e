#!/bin/sh
# Installs the Debian packages flowc needs to build and test, if any are missing.
# Runs apt-get as root, through sudo otherwise; prints what to install when neither works.
# Usage: scripts/deps.sh build|test|fuzz|bench
set -e
want="make gcc flex bison sqlite3 tcc libcjson-dev libsqlite3-dev libcurl4-openssl-dev libtcc-dev libpq-dev libmicrohttpd-dev libutf8proc-dev"
case "${1:-build}" in
  test) want="$want clang libclang-rt-14-dev sqlite3 valgrind jq curl postgresql" ;;
  fuzz) want="$want clang libclang-rt-14-dev" ;;
  bench) want="$want jq time sqlite3 curl postgresql" ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "deps: missing packages:$missing" >&2
  echo "deps: run as root: apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null
