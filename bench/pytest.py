"""bench/pytest.py: what the pytest plugin costs a suite.

A 200-test suite (each test creates an organization in the example API and reads it back: 2 calls) runs
three times on 127.0.0.1 (2 cores shared by everything): straight against the API; through recap with the
plugin verifying every test's calls against specs/ (one `recap verify --serve` per process, a barrier after
each test, row changes from a throwaway PostgreSQL 15); the same with each test's rows rewound after it
(--recap-isolate: POST /rewind, one transaction per test); and the first two with 2 pytest-xdist workers.
Each is run ROUNDS times, interleaved; the best wall time of each and the ratios are printed and written to
bench/results/pytest-<date>.txt.
Usage: /usr/bin/python3 bench/pytest.py [ROUNDS, default 3]
"""
import datetime
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness  # noqa: E402

SUITE = '''
import os
import httpx
import pytest

@pytest.fixture(scope="module")
def api():
    with httpx.Client(base_url=os.environ["API_BASE_URL"], timeout=30) as c:
        yield c

@pytest.mark.parametrize("n", range(200))
def test_organization(api, n):
    made = api.post("/api/v1/organizations", json={"name": f"bench-{n}-{os.getpid()}"})
    assert made.status_code == 201
    assert api.get(f"/api/v1/organizations/{made.json()['id']}").status_code == 200
'''


def run(suite, base, *args):
    env = dict(os.environ, API_BASE_URL=base, PYTHONPATH=os.path.join(ROOT, "integrations", "pytest"))
    t0 = time.monotonic()
    out = subprocess.run([harness.PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "recap_pytest",
                          suite, *args], capture_output=True, text=True, env=env, cwd=os.path.dirname(suite))
    took = time.monotonic() - t0
    assert out.returncode == 0 and "200 passed" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
    return took


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    pg = harness.Postgres()
    app = r = None
    work = tempfile.mkdtemp(prefix="recap-bench-pytest-")
    try:
        pg.start()
        pg.psql("app", "CREATE PUBLICATION recap FOR ALL TABLES")
        app = harness.App(pg.url).start()
        r = harness.Recap(app.url, args=["--database-url", pg.url, "--log-level", "warn"]).start()
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        suite = os.path.join(work, "test_bench.py")
        with open(suite, "w") as f:
            f.write(SUITE)
        plugin = ["--recap-control", r.control, "--recap-url", r.url, "--recap-specs",
                  os.path.join(ROOT, "specs"), "--recap-bin", harness.RECAP, "--recap-require-spec"]
        times = {"direct": [], "recap": [], "recap isolate": [], "recap -n 2": [], "direct -n 2": []}
        for _ in range(rounds):
            times["direct"].append(run(suite, app.url))
            times["recap"].append(run(suite, r.url, *plugin))
            before = pg.psql("app", "SELECT count(*) FROM organizations")
            times["recap isolate"].append(run(suite, r.url, *plugin, "--recap-isolate"))
            assert pg.psql("app", "SELECT count(*) FROM organizations") == before  # every test's row rewound
            times["direct -n 2"].append(run(suite, app.url, "-n", "2"))
            times["recap -n 2"].append(run(suite, r.url, *plugin, "-n", "2"))
        best = {k: min(v) for k, v in times.items()}
        lines = [f"bench/pytest.py, {datetime.datetime.now():%Y-%m-%d %H:%M}: a 200-test suite (400 calls) against "
                 "the example API, all on 127.0.0.1 (2 cores); best of "
                 f"{rounds} interleaved rounds"]
        for k, v in times.items():
            lines.append(f"  {k:13} best {best[k]:.2f} s   (all: {', '.join(f'{x:.2f}' for x in v)})")
        lines.append(f"  through recap, every test verified / direct:            {best['recap'] / best['direct']:.2f}x")
        lines.append(f"  the same, every test's rows rewound after it / direct:  "
                     f"{best['recap isolate'] / best['direct']:.2f}x")
        lines.append(f"  the same with 2 xdist workers:                          "
                     f"{best['recap -n 2'] / best['direct -n 2']:.2f}x")
        text = "\n".join(lines)
        print(text)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", f"pytest-{datetime.datetime.now():%Y%m%d-%H%M%S}.txt"),
                  "w") as f:
            f.write(text + "\n")
    finally:
        if r is not None:
            r.cleanup()
        if app is not None:
            app.stop()
        pg.stop()


if __name__ == "__main__":
    main()
