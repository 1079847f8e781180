"""The example API recap is tested against: organizations -> campaigns -> jobs.

A plain FastAPI + SQLAlchemy app, written the way teams write them (a get_db
dependency, ORM models, one transaction per request). recap sees it only from
the outside. Run: DATABASE_URL=postgresql://... uvicorn main:app
"""
import asyncio
import hashlib
import os
import time
import uuid
from decimal import Decimal
from typing import Any, Dict, Optional

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import (JSON, BigInteger, Column, DateTime, ForeignKey, Integer,
                        Numeric, Text, create_engine, func, select, update)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/app")
engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=20, future=True)
SessionLocal = sessionmaker(bind=engine, future=True, expire_on_commit=False)
Base = declarative_base()


class Organization(Base):
    __tablename__ = "organizations"
    id = Column(Integer, primary_key=True)
    name = Column(Text, nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), server_default=func.now())


class Campaign(Base):
    __tablename__ = "campaigns"
    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    org_id = Column(Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    name = Column(Text, nullable=False)
    status = Column(Text, nullable=False, default="draft")
    budget = Column(Numeric(14, 2), nullable=False, default=0)
    settings = Column(JSONB().with_variant(JSON(), "sqlite"), nullable=False, default=dict)
    brief = Column(Text)
    created_at = Column(DateTime(timezone=True), server_default=func.now())
    updated_at = Column(DateTime(timezone=True), server_default=func.now())


class Job(Base):
    __tablename__ = "jobs"
    id = Column(BigInteger, primary_key=True)
    campaign_id = Column(UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    kind = Column(Text, nullable=False)
    state = Column(Text, nullable=False, default="queued")
    attempts = Column(Integer, nullable=False, default=0)
    scheduled_at = Column(DateTime(timezone=True))


app = FastAPI(title="recap example API")

if os.environ.get("RECAP_APP_TAG") == "1":
    # tag mode (integrations/fastapi/recap_tag.py): each transaction names its call
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integrations",
                                    "fastapi"))
    from recap_tag import install
    install(app, SessionLocal)


if os.environ.get("RECAP_APP_GZIP") == "1":
    # every response compressed when the client asks (as Starlette's, Express's and Django's middleware do for
    # larger ones): recap records them decoded (proxy/coding.h)
    from starlette.middleware.gzip import GZipMiddleware
    app.add_middleware(GZipMiddleware, minimum_size=1)  # 0 would give a 204 a gzip body: a broken response


# Deliberate bugs for the verifier's and replay's end-to-end tests, switched on with
# RECAP_APP_BUG=name[,name...]; off, the app behaves as documented.
BUGS = set(filter(None, os.environ.get("RECAP_APP_BUG", "").split(",")))


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class CampaignIn(BaseModel):
    name: str = Field(min_length=1)
    budget: Decimal = Decimal("0")
    settings: Dict[str, Any] = {}
    brief: Optional[str] = None


class CampaignPatch(BaseModel):
    name: Optional[str] = None
    status: Optional[str] = None
    budget: Optional[Decimal] = None
    settings: Optional[Dict[str, Any]] = None
    brief: Optional[str] = None


class JobsIn(BaseModel):
    kind: str
    count: int = Field(default=1, ge=1)


def org_out(o: Organization) -> dict:
    name = o.name.upper() if "changed_field" in BUGS else o.name  # a response field changed
    return {"id": o.id, "name": name, "created_at": o.created_at.isoformat() if o.created_at else None}


def campaign_out(c: Campaign) -> dict:
    return {"id": str(c.id), "org_id": c.org_id, "name": c.name, "status": c.status,
            "budget": str(c.budget), "settings": c.settings,
            "brief_length": len(c.brief) if c.brief else 0}


def job_out(j: Job) -> dict:
    return {"id": j.id, "campaign_id": str(j.campaign_id), "kind": j.kind, "state": j.state}


@app.get("/api/v1/health")
def health(db: Session = Depends(get_db)):
    """Reads the database, writes nothing."""
    db.execute(select(1))
    return {"status": "ok"}


@app.post("/api/v1/organizations", status_code=201)
def create_org(body: OrgIn, db: Session = Depends(get_db)):
    org = Organization(name=body.name)
    db.add(org)
    if "unexpected_table" in BUGS:  # a row written to a table the spec does not name
        db.execute(sql("INSERT INTO event_log (message) VALUES ('org created')"))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()  # the insert was attempted and rolled back
        if "conflict_writes" in BUGS:  # the refusal itself writes a row
            db.execute(sql("INSERT INTO event_log (message) VALUES ('duplicate refused')"))
            db.commit()
        raise HTTPException(409, f"organization {body.name!r} exists")
    db.refresh(org)
    if "wrong_status" in BUGS:
        return JSONResponse(org_out(org), status_code=200)
    return org_out(org)


@app.get("/api/v1/organizations/{org_id}")
def get_org(org_id: int, db: Session = Depends(get_db)):
    org = db.get(Organization, org_id)
    if org is None:
        raise HTTPException(404, "no such organization")
    return org_out(org)


@app.delete("/api/v1/organizations/{org_id}", status_code=204)
def delete_org(org_id: int, db: Session = Depends(get_db)):
    org = db.get(Organization, org_id)
    if org is None:
        raise HTTPException(404, "no such organization")
    db.delete(org)  # campaigns and jobs go with it (ON DELETE CASCADE)
    db.commit()
    return Response(status_code=204)


