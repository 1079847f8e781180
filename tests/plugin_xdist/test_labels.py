"""Independent tests: each makes an organization of its own and reads it back."""
import uuid

import pytest


@pytest.mark.parametrize("n", range(16))
def test_an_organization_of_its_own(api, n):
    name = f"org-{n}-{uuid.uuid4().hex[:8]}"
    made = api.send("POST", "/api/v1/organizations", json={"name": name})
    assert made.status_code == 201
    got = api.send("GET", f"/api/v1/organizations/{made.json()['id']}")
    assert got.status_code == 200 and got.json()["name"] == name
