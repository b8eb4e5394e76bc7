"""The knowledge base (政策口径): the current rules operators search and quote — who may go out,
where to test, how to get medicine — kept by the office, each with the day someone last checked
it was still true. Rules changed every few days in the seeds; an answer not checked for a week is
flagged as stale so nobody quotes last week's rule with confidence.

Search matches substrings (Chinese has no spaces between words): every term of the query must
occur in the question, the answer or the keywords. When nothing matches all of a Chinese
query's text (a caller's phrasing, "哪里做核酸"), its two-character pieces are matched instead
and the answers ranked by how many they share. The knowledge base is small (tens of answers), so
the ranking is done in Python and reads the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped
from shouwang.core.audit import audit
from shouwang.core.errors import NotFound, invalid
from shouwang.helpline.models import Answer, Group

STALE_DAYS = 7
FIELDS = ("question", "body", "keywords")
_SPLIT = re.compile(r"[\s,，、;；。.!！?？:：\"“”'‘’()（）]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def answers_for(user, *, include_retired: bool = False) -> QuerySet[Answer]:
    if not getattr(user, "is_authenticated", False) or user.community_id is None:
        return Answer.objects.none()
    qs = Answer.objects.filter(community_id=user.community_id)
    if not include_retired:
        qs = qs.filter(is_active=True)
    return qs.select_related("checked_by")


def answer_for(user, pk) -> Answer:
    return get_scoped(user, answers_for(user, include_retired=True), pk)


def answer_to_read(user, pk) -> Answer:
    """An answer to read: a retired one only for those who keep the answers (404 otherwise)."""
    a = answer_for(user, pk)
    if not a.is_active and not can(user, "helpline.manage"):
        raise NotFound("not_found", _("This answer is retired."))
    return a


def terms(query: str) -> list[str]:
    return [t for t in _SPLIT.split((query or "").strip()) if t][:8]


def _any_field(term: str) -> Q:
    q = Q()
    for f in FIELDS:
        q |= Q(**{f"{f}__icontains": term})
    return q


def _bigrams(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if _CJK.search(w) and len(w) > 2:
            out += [w[i : i + 2] for i in range(len(w) - 1)]
        else:
            out.append(w)
    return list(dict.fromkeys(out))


def search(qs: QuerySet[Answer], query: str, *, limit: int = 20) -> list[Answer]:
    """Answers of `qs` for the query, best first (all of them, newest checked first, for an
    empty query)."""
    words = terms(query)
    if not words:
        return list(qs.order_by("-checked_on", "pk")[:limit])
    every = Q()
    for w in words:
        every &= _any_field(w)
    found = list(qs.filter(every).order_by("-checked_on", "pk")[:limit])
    if found:
        # A term in the question counts more than one in the body.
        def weight(a: Answer) -> int:
            return -sum(2 if w.lower() in a.question.lower() else 1 for w in words)

        return sorted(found, key=weight)
    pieces = _bigrams(words)
    if pieces == words:
        return []
    some = Q()
    for p in pieces:
        some |= _any_field(p)
    candidates = list(qs.filter(some)[:200])

    def score(a: Answer) -> tuple:
        text = f"{a.question} {a.keywords}".lower()
        body = a.body.lower()
        hits = sum(2 if p.lower() in text else 1 if p.lower() in body else 0 for p in pieces)
        return (-hits, -a.checked_on.toordinal(), a.pk)

    # At least half the pieces: "里做" alone is not an answer to "哪里做核酸".
    need = max(1, (len(pieces) + 1) // 2)
    ranked = sorted(candidates, key=score)
    return [a for a in ranked if -score(a)[0] >= need][:limit]


@dataclass
class Age:
    days: int
    stale: bool


def age(answer: Answer, today: dt.date | None = None) -> Age:
    days = ((today or timezone.localdate()) - answer.checked_on).days
    return Age(days=days, stale=days > STALE_DAYS)


def _clean(question, body, keywords, group, source) -> dict:
    question = (question or "").strip()
    body = (body or "").strip()
    if not question:
        raise invalid("question", _("Write the question as callers ask it."))
    if len(question) > 200:
        raise invalid("question", _("200 characters at the most."))
    if not body:
        raise invalid("body", _("Write the answer to read out."))
    if group not in Group.values:
        raise invalid("group", _("Choose a group."))
    keywords = " ".join(terms(keywords or ""))[:200]
    return {
        "question": question,
        "body": body,
        "keywords": keywords,
        "group": group,
        "source": (source or "").strip()[:200],
    }


def answer_save(
    *,
    actor,
    community_id: int,
    question: str,
    body: str,
    keywords: str = "",
    group: str = Group.POLICY,
    source: str = "",
    answer: Answer | None = None,
    today: dt.date | None = None,
) -> Answer:
    """Write a new answer or change one. Whoever writes it has checked it today."""
    data = _clean(question, body, keywords, group, source)
    today = today or timezone.localdate()
    with transaction.atomic():
        if answer is None:
            answer = Answer.objects.create(
                community_id=community_id, checked_on=today, checked_by=actor, **data
            )
            action = "helpline.answer_add"
        else:
            for k, v in data.items():
                setattr(answer, k, v)
            answer.checked_on, answer.checked_by = today, actor
            answer.save(update_fields=[*data, "checked_on", "checked_by", "updated_at"])
            action = "helpline.answer"
        audit(actor=actor, action=action, community=community_id, target=answer, summary=question)
    return answer


def answer_checked(*, actor, answer: Answer, today: dt.date | None = None) -> Answer:
    """Someone checked the rule is still true today."""
    with transaction.atomic():
        answer.checked_on = today or timezone.localdate()
        answer.checked_by = actor
        answer.save(update_fields=["checked_on", "checked_by", "updated_at"])
        audit(
            actor=actor,
            action="helpline.answer_checked",
            community=answer.community_id,
            target=answer,
            summary=answer.question,
        )
    return answer


def answer_retire(*, actor, answer: Answer, retired: bool = True) -> Answer:
    """A rule that no longer holds leaves the search (kept for the requests that quoted it);
    `retired=False` brings it back."""
    with transaction.atomic():
        if answer.is_active == retired:
            answer.is_active = not retired
            answer.save(update_fields=["is_active", "updated_at"])
            audit(
                actor=actor,
                action="helpline.answer_retire" if retired else "helpline.answer_restore",
                community=answer.community_id,
                target=answer,
                summary=answer.question,
            )
    return answer


def as_dict(answer: Answer, today: dt.date | None = None) -> dict:
    a = age(answer, today)
    return {
        "id": answer.pk,
        "question": answer.question,
        "body": answer.body,
        "keywords": answer.keywords,
        "group": answer.group,
        "source": answer.source,
        "checked_on": answer.checked_on,
        "days_since_checked": a.days,
        "stale": a.stale,
        "is_active": answer.is_active,
        "quoted": answer.quoted,
    }
