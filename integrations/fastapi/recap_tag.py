"""Tag mode for FastAPI + SQLAlchemy: every transaction an HTTP call commits names
that call, so recap attributes it exactly, under any concurrency.

recap forwards each call with an X-Request-Id header (the client's own, or one it
made). These lines keep that id for the duration of the request and, just before
a session commits, write it into the transaction as a transactional logical
message with the prefix "recap.request". PostgreSQL stores nothing in any table:
the message only travels in the WAL, inside the transaction, to recap's stream.

    from recap_tag import install
    install(app, SessionLocal)       # your FastAPI app and sessionmaker

Transactions that commit outside a request (background jobs, fixtures) carry no
tag and are attributed by their time window, or recorded as orphans.
"""
import contextvars

from sqlalchemy import event, text

_request_id = contextvars.ContextVar("recap_request_id", default=None)


def install(app, sessionmaker):
    @app.middleware("http")
    async def keep_request_id(request, call_next):
        token = _request_id.set(request.headers.get("x-request-id"))
        try:
            return await call_next(request)
        finally:
            _request_id.reset(token)

    @event.listens_for(sessionmaker, "before_commit")
    def tag_transaction(session):
        rid = _request_id.get()
        if rid:
            session.execute(text("SELECT pg_logical_emit_message(true, 'recap.request', :rid)"), {"rid": rid})
