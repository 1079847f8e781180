"""Expectations beside the test, with no database session: the `recap` fixture gives the test's calls with
their row changes, and recap.expect checks them in the spec language."""
import os
import uuid

import httpx


def test_creating_an_organization_writes_one_row(recap):
    name = f"inline-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=os.environ["API_BASE_URL"], timeout=30) as api:
        made = api.post("/api/v1/organizations", json={"name": name})
    assert made.status_code == 201
    recap.expect(method="POST", path="/api/v1/organizations", status=201,
                 body={"id": "$int", "name": "${request.body.name}"},
                 db={"tables": {"organizations": {"inserted": [{"id": "${response.body.id}", "name": name}]}}})
    (call,) = recap.calls()
    assert call.status == 201 and call.table("organizations")["inserted"][0]["name"] == name
