#!/usr/bin/env bash
# bench/pytest.sh: a 200-test suite straight against the API vs through recap with the pytest plugin
# verifying every test. Usage: bench/pytest.sh [ROUNDS, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/pytest.py "$@"
