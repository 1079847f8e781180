"""Three tests as real suites have them: one leaves a row behind, the next deletes that row (it passes only
after the first: order dependence), the last cleans up after itself."""
import os
import uuid

import httpx
import pytest

made = {}


@pytest.fixture
def api():
    with httpx.Client(base_url=os.environ["API_BASE_URL"], timeout=30) as c:
        yield c


def test_a_leaves_an_organization(api):
    made["org"] = api.post("/api/v1/organizations", json={"name": f"leak-{uuid.uuid4().hex[:8]}"}).json()["id"]


def test_b_deletes_it(api):
    assert api.delete(f"/api/v1/organizations/{made['org']}").status_code == 204


def test_c_cleans_up(api):
    org = api.post("/api/v1/organizations", json={"name": f"clean-{uuid.uuid4().hex[:8]}"}).json()["id"]
    assert api.delete(f"/api/v1/organizations/{org}").status_code == 204
