"""A suite for the pytest plugin under pytest-xdist: independent tests against the example API, half with
httpx and half with requests, each call also made from a fixture's setup and teardown. Every request
carries an X-Request-Id of its own, and the suite writes down which test and phase sent it (LABEL_LOG),
so recap's labels can be checked against what the suite itself knows."""
import json
import os
import uuid

import httpx
import pytest
import requests

BASE = os.environ["API_BASE_URL"]


def _log(request_id, nodeid, phase):
    with open(os.environ["LABEL_LOG"], "a") as f:
        f.write(json.dumps({"id": request_id, "test": nodeid, "phase": phase}) + "\n")


class Client:
    """Sends with httpx or requests; logs each request's id with the test and phase sending it."""

    def __init__(self, kind, nodeid):
        self.kind, self.nodeid, self.phase = kind, nodeid, "setup"
        self.httpx = httpx.Client(base_url=BASE, timeout=30)
        self.requests = requests.Session()

    def send(self, method, path, **kw):
        rid = str(uuid.uuid4())
        _log(rid, self.nodeid, self.phase)
        headers = {"X-Request-Id": rid}
        if self.kind == "httpx":
            return self.httpx.request(method, path, headers=headers, **kw)
        return self.requests.request(method, BASE + path, headers=headers, timeout=30, **kw)


@pytest.fixture(params=["httpx", "requests"])
def api(request):
    c = Client(request.param, request.node.nodeid)
    c.send("GET", "/api/v1/health")  # a call in setup
    c.phase = "call"
    yield c
    c.phase = "teardown"
    c.send("GET", "/api/v1/health")  # and one in teardown
    c.httpx.close()
    c.requests.close()
