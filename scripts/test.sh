#!/usr/bin/env bash
# Install the test dependencies and run every check: lint, layer contracts, types, tests
# (on SQLite, and on PostgreSQL when one answers on 127.0.0.1:5432), and benchmark smoke runs.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e '.[test]'

PG_DEFAULT="postgresql+psycopg://postgres@127.0.0.1:5432/test"
pg_answers() {
  python - "$1" <<'PY'
import sys
import psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}
if [ -z "${LABELVAULT_TEST_POSTGRES_URL:-}" ]; then
  if ! pg_answers "$PG_DEFAULT" && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start \
      >/dev/null 2>&1 || true
    sleep 2
  fi
  if pg_answers "$PG_DEFAULT"; then
    export LABELVAULT_TEST_POSTGRES_URL="$PG_DEFAULT"
  fi
fi
if [ -n "${LABELVAULT_TEST_POSTGRES_URL:-}" ]; then
  echo "storage tests run on SQLite and PostgreSQL ($LABELVAULT_TEST_POSTGRES_URL)"
else
  echo "no PostgreSQL answered: storage tests run on SQLite only"
fi

echo "== ruff"
ruff check src tests bench
echo "== import-linter"
lint-imports
echo "== mypy (strict on domain, quality, crypto, sdk)"
mypy --strict src/labelvault/domain src/labelvault/quality src/labelvault/crypto src/labelvault/sdk

echo "== pytest"
set +e
python -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

echo "== benchmark smoke runs (not timed)"
python bench/quality.py --quick >/dev/null
python bench/core.py --quick >/dev/null
echo "all checks passed"
