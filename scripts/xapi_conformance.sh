#!/usr/bin/env bash
# Run ADL's LRS Conformance Test Suite (xAPI 1.0.3, or 2.0.0) against zoped's /xapi LRS.
#
#   scripts/xapi_conformance.sh                     # the whole 1.0.3 run
#   scripts/xapi_conformance.sh -g 'Communication 2\.8'   # one section (mocha -g REGEX)
#   XAPI_VERSION=2.0.0 scripts/xapi_conformance.sh  # the whole 2.0.0 run (the suite's test/v2_0)
#
# Copies the suite (SUITE, default ../shared/conformance/adl-lrs-conformance) to a temporary
# folder, installs it with npm, serves zoped on loopback with a fresh SQLite database and an
# LRS credential, runs the suite and prints its summary line. The server names the run's version
# in its answer to a request that names none (ZOPED_XAPI_UNVERSIONED), as the suite expects.
# Needs node 20 and npm (and the npm registry for the install, or NODE_MODULES naming an
# installed copy of the suite's node_modules).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SUITE="${SUITE:-$ROOT/../shared/conformance/adl-lrs-conformance}"
PORT="${PORT:-$((20000 + RANDOM % 20000))}"
ZOPED="${ZOPED:-$ROOT/.venv/bin/zoped}"  # the zoped command
XAPI_VERSION="${XAPI_VERSION:-1.0.3}"  # the suite's run: 1.0.3 or 2.0.0
case "$XAPI_VERSION" in
  1.0.3 | 2.0.0) ;;
  *) echo "XAPI_VERSION is 1.0.3 or 2.0.0, not $XAPI_VERSION" >&2; exit 2 ;;
esac
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cp -r "$SUITE" "$WORK/suite"
if [ -n "${NODE_MODULES:-}" ] && [ -d "$NODE_MODULES" ]; then
  cp -r "$NODE_MODULES" "$WORK/suite/node_modules"
else
  (cd "$WORK/suite" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

# LRS_DATABASE_URL: an empty database to run on instead (PostgreSQL, say).
export ZOPED_DATABASE_URL="${LRS_DATABASE_URL:-sqlite:///$WORK/lrs.db}"
export ZOPED_XAPI_UNVERSIONED="$XAPI_VERSION"
export ZOPED_SECRET_KEY="conformance-run-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
$ZOPED db upgrade >/dev/null
$ZOPED school create conformance --name "Conformance" >/dev/null
# The suite's option parser reads a password that starts with "-" as options: make another.
for _ in $(seq 1 20); do
  CREDS="$($ZOPED credentials create --role lrs --name "ADL suite" --days 1)"
  KEY="$(echo "$CREDS" | awk '/^key:/ {print $2}')"
  SECRET="$(echo "$CREDS" | awk '/^secret:/ {print $2}')"
  case "$SECRET" in -*) ;; *) break ;; esac
done
$ZOPED serve --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
up=""
for _ in $(seq 1 360); do
  if node -e "require('http').get('http://127.0.0.1:$PORT/xapi/about',
      (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))" \
      >/dev/null 2>&1; then up=1; break; fi
  sleep 0.5
done
if [ -z "$up" ]; then echo "zoped serve did not answer in 3 minutes:"; tail -20 "$WORK/server.log"; exit 1; fi

cd "$WORK/suite"
set +e
node bin/console_runner.js -e "http://127.0.0.1:$PORT/xapi" -a -u "$KEY" -p "$SECRET" \
  -x "$XAPI_VERSION" -z "$@" >"$WORK/run.log" 2>&1
set -e
# KEEP_LOG: where to keep the run's output (and, beside it as KEEP_LOG.json, the suite's report
# of the failing tests).
if [ -n "${KEEP_LOG:-}" ]; then
  cp "$WORK/run.log" "$KEEP_LOG"
  report="$(ls -t "$WORK"/suite/logs/*.log 2>/dev/null | head -1)"
  if [ -n "$report" ]; then cp "$report" "$KEEP_LOG.json"; fi
fi
grep -E '^\{"total"' "$WORK/run.log" | tail -1 || { tail -40 "$WORK/run.log"; exit 1; }
