#!/usr/bin/env bash
# bench/replay.sh: recap replay's and recap diff's calls/s on a 10,000-call capture.
# Usage: bench/replay.sh [CALLS, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/replay.py "$@"
