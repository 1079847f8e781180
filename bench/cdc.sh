#!/usr/bin/env bash
# bench/cdc.sh: the decoder's changes/s on one core over real PostgreSQL 15 frames, and the
# end-to-end lag from commit to record under pgbench load, beside pg_recvlogical (test_decoding).
# Usage: bench/cdc.sh [SECONDS of load, default 20] [TPS, default 500]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/cdc.py "$@"
