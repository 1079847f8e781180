"""The recording proxy: every call through recap lands once in the capture
file, exactly as the client and the API saw it."""
import base64
import hashlib
import json
import os
import stat
import subprocess
import time

import httpx


def by_id(records):
    return {r["id"]: r for r in records}


def test_scenario_every_call_recorded_once(recap):
    c = httpx.Client(base_url=recap.url, timeout=10)
    seen = []  # (method, path, query, status, response json or None, request id)

    def call(method, path, **kw):
        r = c.request(method, path, **kw)
        try:
            body = r.json()
        except ValueError:
            body = None
        seen.append((method, path.split("?")[0], path.partition("?")[2], r.status_code, body,
                     r.request.headers.get("x-request-id"), kw.get("json")))
        return r

    org = call("POST", "/api/v1/organizations", json={"name": "acme"}).json()
    call("GET", f"/api/v1/organizations/{org['id']}")
    camp = call("POST", f"/api/v1/organizations/{org['id']}/campaigns",
                json={"name": "spring", "budget": "1234.50", "settings": {"channel": "email", "n": [1, 2]},
                      "brief": "b" * 5000}).json()
    call("PATCH", f"/api/v1/campaigns/{camp['id']}", json={"status": "active"})
    call("POST", f"/api/v1/campaigns/{camp['id']}/jobs", json={"kind": "send", "count": 3})
    call("POST", f"/api/v1/organizations/{org['id']}/campaigns/pause")
    call("GET", "/api/v1/organizations/999999")
    call("POST", "/api/v1/organizations", json={"name": "acme"})  # 409 after a rolled-back insert
    call("POST", f"/api/v1/campaigns/{camp['id']}/jobs", json={"kind": "send", "count": 101})  # 422
    call("GET", "/api/v1/boom")
    call("GET", "/api/v1/echo?a=1&b=two%20words")
    call("DELETE", f"/api/v1/organizations/{org['id']}")
    call("GET", "/api/v1/health")
    assert [s[3] for s in seen] == [201, 200, 201, 200, 201, 200, 404, 409, 422, 500, 200, 204, 200]

    recap.barrier()
    records = recap.records()
    assert len(records) == len(seen)
    assert [r["seq"] for r in records] == list(range(1, len(seen) + 1))
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    for (method, path, query, status, body, _, sent), rec in zip(seen, records):
        assert rec["request"]["method"] == method
        assert rec["request"]["path"] == path
        assert rec["request"]["query"] == query
        assert rec["response"]["status"] == status
        assert rec["http"] == "1.1"
        if body is not None:
            assert rec["response"]["body"] == body
        if sent is not None:
            assert rec["request"]["body"] == sent
        assert rec["request"]["headers"]["x-request-id"] == rec["id"]
        assert rec["request"]["headers"]["host"] == recap.url.split("//")[1]
        assert rec["aborted"] is False
        assert rec["duration_us"] > 0
    # a 204 has no body; the 500's JSON detail is kept
    assert records[11]["response"]["body_size"] == 0 and "body" not in records[11]["response"]
    assert records[9]["response"]["body"] == {"detail": "deliberate failure for tests"}


def test_demo_scenario_is_recorded_with_its_labels(recap):
    import scenario

    def label(name):
        recap.control_request("PUT", "/test", (name or "").encode())

    seen = scenario.run(recap.url, label)
    recap.barrier()
    records = recap.records()
    assert [(r["request"]["method"], r["request"]["path"], r["response"]["status"]) for r in records] == seen
    assert records[0]["test"] == "scenario::create_org"
    assert records[-1]["test"] == "scenario::cleanup"
    assert len({r["test"] for r in records}) == 4


def test_request_id_injected_or_kept(recap):
    with httpx.Client(base_url=recap.url) as c:
        injected = c.get("/api/v1/echo").json()["headers"]["x-request-id"]
        kept = c.get("/api/v1/echo", headers={"X-Request-Id": "client-id-42"}).json()["headers"]["x-request-id"]
    assert kept == "client-id-42"
    recap.barrier()
    recs = recap.records()
    assert [r["id"] for r in recs] == [injected, "client-id-42"]
    assert len(injected) == 36 and injected[14] == "4"


def curl(*args):
    out = subprocess.run(["curl", "-sS", *args], capture_output=True, check=True)
    return out.stdout


def test_http2_prior_knowledge_recorded_the_same(recap):
    body = curl("--http2-prior-knowledge", f"{recap.url}/api/v1/echo?x=1")
    assert json.loads(body)["query"] == "x=1"
    payload = json.dumps({"k": "v" * 20000}).encode()
    out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-H", "content-type: application/json",
                          "--data-binary", "@-", "-w", "\n%{http_version}", f"{recap.url}/api/v1/echo"],
                         input=payload, capture_output=True, check=True).stdout
    resp, version = out.rsplit(b"\n", 1)
    assert version == b"2"
    assert json.loads(resp)["sha256"] == hashlib.sha256(payload).hexdigest()
    recap.barrier()
    get, post = recap.records()
    assert get["http"] == "2" and post["http"] == "2"
    assert get["request"]["method"] == "GET" and get["request"]["query"] == "x=1"
    assert get["request"]["headers"]["host"] == recap.url.split("//")[1]  # from :authority
    assert get["response"]["status"] == 200
    assert post["request"]["body"] == json.loads(payload)
    assert post["response"]["body"] == json.loads(resp)


