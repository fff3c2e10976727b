#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with Python 3.11 (run as root, or
# with the Debian packages already installed): installs the system packages the
# interop tests need (notary, notary-server, softhsm2, tmux, openssl), a virtualenv
# with trustkeep and its test dependencies, then runs ruff, mypy and pytest.
# Servers (notary-server) are started by the tests themselves on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in notary:notary notary-server:notary softhsm2-util:softhsm2 tmux:tmux openssl:openssl; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "tests/run.sh: missing Debian packages: ${need[*]} (run as root, or apt-get install them)" >&2
        exit 2
    fi
    echo "==> apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" </dev/null >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PY" -m venv .venv
fi
echo "==> pip install -e .[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 \
    | grep -v -e '^WARNING: Location' || true
.venv/bin/python -c 'import trustkeep, tuf, securesystemslib, keyrings.alt, pytest' \
    || { echo "tests/run.sh: installation failed" >&2; exit 1; }

echo "==> ruff"
.venv/bin/ruff check trustkeep tui tests benchmarks fixtures
.venv/bin/ruff format --check trustkeep tui tests benchmarks fixtures
echo "==> mypy (strict, trustkeep/)"
.venv/bin/mypy
echo "==> import-linter (layers, no cycles: pyproject.toml [tool.importlinter])"
.venv/bin/lint-imports --no-cache
echo "==> pytest"
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/python -m pytest -n 2 --dist loadgroup --cov=trustkeep --cov=trustkeep_tui \
    --cov-report=term:skip-covered "$@"
