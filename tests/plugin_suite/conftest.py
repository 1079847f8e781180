import os

import httpx
import pytest


@pytest.fixture
def api():
    with httpx.Client(base_url=os.environ["API_BASE_URL"], timeout=30) as c:
        yield c