def test_h2_over_tls(app, recap_factory, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    r = recap_factory(app.url, args=["--tls-cert", str(cert), "--tls-key", str(key)])
    out = curl("-k", "--http2", "-w", "\n%{http_version}", f"https://127.0.0.1:{r.port}/api/v1/health")
    body, version = out.rsplit(b"\n", 1)
    assert version == b"2" and json.loads(body) == {"status": "ok"}
    out = curl("-k", "--http1.1", "-w", "\n%{http_version}", f"https://127.0.0.1:{r.port}/api/v1/health")
    assert out.rsplit(b"\n", 1)[1] == b"1.1"
    r.barrier()
    assert [x["http"] for x in r.records()] == ["2", "1.1"]


def test_large_body_forwarded_intact_and_recorded_truncated(recap):
    data = os.urandom(3 * 1024 * 1024)
    r = httpx.post(f"{recap.url}/api/v1/echo", content=data,
                   headers={"content-type": "application/octet-stream"}, timeout=30)
    assert r.status_code == 200
    assert r.json()["size"] == len(data)
    assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()
    recap.barrier()
    (rec,) = recap.records()
    req = rec["request"]
    assert req["body_size"] == len(data)
    assert req["truncated"] is True
    kept = base64.b64decode(req["body_b64"])
    assert len(kept) == 1024 * 1024
    assert kept == data[:1024 * 1024]


def test_binary_and_text_bodies(recap):
    httpx.get(f"{recap.url}/api/v1/binary")
    httpx.get(f"{recap.url}/api/v1/text")
    recap.barrier()
    b, t = recap.records()
    assert base64.b64decode(b["response"]["body_b64"]) == bytes(range(256))
    assert t["response"]["body_text"] == "héllo, wörld\n"


def test_secrets_redacted_in_file_but_reach_upstream(app, recap_factory):
    r = recap_factory(app.url, args=["--redact-field", "password", "--redact-field", "token"])
    secret = "s3cr3t-value-xyz"
    resp = httpx.post(f"{r.url}/api/v1/echo?token={secret}&keep=1",
                      json={"user": "ann", "password": secret, "nested": [{"token": secret}]},
                      headers={"Authorization": f"Bearer {secret}", "Cookie": f"sid={secret}",
                               "Proxy-Authorization": secret})
    seen = resp.json()["headers"]
    assert seen["authorization"] == f"Bearer {secret}"
    assert seen["cookie"] == f"sid={secret}"
    r.barrier()
    (rec,) = r.records()
    # the echo endpoint reflects the request into its response; the request itself holds no secret
    assert secret not in json.dumps(rec["request"])
    h = rec["request"]["headers"]
    assert h["authorization"] == h["cookie"] == h["proxy-authorization"] == "[REDACTED]"
    assert rec["request"]["body"] == {"user": "ann", "password": "[REDACTED]", "nested": [{"token": "[REDACTED]"}]}
    assert rec["request"]["query"] == "token=[REDACTED]&keep=1"


def test_capture_file_mode_0600(recap):
    httpx.get(f"{recap.url}/api/v1/health")
    recap.barrier()
    assert stat.S_IMODE(os.stat(recap.capture).st_mode) == 0o600


def test_upstream_down_is_502_recorded(recap_factory):
    from harness import free_port
    r = recap_factory(f"http://127.0.0.1:{free_port()}")
    resp = httpx.get(f"{r.url}/api/v1/health")
    assert resp.status_code == 502
    r.barrier()
    (rec,) = r.records()
    assert rec["response"]["status"] == 502
    assert rec["error"] == "connection failed"
    assert "not reachable" in r.stderr()  # said at start-up, and it kept serving


def test_upstream_timeout_is_504_recorded(app, recap_factory):
    r = recap_factory(app.url, args=["--upstream-timeout", "300ms"])
    t0 = time.monotonic()
    resp = httpx.get(f"{r.url}/api/v1/slow?ms=3000", timeout=10)
    assert resp.status_code == 504
    assert time.monotonic() - t0 < 2.5
    r.barrier()
    (rec,) = r.records()
    assert rec["response"]["status"] == 504
    assert rec["error"] == "I/O timeout"
    status, body, _ = r.control_request("GET", "/metrics")
    assert b"recap_upstream_timeouts_total 1" in body


def test_client_gone_mid_response_recorded_as_aborted(recap):
    with httpx.Client() as c:
        with c.stream("GET", f"{recap.url}/api/v1/stream?chunks=200&delay_ms=20") as resp:
            for _ in resp.iter_bytes():
                break
    # the proxy notices on its next write; wait for the record
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        recap.barrier()
        recs = recap.records()
        if recs:
            break
        time.sleep(0.1)
    (rec,) = recs
    assert rec["aborted"] is True
    assert rec["response"]["status"] == 200
    assert 0 < rec["response"]["body_size"] < 200 * 1010
