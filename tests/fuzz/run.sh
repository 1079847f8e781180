#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), seeded from tests/data, FUZZ_JOBS
# targets at a time (default: one per core). Prints each target's executions; exits non-zero
# when any target crashed (its last lines are shown; the input that crashed it is kept in
# BUILD_DIR as <target>-crash-<hash>).
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$1
secs=${2:-600}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/recap-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# seeds: each real pgoutput frame as its own file
mkdir -p "$work/pgoutput"
/usr/bin/python3 - "$root/tests/data/pgoutput/frames.txt" "$work/pgoutput" <<'PY'
import sys
for n, line in enumerate(l for l in open(sys.argv[1]) if not l.startswith("#")):
    label, hexs = line.split()
    open(f"{sys.argv[2]}/{n:03d}", "wb").write(bytes.fromhex(hexs))
PY
# the same frames as one length-prefixed stream, for fuzz_cdc_stream
mkdir -p "$work/cdc_stream" "$work/capture_reader"
/usr/bin/python3 - "$root/tests/data/pgoutput/frames.txt" "$work/cdc_stream/all" <<'PY'
import sys
out = b""
for line in open(sys.argv[1]):
    if not line.startswith("#"):
        b = bytes.fromhex(line.split()[1])
        if len(b) < 65536:
            out += len(b).to_bytes(2, "big") + b
open(sys.argv[2], "wb").write(out)
PY
# a small valid capture, for fuzz_capture_reader
printf '%s\n' '{"type":"header","recap":1,"upstream":"http://x"}' \
  '{"type":"call","seq":1,"request":{"method":"GET","path":"/"},"response":{"status":200}}' \
  '{"type":"tx","xid":1,"changes":[]}' > "$work/capture_reader/valid"

# the demo's calls as two runs, and the blog's (slugs, tokens, cookies, tags by name), for fuzz_diff_specgen
mkdir -p "$work/diff_specgen"
grep '"type":"call"' "$root/tests/data/demo-capture.jsonl" > "$work/diff_specgen/a"
{ cat "$work/diff_specgen/a"; echo; cat "$work/diff_specgen/a"; } > "$work/diff_specgen/ab"
grep '"type":"call"' "$root/tests/data/blog-capture.jsonl" | head -40 > "$work/diff_specgen/blog"
{ cat "$work/diff_specgen/blog"; echo; cat "$work/diff_specgen/blog"; } > "$work/diff_specgen/blog2"

# calls with their transactions and orphan lines, for fuzz_rewind
mkdir -p "$work/rewind"
grep -E '"type":"(call|orphan)"' "$root/tests/data/demo-capture.jsonl" | head -60 > "$work/rewind/demo"
grep -E '"type":"(call|orphan)"' "$root/tests/data/blog-capture.jsonl" | head -60 > "$work/rewind/blog"

# the example API's specs and every construct of the language, for fuzz_spec
mkdir -p "$work/spec"
cp "$root"/specs/*.yaml "$root"/tests/data/specs/*.yaml "$work/spec/"

# response bodies in each coding, behind the byte that picks it, for fuzz_coding
mkdir -p "$work/coding"
/usr/bin/python3 - "$root/tests/data/demo-capture.jsonl" "$work/coding" <<'PY'
import gzip, sys, zlib
text = open(sys.argv[1], "rb").read()[:4000]
open(f"{sys.argv[2]}/gzip", "wb").write(b"\x00" + gzip.compress(text))
open(f"{sys.argv[2]}/deflate", "wb").write(b"\x01" + zlib.compress(text))
open(f"{sys.argv[2]}/raw", "wb").write(b"\x05" + zlib.compress(text)[2:-4])
PY

# a multipart form with a secret part and a file, for fuzz_multipart
mkdir -p "$work/multipart"
printf -- '--XyZ\r\nContent-Disposition: form-data; name="user"\r\n\r\nann\r\n--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\nhunter2\r\n--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.png"\r\n\r\nPNG\r\n--XyZ--\r\n' \
  > "$work/multipart/form"

# One target; its lines go to $work/<name>.out, shown in order once every target has run.
run_one() {
  local target=$1 name corpus execs
  name=$(basename "$target")
  corpus="$work/${name#fuzz_}"
  mkdir -p "$corpus"
  echo "fuzz: $name for ${secs}s"
  if ! LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp" \
    "$target" -max_total_time="$secs" -timeout=10 -print_final_stats=1 -artifact_prefix="$build/$name-" \
    "$corpus" > "$work/$name.log" 2>&1; then
    tail -40 "$work/$name.log"
    echo "fuzz: $name FAILED"
    return 1
  fi
  execs=$(grep -m1 'stat::number_of_executed_units' "$work/$name.log" | awk '{print $2}')
  echo "fuzz: $name ok: $execs executions in ${secs}s, 0 crashes"
}

# FUZZ_JOBS targets at once (default: one per core); each runs for the same time as it would alone.
jobs_max=${FUZZ_JOBS:-$(nproc)}
pids=() names=() failed=0
for target in "$build"/fuzz_*; do
  if [ "${#pids[@]}" -ge "$jobs_max" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
  name=$(basename "$target")
  names+=("$name")
  run_one "$target" > "$work/$name.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do
  wait "$p" || failed=1
done
for name in "${names[@]}"; do
  cat "$work/$name.out"
done
exit "$failed"
