"""bench/verify.py: recap verify's calls/s and peak memory on a large capture.

Builds a capture of CALLS calls (default 100,000) shaped like the example
API's traffic: JSON request and response bodies, headers, and one committed
transaction with row images per writing call; and SPECS specs (default 100),
each a different path template with status, header, body matchers
(types, a regex, references, $every over a list) and its rows: a row set to match, or
$every/$none/$count quantifiers (every other spec). Every call matches a
spec and passes, so all of its checks run. Runs `recap verify` three times
and reports the best calls/s and the peak RSS (GNU time).
Writes bench/results/verify-<date>.txt. Usage: bench/verify.py [CALLS] [SPECS]
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECAP = os.environ.get("RECAP_BIN", os.path.join(ROOT, "build", "recap"))


def rows(i):
    """Odd specs check their rows with quantifiers, even ones with a row list."""
    if i % 2:
        return """            inserted:
              $every: {id: "${response.body.id}", name: "${request.body.name}", price: {$min: 0}}
              $none: {name: ""}
              $count: 1
"""
    return """            inserted:
              - id: ${response.body.id}
                name: ${request.body.name}
                price: {$min: 0}
"""


def spec(i):
    return f"""  - name: resource {i}
    match:
      method: POST
      path: /api/v1/r{i}/{{org}}/items
    expect:
      status: 201
      headers:
        content-type: {{$regex: "^application/json"}}
      body:
        id: $int
        name: ${{request.body.name}}
        org: ${{path.org}}
        ref: $uuid
        created_at: $timestamp
        tags: {{$every: $string, $count: {{$min: 1}}}}
      db:
        tables:
          items_{i}:
""" + rows(i)


def call(seq, i, org):
    rid = str(uuid.UUID(int=seq))
    name = f"item-{seq}"
    new = {"id": seq, "name": name, "org_id": org, "price": "12.50", "created_at": "2026-11-24 12:00:00.123456+00",
           "meta": {"color": "red", "size": seq % 7}}
    return {"type": "call", "seq": seq, "id": rid, "test": f"tests/test_r{i}.py::test_create",
            "started_at": "2026-11-24T12:00:00.000000Z", "duration_us": 1200, "ttfb_us": 1100, "http": "1.1",
            "request": {"method": "POST", "path": f"/api/v1/r{i}/{org}/items", "query": "",
                        "headers": {"host": "api:8000", "content-type": "application/json",
                                    "user-agent": "python-httpx/0.23.3", "x-request-id": rid},
                        "body_size": 40, "truncated": False, "body": {"name": name, "tags": ["a", "b"]}},
            "response": {"status": 201, "headers": {"content-type": "application/json", "content-length": "120"},
                         "body_size": 120, "truncated": False,
                         "body": {"id": seq, "name": name, "org": org, "ref": rid,
                                  "created_at": "2026-11-24T12:00:00.123456+00:00", "tags": ["a", "b"]}},
            "aborted": False,
            "db": {"status": "complete", "attribution": "window", "window": ["0/1000", "0/2000"],
                   "transactions": [{"attribution": "window", "xid": seq, "commit_lsn": "0/1500",
                                     "end_lsn": "0/1530", "commit_time": "2026-11-24T12:00:00.123456Z", "tag": None,
                                     "tables": {f"public.items_{i}": {"insert": 1, "update": 0, "delete": 0,
                                                                      "truncate": 0}},
                                     "changes_total": 1, "images_truncated": False,
                                     "changes": [{"op": "insert", "schema": "public", "table": f"items_{i}",
                                                  "new": new}]}],
                   "resume_lsn": "0/1530"}}


def main():
    ncalls = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    nspecs = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    work = tempfile.mkdtemp(prefix="recap-bench-verify-")
    cap, specs = os.path.join(work, "capture.jsonl"), os.path.join(work, "specs")
    os.makedirs(specs)
    with open(os.path.join(specs, "bench.yaml"), "w") as f:
        f.write("specs:\n" + "".join(spec(i) for i in range(nspecs)))
    with open(cap, "w") as f:
        f.write(json.dumps({"type": "header", "recap": 1, "proxy_version": "bench", "upstream": "http://api:8000",
                            "database": None, "started_at": "2026-11-24T12:00:00Z"}) + "\n")
        for seq in range(1, ncalls + 1):
            f.write(json.dumps(call(seq, seq % nspecs, 1 + seq % 13), separators=(",", ":")) + "\n")
    size = os.path.getsize(cap)
    runs = []
    for _ in range(3):
        t0 = time.monotonic()
        out = subprocess.run(["/usr/bin/time", "-f", "%M", RECAP, "verify", cap, "--specs", specs,
                              "--require-spec", "--color", "never"], capture_output=True, text=True)
        took = time.monotonic() - t0
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        assert f"{ncalls} calls: {ncalls} passed" in out.stdout, out.stdout[-500:]
        runs.append((took, int(out.stderr.strip().splitlines()[-1])))
    best = min(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    lines = [f"bench/verify.py, {datetime.datetime.now():%Y-%m-%d %H:%M}: {ncalls} calls ({size / 1e6:.0f} MB capture, "
             f"one row change each) against {nspecs} specs, every call checked and passing",
             "  runs: " + ", ".join(f"{t:.2f}s" for t, _ in runs),
             f"  best: {ncalls / best:,.0f} calls/s ({size / 1e6 / best:.0f} MB/s), peak RSS {rss / 1024:.1f} MiB",
             f"  target >= 100,000 calls/s: {'met' if ncalls / best >= 100000 else 'NOT met'} on this 2-core box"]
    save_results("verify", lines)
    subprocess.run(["rm", "-rf", work])


def save_results(name, lines):
    """Prints the lines and keeps them in bench/results/NAME-<date>.txt."""
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    out = os.path.join(ROOT, "bench", "results", f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}.txt")
    with open(out, "w") as f:
        f.write(text + "\n")
    print(f"written to {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    main()
