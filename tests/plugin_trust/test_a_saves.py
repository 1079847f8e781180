def test_creates_the_shared_organization(api, marker):
    assert api.post("/api/v1/organizations", json={"name": "shared"}).status_code == 201
