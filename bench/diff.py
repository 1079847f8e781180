"""bench/diff.py: `recap diff` of two large runs: calls/s and peak memory.

Writes two captures of CALLS calls each (default 200,000, shaped like bench/verify.py's: JSON bodies,
headers, one row change per call; the second run with other ids and times, as a second run of the same
build has) and runs `recap diff` on them three times; reports the best time, calls/s and the peak RSS (GNU
time) against the captures' size. Writes bench/results/diff-<date>.txt. Usage: bench/diff.py [CALLS]
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify  # noqa: E402  (its call() shapes the traffic)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECAP = os.environ.get("RECAP_BIN", os.path.join(ROOT, "build", "recap"))


def write(path, ncalls, shift):
    with open(path, "w") as f:
        f.write(json.dumps({"type": "header", "recap": 1, "proxy_version": "bench", "upstream": "http://api:8000",
                            "database": None, "started_at": "2026-11-24T12:00:00Z"}) + "\n")
        for seq in range(1, ncalls + 1):
            call = verify.call(seq + shift, seq % 100, 1 + seq % 13)
            call["seq"] = seq
            f.write(json.dumps(call, separators=(",", ":")) + "\n")


def main():
    ncalls = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    work = tempfile.mkdtemp(prefix="recap-bench-diff-")
    a, b = os.path.join(work, "a.jsonl"), os.path.join(work, "b.jsonl")
    write(a, ncalls, 0)
    write(b, ncalls, 0)
    size = os.path.getsize(a) + os.path.getsize(b)
    runs = []
    for _ in range(3):
        t0 = time.monotonic()
        out = subprocess.run(["/usr/bin/time", "-f", "%M", RECAP, "diff", a, b], capture_output=True, text=True)
        took = time.monotonic() - t0
        assert out.returncode == 0, out.stdout[-1000:] + out.stderr[-1000:]
        runs.append((took, int(out.stderr.strip().splitlines()[-1])))
    best = min(r[0] for r in runs)
    rss = max(r[1] for r in runs) / 1024
    lines = [f"bench/diff.py, {datetime.datetime.now():%Y-%m-%d %H:%M}: recap diff of two runs of {ncalls} calls "
             f"({size / 1e6:.0f} MB of captures)",
             "  runs: " + ", ".join(f"{t:.2f}s" for t, _ in runs),
             f"  best: {2 * ncalls / best:,.0f} calls/s; peak RSS {rss:.0f} MiB "
             f"({rss * 1024 * 1024 / size:.2f} x the captures' size)"]
    verify.save_results("diff", lines)
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
