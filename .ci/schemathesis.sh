#!/usr/bin/env bash
# Schemathesis against the live OpenAPI document of the API, served from a fresh SQLite
# database with the demo world: no answer may be a server error, and every answer must
# match the document. Runs once with an officer's token (every scope) and once with a
# registrant's, each with a bounded number of examples per operation (about 1.5 minutes
# in all on CI's machine). One worker thread: CPython 3.11 before 3.11.8 can raise a
# spurious "AST constructor recursion depth mismatch" SystemError when two threads parse
# source at once (python/cpython#106905), which Hypothesis does to describe strategies.
# Exits non-zero on any failure; always stops the server.
#
#   .ci/schemathesis.sh                      # SCHEMATHESIS_MAX_EXAMPLES=25 by default
#   SCHEMATHESIS_MAX_EXAMPLES=100 .ci/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
SEED="${SCHEMATHESIS_SEED:-20231}"
WORK="$(mktemp -d)"
REPORTS="${SCHEMATHESIS_REPORTS:-$WORK/reports}"
SERVER_PID=""

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK/instance"
}
trap stop_server EXIT

# Its own instance folder and database, and no broker: a full rematch started through the
# API runs to the end within the request, and mail goes to the instance folder.
export GRANTMATCH_ENV=development
export GRANTMATCH_INSTANCE_PATH="$WORK/instance"
export GRANTMATCH_DATABASE_URL="sqlite:///$WORK/instance/schemathesis.db"
unset GRANTMATCH_BROKER_URL GRANTMATCH_SMTP_URL
PORT="$($BIN/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export GRANTMATCH_PORT="$PORT"
BASE="http://127.0.0.1:$PORT"

echo "== preparing a fresh database with the demo world"
$BIN/grantmatch migrate
$BIN/grantmatch seed-demo >/dev/null
# The demo has no grant call: add one, so that the call operations have something to show.
$BIN/python - <<'PY'
from datetime import date, timedelta

from core import db
from core.config import Settings
from core.services import calls, tokens

db.configure(Settings.from_env().database_url)
with db.session_scope() as session:
    officer = tokens.account_for(session, email="officer@demo.grantmatch.example")
    today = date.today()
    calls.create_call(
        session,
        officer=officer,
        details=calls.CallDetails(
            title="Quantum and semiconductors bridge",
            field_codes=["quantum", "semiconductors"],
            opens_on=today,
            closes_on=today + timedelta(days=60),
            max_proposals_per_profile=3,
        ),
    )
PY
OFFICER_TOKEN="$($BIN/grantmatch create-token --email officer@demo.grantmatch.example \
  --scopes read,write,officer --name schemathesis 2>/dev/null)"
REGISTRANT_TOKEN="$($BIN/grantmatch create-token --email researcher@demo.grantmatch.example \
  --scopes read,write --name schemathesis 2>/dev/null)"

echo "== serving the app on $BASE"
# `grantmatch serve`, with one difference: the per-token rate limit (120 a minute) is
# raised, since the fuzzer sends thousands of requests with one token on purpose; the
# limit itself is tested in tests/web/test_api_tokens.py.
$BIN/python - "$PORT" >"$WORK/server.log" 2>&1 <<'PY' &
import sys

from werkzeug.serving import run_simple

from core import db
from core.config import Settings
from web import create_app

settings = Settings.from_env()
db.configure(settings.database_url)
app = create_app(settings)
app.config["API_RATE_LIMIT"] = "1000000 per minute"
run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True, use_reloader=False)
PY
SERVER_PID=$!

for _ in $(seq 60); do
  curl -fsS -o /dev/null "$BASE/api/v1/openapi.json" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.5
done

status=0
run_schemathesis() {
  local who="$1" token="$2"
  echo "== schemathesis as the $who (max $MAX_EXAMPLES examples per operation, seed $SEED)"
  $BIN/schemathesis run "$BASE/api/v1/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --header "Authorization: Bearer $token" \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers 1 \
    --generation-database none \
    --request-timeout 60 \
    --wait-for-schema 30 \
    --report junit --report-dir "$REPORTS/$who" \
    --no-color \
    || status=1
}

started=$SECONDS
run_schemathesis officer "$OFFICER_TOKEN"
run_schemathesis registrant "$REGISTRANT_TOKEN"
echo "== schemathesis finished in $((SECONDS - started)) s; JUnit reports in $REPORTS"

if grep -q "Traceback" "$WORK/server.log"; then
  echo "== the server logged errors:"
  grep -B2 -A25 "Traceback" "$WORK/server.log" | head -200
  status=1
fi
exit "$status"
