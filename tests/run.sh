#!/usr/bin/env bash
# The whole test suite, with its set-up: Python test requirements, Debian's Chromium and
# playwright-core for the sidebar panel's browser tests, then pytest. Safe to run again:
# each step is skipped when what it installs is already there. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: Chromium is missing; browser tests need it (sudo apt-get install -y chromium)" >&2
    fi
fi

if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm install --silent --no-audit --no-fund)
fi

exec python3 -m pytest "$@"
