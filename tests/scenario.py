"""The demo scenario: a short, realistic session against the example API.

Shared by `make demo` and the end-to-end tests, so what the demo shows is
what the tests check. Each step is labelled with a test name through recap's
control API (PUT /test), the way the pytest plugin labels a real suite.
"""
import httpx


def run(base_url, label=None):
    """Drives the scenario; returns [(method, path, status)] as the client saw it."""
    seen = []
    # a bearer token, as real suites send: recap forwards it and records "[REDACTED]"
    c = httpx.Client(base_url=base_url, timeout=10, headers={"Authorization": "Bearer demo-token"})

    def call(method, path, **kw):
        r = c.request(method, path, **kw)
        seen.append((method, path, r.status_code))
        return r

    def test(name):
        if label:
            label(name)

    test("scenario::create_org")
    org = call("POST", "/api/v1/organizations", json={"name": "acme"}).json()
    call("GET", f"/api/v1/organizations/{org['id']}")
    test("scenario::campaign_lifecycle")
    camp = call("POST", f"/api/v1/organizations/{org['id']}/campaigns",
                json={"name": "spring", "budget": "1234.50", "settings": {"channel": "email"},
                      "brief": "Spring launch. " * 400}).json()
    call("PATCH", f"/api/v1/campaigns/{camp['id']}", json={"status": "active"})
    call("POST", f"/api/v1/campaigns/{camp['id']}/jobs", json={"kind": "send", "count": 3})
    call("POST", f"/api/v1/organizations/{org['id']}/campaigns/pause")
    test("scenario::errors")
    call("GET", "/api/v1/organizations/999999")
    call("POST", "/api/v1/organizations", json={"name": "acme"})
    call("POST", f"/api/v1/campaigns/{camp['id']}/jobs", json={"kind": "send", "count": 101})
    call("GET", "/api/v1/boom")
    test("scenario::cleanup")
    call("DELETE", f"/api/v1/organizations/{org['id']}")
    call("GET", "/api/v1/health")
    c.close()
    if label:
        label(None)
    return seen


if __name__ == "__main__":
    # the test runner of docker/compose.yml: the scenario against API_BASE_URL (recap), each step
    # labelled through recap's control API at RECAP_CONTROL_URL, then a barrier: once this exits, every
    # call is in the capture with its rows
    import json
    import os
    import sys
    import urllib.request

    control = os.environ.get("RECAP_CONTROL_URL", "").rstrip("/")

    def label(name):
        if control:
            urllib.request.urlopen(urllib.request.Request(f"{control}/test", data=(name or "").encode(),
                                                          method="PUT"), timeout=10).read()

    seen = run(os.environ["API_BASE_URL"], label)
    if control:
        urllib.request.urlopen(urllib.request.Request(f"{control}/barrier", data=b"", method="POST"),
                               timeout=60).read()
    print(json.dumps({"calls": len(seen)}))
    sys.exit(0 if len(seen) == 12 else 1)
