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


@pytest.mark.parametrize("n", range(4))
def test_a_campaign_goes_live(api, n):
    org = api.send("POST", "/api/v1/organizations", json={"name": f"camp-{n}-{uuid.uuid4().hex[:8]}"}).json()
    camp = api.send("POST", f"/api/v1/organizations/{org['id']}/campaigns",
                    json={"name": "spring", "budget": "10.00", "settings": {"channel": "email"}}).json()
    live = api.send("PATCH", f"/api/v1/campaigns/{camp['id']}", json={"status": "active"})
    assert live.status_code == 200 and live.json()["status"] == "active"
