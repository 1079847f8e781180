"""The blog's own suite, as its team would write it: httpx against BLOG_URL, names and e-mails made up per
run so that runs never collide, tests that build on each other in file order. recap's tests run it through
recap twice and compare the runs; nothing here knows about recap."""
import os
import uuid

import httpx
import pytest

BASE = os.environ.get("BLOG_URL", "http://127.0.0.1:8000")
RUN = uuid.uuid4().hex[:8]  # what makes this run's names unique
state = {}


@pytest.fixture(scope="module")
def http():
    with httpx.Client(base_url=BASE, timeout=10) as c:
        yield c


def token(who):
    return {"Authorization": f"Token {state[who]['token']}"}


def test_sign_up_two_users(http):
    for who in ("alice", "bob"):
        r = http.post("/api/users", json={"user": {"username": f"{who}-{RUN}", "email": f"{who}.{RUN}@example.com",
                                                   "password": f"pw-{who}-{RUN}"}})
        assert r.status_code == 201, r.text
        assert r.json()["user"]["email"] == f"{who}.{RUN}@example.com"


def test_a_taken_name_is_refused(http):
    r = http.post("/api/users", json={"user": {"username": f"alice-{RUN}", "email": f"other.{RUN}@example.com",
                                               "password": "x"}})
    assert r.status_code == 409
    assert f"alice-{RUN}" in r.json()["errors"]["body"][0]


def test_log_in(http):
    for who in ("alice", "bob"):
        r = http.post("/api/users/login", json={"user": {"email": f"{who}.{RUN}@example.com",
                                                         "password": f"pw-{who}-{RUN}"}})
        assert r.status_code == 200, r.text
        state[who] = {"token": r.json()["user"]["token"], "sid": r.cookies["sid"]}
    if os.environ.get("BLOG_SECRETS_OUT"):  # for recap's tests: what must never be written anywhere
        with open(os.environ["BLOG_SECRETS_OUT"], "a") as f:
            for who in ("alice", "bob"):
                f.write(f"{state[who]['token']}\n{state[who]['sid']}\npw-{who}-{RUN}\n")
    bad = http.post("/api/users/login", json={"user": {"email": f"alice.{RUN}@example.com", "password": "nope"}})
    assert bad.status_code == 401


def test_the_session_cookie(http):
    # the shared client keeps the last login's cookie (bob's), as a browser would
    assert http.get("/api/session").json()["session"]["username"] == f"bob-{RUN}"
    with httpx.Client(base_url=BASE, cookies={"sid": state["alice"]["sid"]}) as alice:
        r = alice.get("/api/session")
        assert r.status_code == 200 and r.json()["session"]["username"] == f"alice-{RUN}"
    with httpx.Client(base_url=BASE) as anonymous:
        assert anonymous.get("/api/session").status_code == 401


def test_update_the_profile(http):
    r = http.put("/api/user", json={"user": {"bio": "writes about dragons"}}, headers=token("alice"))
    assert r.status_code == 200 and r.json()["user"]["bio"] == "writes about dragons"
    r = http.get(f"/api/profiles/alice-{RUN}")
    assert r.json()["profile"]["bio"] == "writes about dragons"
    assert http.get(f"/api/profiles/nobody-{RUN}").status_code == 404


def test_write_articles_with_tags(http):
    tag = f"dragons-{RUN}"
    state["tag"] = tag
    for n, title in enumerate(["How to train your dragon", "Dragons and their keepers"]):
        r = http.post("/api/articles", headers=token("alice"), json={"article": {
            "title": f"{title} {RUN}", "body": "Long text.", "tagList": [tag, f"part{n}-{RUN}"]}})
        assert r.status_code == 201, r.text
        a = r.json()["article"]
        assert a["title"] == f"{title} {RUN}" and tag in a["tagList"]
        state.setdefault("slugs", []).append(a["slug"])
    assert http.post("/api/articles", json={"article": {"title": "x", "body": "y"}}).status_code == 401


def test_read_an_article_by_slug(http):
    slug = state["slugs"][0]
    r = http.get(f"/api/articles/{slug}")
    assert r.status_code == 200 and r.json()["article"]["slug"] == slug
    missing = http.get(f"/api/articles/{slug}-gone")
    assert missing.status_code == 404 and slug in missing.json()["errors"]["body"][0]


def test_edit_an_article(http):
    slug = state["slugs"][0]
    r = http.put(f"/api/articles/{slug}", headers=token("alice"), json={"article": {"body": "Longer text."}})
    assert r.status_code == 200 and r.json()["article"]["body"] == "Longer text."
    other = http.put(f"/api/articles/{slug}", headers=token("bob"), json={"article": {"body": "mine now"}})
    assert other.status_code == 403


def test_tags_by_name(http):
    r = http.get("/api/tags")
    assert state["tag"] in r.json()["tags"]
    r = http.get(f"/api/tags/{state['tag']}")
    assert r.status_code == 200 and sorted(r.json()["tag"]["articles"]) == sorted(state["slugs"])
    r = http.get("/api/articles", params={"tag": state["tag"]})
    assert r.json()["articlesCount"] == 2


def test_comments(http):
    slug = state["slugs"][0]
    ids = []
    for who, text in (("bob", "Great read"), ("alice", "Thanks!"), ("bob", "More please")):
        r = http.post(f"/api/articles/{slug}/comments", headers=token(who), json={"comment": {"body": text}})
        assert r.status_code == 201, r.text
        ids.append(r.json()["comment"]["id"])
    state["comments"] = ids
    r = http.get(f"/api/articles/{slug}/comments")
    assert [c["id"] for c in r.json()["comments"]] == ids


def test_delete_a_comment(http):
    slug, ids = state["slugs"][0], state["comments"]
    assert http.delete(f"/api/articles/{slug}/comments/{ids[0]}", headers=token("bob")).status_code == 204
    again = http.delete(f"/api/articles/{slug}/comments/{ids[0]}", headers=token("bob"))
    assert again.status_code == 404 and str(ids[0]) in again.json()["errors"]["body"][0]
    r = http.get(f"/api/articles/{slug}/comments")
    assert [c["id"] for c in r.json()["comments"]] == ids[1:]


def test_favorites(http):
    slug = state["slugs"][1]
    r = http.post(f"/api/articles/{slug}/favorite", headers=token("bob"))
    assert r.status_code == 200 and r.json()["article"]["favoritesCount"] == 1
    r = http.get(f"/api/articles/{slug}", headers=token("bob"))
    assert r.json()["article"]["favorited"] is True


def test_articles_by_author(http):
    r = http.get("/api/articles", params={"author": f"alice-{RUN}"}, headers=token("bob"))
    assert [a["slug"] for a in r.json()["articles"]] == list(reversed(state["slugs"]))


def test_activity(http):
    r = http.get("/api/activity", headers=token("alice"))
    kinds = {(a["action"], a["entityType"]) for a in r.json()["activity"]}
    assert {("signup", "user"), ("create", "article"), ("create", "tag"), ("create", "comment")} <= kinds


def test_delete_an_article(http):
    slug = state["slugs"][1]
    assert http.delete(f"/api/articles/{slug}", headers=token("alice")).status_code == 204
    gone = http.get(f"/api/articles/{slug}")
    assert gone.status_code == 404 and slug in gone.json()["errors"]["body"][0]
    assert http.get("/api/articles", params={"tag": state["tag"]}).json()["articlesCount"] == 1
