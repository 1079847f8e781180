"""What a team's API tests look like: they talk to the base URL (recap) and know nothing of recap."""
import uuid


def test_create_organization(api):
    res = api.post("/api/v1/organizations", json={"name": f"org-{uuid.uuid4().hex[:8]}"})
    assert res.status_code == 201


def test_read_organization(api):
    org = api.post("/api/v1/organizations", json={"name": f"org-{uuid.uuid4().hex[:8]}"}).json()
    assert api.get(f"/api/v1/organizations/{org['id']}").json()["id"] == org["id"]


def test_pause_changes_nothing(api):
    """Broken on purpose: pausing an active campaign updates it, and the spec says it must not."""
    org = api.post("/api/v1/organizations", json={"name": f"org-{uuid.uuid4().hex[:8]}"}).json()
    camp = api.post(f"/api/v1/organizations/{org['id']}/campaigns", json={"name": "c"}).json()
    api.patch(f"/api/v1/campaigns/{camp['id']}", json={"status": "active"})
    assert api.post(f"/api/v1/organizations/{org['id']}/campaigns/pause").status_code == 200
