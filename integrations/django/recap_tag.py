"""Tag mode for Django: every transaction an HTTP call commits names that call, so recap attributes it
exactly, under any concurrency (docs/attribution.md, "Tag mode").

recap forwards each call with an X-Request-Id header (the client's own, or one it made). The middleware keeps
it for the request and installs a query wrapper on the request's database connections: every INSERT, UPDATE,
DELETE (and MERGE) goes out as one query string that first writes the id into the transaction as a
transactional logical message with the prefix "recap.request":

    SELECT pg_logical_emit_message(true, 'recap.request', %s); INSERT INTO ...

PostgreSQL runs a query string of several statements as one transaction when no transaction is open (Django's
autocommit), and inside the open one in an atomic() block: either way the message lands in the transaction
that commits the write. It is stored in no table; it only travels in the WAL to recap's stream. A write
that runs outside a request (a management command, a Celery task) carries no tag and is attributed by its
time window, or recorded as an orphan.

    MIDDLEWARE = ["recap_tag.RecapTagMiddleware", ...]     # first: every view below it is covered

Needs the PostgreSQL backend (psycopg2, which interpolates parameters on the client, so several statements
go in one string). Cost: the message adds a few bytes to each write's query, no round trip.
"""
import contextlib
import contextvars

from django.db import connections

_request_id = contextvars.ContextVar("recap_request_id", default=None)
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE")
_TAG = "SELECT pg_logical_emit_message(true, 'recap.request', %s); "
_NAMED_TAG = "SELECT pg_logical_emit_message(true, 'recap.request', %(recap_request_id)s); "


def _tag(execute, sql, params, many, context):
    rid = _request_id.get()
    if not rid or context["connection"].vendor != "postgresql" or sql.lstrip()[:6].upper() not in _WRITES:
        return execute(sql, params, many, context)
    if many:
        rows = [_with_id(p, rid) for p in params]
        return execute(_head(params[0] if rows else None) + sql, rows, many, context)
    return execute(_head(params) + sql, _with_id(params, rid), many, context)


def _head(params):
    return _NAMED_TAG if isinstance(params, dict) else _TAG


def _with_id(params, rid):
    if isinstance(params, dict):
        return {**params, "recap_request_id": rid}
    return [rid, *(params or ())]


class RecapTagMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_id.set(request.headers.get("X-Request-Id"))
        try:
            with contextlib.ExitStack() as stack:
                for conn in connections.all():
                    stack.enter_context(conn.execute_wrapper(_tag))
                return self.get_response(request)
        finally:
            _request_id.reset(token)
