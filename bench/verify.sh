#!/usr/bin/env bash
# bench/verify.sh: recap verify's throughput on a large capture.
# Usage: bench/verify.sh [CALLS, default 100000] [SPECS, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/verify.py "$@"
