"""/api/v1/helpline/answers: the knowledge base — the same rules (answers.py) as the pages.

GET  /answers?q=            search (everyone who answers questions)
GET  /answers/{id}
POST /answers               write one (the office)
PATCH /answers/{id}         change it (checked today)
POST /answers/{id}/checked  still true today
POST /answers/{id}/retire   {"restore": false}
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status

from shouwang.accounts.permissions import require
from shouwang.helpline import answers as kb
from shouwang.helpline.models import Group

router = Router()


class AnswerOut(Schema):
    id: int
    question: str
    body: str
    keywords: str
    group: str
    source: str
    checked_on: dt.date
    days_since_checked: int
    stale: bool
    is_active: bool
    quoted: int


class AnswerIn(Schema):
    question: str
    body: str
    keywords: str = ""
    group: str = Group.POLICY
    source: str = ""


class AnswerPatch(Schema):
    question: str | None = None
    body: str | None = None
    keywords: str | None = None
    group: str | None = None
    source: str | None = None


class RetireIn(Schema):
    restore: bool = False


@router.get("/answers", response=list[AnswerOut], summary="Search the answers")
def answer_search(request, q: str = "", limit: int = 20):
    user = request.auth
    require(user, "helpline.answers")
    found = kb.search(kb.answers_for(user), q, limit=max(1, min(limit, 100)))
    return [kb.as_dict(a) for a in found]


@router.get("/answers/{answer_id}", response=AnswerOut, summary="One answer")
def answer_get(request, answer_id: int):
    user = request.auth
    require(user, "helpline.answers")
    return kb.as_dict(kb.answer_to_read(user, answer_id))


@router.post("/answers", response={201: AnswerOut}, summary="Write an answer")
def answer_create(request, payload: AnswerIn):
    user = request.auth
    require(user, "helpline.manage")
    a = kb.answer_save(actor=user, community_id=user.community_id, **payload.dict())
    return Status(201, kb.as_dict(a))


@router.patch("/answers/{answer_id}", response=AnswerOut, summary="Change an answer")
def answer_patch(request, answer_id: int, payload: AnswerPatch):
    user = request.auth
    require(user, "helpline.manage")
    a = kb.answer_for(user, answer_id)
    data = {f: getattr(a, f) for f in ("question", "body", "keywords", "group", "source")}
    data.update(payload.dict(exclude_unset=True, exclude_none=True))
    a = kb.answer_save(actor=user, community_id=user.community_id, answer=a, **data)
    return kb.as_dict(a)


@router.post("/answers/{answer_id}/checked", response=AnswerOut, summary="Checked today")
def answer_checked(request, answer_id: int):
    user = request.auth
    require(user, "helpline.manage")
    a = kb.answer_checked(actor=user, answer=kb.answer_for(user, answer_id))
    return kb.as_dict(a)


@router.post("/answers/{answer_id}/retire", response=AnswerOut, summary="Retire or restore")
def answer_retire(request, answer_id: int, payload: RetireIn | None = None):
    user = request.auth
    require(user, "helpline.manage")
    restore = bool(payload and payload.restore)
    a = kb.answer_retire(actor=user, answer=kb.answer_for(user, answer_id), retired=not restore)
    return kb.as_dict(a)
