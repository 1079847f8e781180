#!/usr/bin/env bash
# bench/attribution.sh: what attribution costs, at a steady ~1,000 calls/s.
# Usage: bench/attribution.sh [SECONDS per run, default 15]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/attribution.py "$@"
