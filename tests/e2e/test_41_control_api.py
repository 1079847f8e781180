"""The control API: every route, the token, barriers and test labels."""
import json
import subprocess
import threading
import time

import httpx


def test_routes_answer(recap):
    httpx.get(f"{recap.url}/api/v1/health")
    assert recap.control_request("GET", "/healthz")[:2] == (200, b"ok\n")
    assert recap.control_request("GET", "/readyz")[:2] == (200, b"ready\n")
    assert recap.barrier()["written"] == 1
    status, body, headers = recap.control_request("GET", "/calls?after=0")
    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    (line,) = body.decode().splitlines()
    assert json.loads(line)["request"]["path"] == "/api/v1/health"
    assert recap.control_request("GET", "/calls?after=1")[1] == b""
    status, body, _ = recap.control_request("GET", "/metrics")
    text = body.decode()
    assert status == 200
    assert 'recap_calls_total{code="2xx"} 1' in text
    assert "recap_records_written_total 1" in text
    assert 'recap_records_dropped_total{reason="queue_full"} 0' in text
    assert recap.control_request("GET", "/nope")[0] == 404
    assert recap.control_request("DELETE", "/barrier")[0] == 405
    assert recap.control_request("GET", "/calls?after=abc")[0] == 400


def test_token_required_when_set(app, recap_factory):
    r = recap_factory(app.url, token="tok-123")
    for path, method in [("/healthz", "GET"), ("/readyz", "GET"), ("/calls", "GET"), ("/metrics", "GET"),
                         ("/barrier", "POST"), ("/test", "PUT")]:
        assert r.control_request(method, path, token="")[0] == 401, path
        assert r.control_request(method, path, token="wrong")[0] == 401, path
        assert r.control_request(method, path)[0] == 200, path
    status, body, _ = r.control_request("GET", "/metrics")
    assert b"recap_control_unauthorized_total 12" in body


def test_barrier_waits_for_calls_in_flight(recap):
    done = {}

    def slow():
        done["status"] = httpx.get(f"{recap.url}/api/v1/slow?ms=800", timeout=10).status_code
        done["at"] = time.monotonic()

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)  # the slow call is in flight now
    recap.barrier()
    barrier_at = time.monotonic()
    recs = recap.records()  # read the file right after the barrier
    t.join()
    assert done["status"] == 200
    assert done["at"] <= barrier_at + 0.05
    assert [r["request"]["path"] for r in recs] == ["/api/v1/slow"]


def test_barrier_with_nothing_in_flight_returns_at_once(recap):
    t0 = time.monotonic()
    assert recap.barrier() == {"written": 0, "last_seq": 0}
    assert time.monotonic() - t0 < 1


def test_barrier_times_out_with_504(recap):
    t = threading.Thread(target=lambda: httpx.get(f"{recap.url}/api/v1/slow?ms=1500", timeout=10))
    t.start()
    time.sleep(0.2)
    status, _, _ = recap.control_request("POST", "/barrier?timeout_ms=200")
    t.join()
    assert status == 504


def test_put_test_labels_calls(recap):
    c = httpx.Client(base_url=recap.url)
    assert recap.control_request("PUT", "/test", b"tests/test_x.py::test_a")[0] == 200
    c.get("/api/v1/health")
    seen = c.get("/api/v1/echo", headers={"X-Recap-Test": "tests/test_x.py::explicit"}).json()["headers"]
    assert "x-recap-test" not in seen  # taken off before forwarding
    assert recap.control_request("PUT", "/test", json.dumps({"test": "tests/test_x.py::test_b"}).encode())[0] == 200
    assert json.loads(recap.control_request("GET", "/test")[1]) == {"test": "tests/test_x.py::test_b"}
    c.get("/api/v1/health")
    assert recap.control_request("DELETE", "/test")[0] == 200
    c.get("/api/v1/health")
    recap.barrier()
    assert [r["test"] for r in recap.records()] == [
        "tests/test_x.py::test_a", "tests/test_x.py::explicit", "tests/test_x.py::test_b", None]
    status, body, _ = recap.control_request("GET", "/calls?test=tests%2Ftest_x.py%3A%3Atest_b")
    (line,) = body.decode().splitlines()
    assert json.loads(line)["seq"] == 3
    assert recap.control_request("PUT", "/test", b"{not json")[0] == 400


def test_serialize_lets_one_call_through_at_a_time(app, recap_factory):
    import concurrent.futures

    def burst(r):
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: httpx.get(f"{r.url}/api/v1/slow?ms=200", timeout=30).status_code,
                                  range(8)))
        return time.monotonic() - t0, codes

    free, codes = burst(recap_factory(app.url))
    assert codes == [200] * 8
    r = recap_factory(app.url, args=["--serialize"])
    serial, codes = burst(r)
    assert codes == [200] * 8
    assert free < 1.0  # the upstream serves them together...
    assert serial >= 8 * 0.2  # ...but through --serialize they go one after another
    r.barrier()
    assert len(r.records()) == 8
    # an HTTP/2 client that gives up while waiting for its turn is recorded as aborted (never forwarded),
    # and the queue moves on. (h2o 2.2.5 does not read an HTTP/1 connection while a request is pending,
    # so an HTTP/1 client that leaves is only noticed when its response is written.)
    t = threading.Thread(target=lambda: httpx.get(f"{r.url}/api/v1/slow?ms=600", timeout=10))
    t.start()
    time.sleep(0.1)
    gone = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "--max-time", "0.2",
                           f"{r.url}/api/v1/slow?ms=10"], capture_output=True)
    assert gone.returncode == 28  # curl's timeout
    t.join()
    assert httpx.get(f"{r.url}/api/v1/health", timeout=5).status_code == 200
    r.barrier()
    recs = r.records()
    gave_up = [x for x in recs if x["request"]["query"] == "ms=10"]
    assert len(gave_up) == 1 and gave_up[0]["aborted"] is True
    assert gave_up[0]["response"]["status"] == 0  # it never reached the upstream
