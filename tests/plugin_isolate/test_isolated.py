"""Pairs: the first test of each changes what the second one reads."""
from conftest import sql


def test_creates_an_organization(api, seeded):
    assert api.post("/api/v1/organizations", json={"name": "acme"}).status_code == 201


def test_no_acme_yet(seeded):
    assert sql("SELECT count(*) FROM organizations WHERE name = 'acme'") == [(0,)]


def test_pauses_the_campaign(api, seeded):
    r = api.patch(f"/api/v1/campaigns/{seeded['seeded']['campaign']}", json={"status": "paused"})
    assert r.status_code == 200 and r.json()["status"] == "paused"


def test_the_campaign_is_active_and_never_audited(seeded):
    assert sql("SELECT status FROM campaigns WHERE id = %s", (seeded["seeded"]["campaign"],)) == [("active",)]
    assert sql("SELECT count(*) FROM campaign_audit") == [(0,)]


def test_deletes_an_organization(api, seeded):
    assert api.delete(f"/api/v1/organizations/{seeded['doomed']['org']}").status_code == 204


def test_the_organization_is_whole(seeded):
    assert sql("SELECT o.name, c.name, c.budget::text, c.settings->'tags', length(c.brief) FROM organizations o "
               "JOIN campaigns c ON c.org_id = o.id WHERE o.id = %s", (seeded["doomed"]["org"],)) == [
        ("doomed", "launch", "12.50", ["a", "b"], 12000)]


def test_a_fixture_writes_a_row(scratch):
    assert sql("SELECT count(*) FROM event_log") == [(1,)]


def test_the_event_log_is_empty():
    assert sql("SELECT count(*) FROM event_log") == [(0,)]
