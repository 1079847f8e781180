import os

from conftest import sql, wait_for


def test_adds_a_campaign_to_the_saved_organization(api):
    wait_for(os.path.join(os.environ["MARKER_DIR"], "saved"))
    (org,), = sql("SELECT id FROM organizations WHERE name = 'shared'")
    assert api.post(f"/api/v1/organizations/{org}/campaigns", json={"name": "c"}).status_code == 201


def test_a_fixture_writes_behind_the_apis_back(scratch):
    pass
