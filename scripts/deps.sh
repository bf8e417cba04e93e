#!/bin/sh
# Installs the Debian packages flowc needs to build and test, if any are missing.
# Runs apt-get as root, through sudo otherwise; prints what to install when neither works.
# `test` also installs the tests' oracles with npm, each pinned by its lock file: cron-parser
# (tests/cron/package.json) into build/npm, @octokit/webhooks-methods (tests/webhook/package.json)
# into build/npm/webhook, vscode-textmate, vscode-oniguruma and @vscode/vsce (tests/vscode) into
# build/npm/vscode, and the VS Code extension's own dependency vscode-languageclient
# (editors/vscode/package.json, packed into its .vsix) into build/npm/vscode-ext; when npm cannot
# reach its registry it says so and the tests that need them SKIP.
# Nothing is downloaded at build time.
# Usage: scripts/deps.sh build|test|fuzz|bench
set -e
cd "$(dirname "$0")/.."
# tzdata: the IANA zones schedules run in (runtime/tz.c reads /usr/share/zoneinfo); libssl-dev: libcrypto
# for webhook signatures (HMAC, constant-time comparison: runtime/webhook.c) and package checksums;
# libarchive-dev: flowc package/install (tar archives); libsodium-dev: flowc server's secrets at rest (secretbox)
want="make gcc flex bison sqlite3 tcc tzdata libcjson-dev libsqlite3-dev libcurl4-openssl-dev libtcc-dev libpq-dev libmicrohttpd-dev libutf8proc-dev libssl-dev libarchive-dev libsodium-dev"
case "${1:-build}" in
  # python3-prometheus-client: the serve suite parses /metrics with it; bsdutils: script(1), a pty; procps: pgrep;
  # git: the diff suite drives real git; graphviz: `flowc graph --format svg` runs its dot, and the graph suite
  # checks every DOT golden with it; chromium: the graph suite renders each SVG to a PNG, headless
  test) want="$want clang libclang-rt-14-dev sqlite3 valgrind strace jq curl postgresql python3-prometheus-client bsdutils procps git graphviz chromium"
        # node and npm run the cron oracle; a node from elsewhere (nodesource) counts
        command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || want="$want nodejs npm" ;;
  fuzz) want="$want clang libclang-rt-14-dev" ;;
  bench) want="$want jq time sqlite3 curl postgresql git wrk openssl" ;;
esac
# the npm packages of the tests, each pinned by its lock file: `npm ci` into its own directory when it
# is not there at the pinned version. oracle SRC DEST PACKAGE: SRC's package.json and lock (SRC a
# directory of the repository) into DEST, where PACKAGE must then be.
oracle() {
  src=$1 dest=$2 pkg=$3
  if [ -f "$dest/package-lock.json" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json" &&
     [ -f "$dest/node_modules/$pkg/package.json" ]; then return 0; fi
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  if ! (cd "$dest" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
    echo "deps: npm could not install $pkg (see $dest/npm.log): the tests that need it will SKIP" >&2
    rm -rf "$dest/node_modules"
  fi
}
npm_oracle() {
  [ "${1:-build}" = test ] || return 0
  command -v npm >/dev/null 2>&1 || { echo "deps: no npm: the cron, webhook and vscode oracle tests will SKIP" >&2; return 0; }
  # the four at once (each in its own directory; npm's cache takes concurrent use): they mostly wait
  # on the network
  oracle tests/cron build/npm cron-parser &
  oracle tests/webhook build/npm/webhook @octokit/webhooks-methods &
  oracle tests/vscode build/npm/vscode vscode-textmate &
  oracle editors/vscode build/npm/vscode-ext vscode-languageclient &
  wait
  return 0
}
trap 'npm_oracle "$1"' EXIT
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
