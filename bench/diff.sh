#!/usr/bin/env bash
# bench/diff.sh: recap diff's calls/s and peak memory on two large runs.
# Usage: bench/diff.sh [CALLS per run, default 200000]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/diff.py "$@"