@app.post("/api/v1/organizations/{org_id}/campaigns", status_code=201)
def create_campaign(org_id: int, body: CampaignIn, db: Session = Depends(get_db)):
    if db.get(Organization, org_id) is None:
        raise HTTPException(404, "no such organization")
    c = Campaign(org_id=org_id, name=body.name, budget=body.budget, settings=body.settings, brief=body.brief)
    db.add(c)
    db.commit()
    return campaign_out(c)


@app.post("/api/v1/organizations/{org_id}/campaigns/pause")
def pause_all(org_id: int, db: Session = Depends(get_db)):
    """Bulk update: every active campaign of the organization (the trigger audits each)."""
    if "pause_partial" in BUGS:  # every campaign is touched, the newest is left active
        active = db.execute(select(Campaign).where(Campaign.org_id == org_id, Campaign.status == "active")
                            .order_by(Campaign.created_at)).scalars().all()
        for i, c in enumerate(active):
            if i < len(active) - 1:
                c.status = "paused"
            c.updated_at = func.now()
        db.commit()
        return {"paused": len(active)}
    where = Campaign.org_id == (org_id + 1 if "pause_none" in BUGS else org_id)  # pause_none: the wrong org
    res = db.execute(update(Campaign).where(where, Campaign.status == "active")
                     .values(status="paused", updated_at=func.now()))
    db.commit()
    return {"paused": res.rowcount}


@app.get("/api/v1/campaigns/{cid}")
def get_campaign(cid: uuid.UUID, db: Session = Depends(get_db)):
    c = db.get(Campaign, cid)
    if c is None:
        raise HTTPException(404, "no such campaign")
    return campaign_out(c)


@app.patch("/api/v1/campaigns/{cid}")
def patch_campaign(cid: uuid.UUID, body: CampaignPatch, db: Session = Depends(get_db)):
    c = db.get(Campaign, cid)
    if c is None:
        raise HTTPException(404, "no such campaign")
    changes = body.dict(exclude_unset=True)
    for field, value in changes.items():
        if field == "status" and "missing_update" in BUGS:
            continue  # the column update is forgotten, yet the response claims it
        setattr(c, field, value)
    c.updated_at = func.now()
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(422, "invalid status")
    db.refresh(c)
    out = campaign_out(c)
    if "missing_update" in BUGS and "status" in changes:
        out["status"] = changes["status"]
    return out


@app.delete("/api/v1/campaigns/{cid}", status_code=204)
def delete_campaign(cid: uuid.UUID, db: Session = Depends(get_db)):
    c = db.get(Campaign, cid)
    if c is None:
        raise HTTPException(404, "no such campaign")
    db.delete(c)
    db.commit()
    return Response(status_code=204)


@app.post("/api/v1/campaigns/{cid}/jobs", status_code=201)
def create_jobs(cid: uuid.UUID, body: JobsIn, db: Session = Depends(get_db)):
    if db.get(Campaign, cid) is None:
        raise HTTPException(404, "no such campaign")
    extra = 1 if "extra_row" in BUGS else 0  # one row more than asked for
    jobs = [Job(campaign_id=cid, kind=body.kind) for _ in range(body.count + extra)]
    db.add_all(jobs)
    db.flush()  # the rows are written inside the transaction...
    if body.count > 100:
        db.rollback()  # ...and rolled back: a 4xx after a write that never commits
        raise HTTPException(422, "at most 100 jobs at once")
    db.commit()
    return {"jobs": [job_out(j) for j in jobs[:body.count]]}


@app.post("/api/v1/late", status_code=202)
def late_write(background: BackgroundTasks, delay_ms: int = 50):
    """Answers first, commits after: a background task writes one event_log row delay_ms later
    (how apps with post-response work behave; see docs/attribution.md, --settle)."""
    token = uuid.uuid4().hex

    def write():
        time.sleep(delay_ms / 1000)
        db = SessionLocal()
        try:
            db.execute(sql("INSERT INTO event_log (message) VALUES (:m)"), {"m": f"late-{token}"})
            db.commit()
        finally:
            db.close()

    background.add_task(write)
    return {"token": token}


@app.get("/api/v1/boom")
def boom():
    raise RuntimeError("deliberate failure for tests")


# Endpoints for proxy-level tests (no database).

@app.post("/api/v1/echo")
async def echo(request: Request):
    """Says what reached the API: body size and digest, and the headers."""
    body = await request.body()
    return {"size": len(body), "sha256": hashlib.sha256(body).hexdigest(),
            "headers": {k: v for k, v in request.headers.items()}}


@app.get("/api/v1/echo")
async def echo_get(request: Request):
    return {"query": str(request.url.query), "headers": {k: v for k, v in request.headers.items()}}


@app.get("/api/v1/slow")
async def slow(ms: int = 1000):
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}


@app.get("/api/v1/stream")
async def stream(chunks: int = 100, delay_ms: int = 50):
    async def gen():
        for i in range(chunks):
            yield (f"chunk {i} " + "x" * 1000 + "\n").encode()
            await asyncio.sleep(delay_ms / 1000)
    return StreamingResponse(gen(), media_type="text/plain")


@app.get("/api/v1/binary")
async def binary():
    return Response(content=bytes(range(256)), media_type="application/octet-stream")


@app.get("/api/v1/text")
async def text():
    return Response(content="héllo, wörld\n", media_type="text/plain; charset=utf-8")


@app.exception_handler(RuntimeError)
async def runtime_error(request: Request, exc: RuntimeError):
    return JSONResponse({"detail": str(exc)}, status_code=500)
