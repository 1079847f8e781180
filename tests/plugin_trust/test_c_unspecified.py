def test_calls_a_route_no_spec_describes(api):
    assert api.get("/api/v1/health").status_code == 200
