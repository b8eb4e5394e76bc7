"""The knowledge base: substring search that works on Chinese text, last checked and stale,
writing and retiring for the office only, the JSON search for the intake page."""

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core.errors import DomainError
from shouwang.helpline import answers as kb
from shouwang.helpline.models import Answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def base(community, personas):
    admin = personas["admin"]
    today = timezone.localdate()

    def add(q, body, keywords="", days=0):
        return kb.answer_save(
            actor=admin,
            community_id=community.pk,
            question=q,
            body=body,
            keywords=keywords,
            today=today - dt.timedelta(days=days),
        )

    return {
        "medicine": add(
            "怎么配药？", "拨打爱心热线登记，社区卫生服务中心优先，附近药店其次。", "买药 慢性病"
        ),
        "test": add("核酸检测点在哪里？", "小区东门，每天早上7点到11点。", days=9),
        "out": add("谁可以出小区？", "就医、透析、孕产妇凭社区证明出行。", "出门 外出"),
    }


def titles(found):
    return [a.question for a in found]


def test_substring_search_without_spaces(community, personas, base):
    qs = kb.answers_for(personas["staff"])
    assert titles(kb.search(qs, "配药")) == ["怎么配药？"]
    assert titles(kb.search(qs, "透析")) == ["谁可以出小区？"]  # in the body
    assert titles(kb.search(qs, "外出")) == ["谁可以出小区？"]  # in the keywords
    assert titles(kb.search(qs, "核酸 东门")) == ["核酸检测点在哪里？"]  # every term
    assert kb.search(qs, "核酸 透析") == []


def test_a_callers_phrasing_finds_the_answer_by_its_pieces(community, personas, base):
    qs = kb.answers_for(personas["staff"])
    # Nobody wrote "哪里做核酸"; its pieces 哪里 … 核酸 are in the question.
    assert titles(kb.search(qs, "哪里做核酸"))[0] == "核酸检测点在哪里？"
    assert kb.search(qs, "天气预报") == []


def test_question_matches_rank_first(community, personas, base):
    qs = kb.answers_for(personas["staff"])
    found = kb.search(qs, "社区")  # in the medicine body and the going-out body
    assert set(titles(found)) == {"怎么配药？", "谁可以出小区？"}


def test_stale_after_a_week(base):
    today = timezone.localdate()
    assert kb.age(base["test"], today) == kb.Age(days=9, stale=True)
    assert kb.age(base["medicine"], today) == kb.Age(days=0, stale=False)
    assert kb.age(base["medicine"], today + dt.timedelta(days=7)).stale is False
    assert kb.age(base["medicine"], today + dt.timedelta(days=8)).stale is True


def test_checked_today_and_retire(community, personas, base):
    admin = personas["staff"]
    kb.answer_checked(actor=admin, answer=base["test"])
    base["test"].refresh_from_db()
    assert base["test"].checked_on == timezone.localdate() and base["test"].checked_by == admin
    kb.answer_retire(actor=admin, answer=base["out"])
    assert "谁可以出小区？" not in titles(kb.search(kb.answers_for(admin), ""))
    kb.answer_retire(actor=admin, answer=base["out"], retired=False)
    assert "谁可以出小区？" in titles(kb.search(kb.answers_for(admin), ""))


def test_refusals(community, personas):
    with pytest.raises(DomainError) as e:
        kb.answer_save(actor=personas["admin"], community_id=community.pk, question=" ", body="x")
    assert "question" in e.value.fields
    with pytest.raises(DomainError) as e:
        kb.answer_save(actor=personas["admin"], community_id=community.pk, question="q", body="")
    assert "body" in e.value.fields


def test_other_communities_answers_are_not_found(client, community, personas, base):
    client.force_login(personas["outsider"])
    assert client.get(f"/helpline/answers/{base['medicine'].pk}/").status_code == 404
    assert client.get("/helpline/answers/search.json?q=配药").json() == {"results": []}


def test_the_guard_searches_and_reads_but_does_not_edit(client, community, personas, base):
    client.force_login(personas["guard"])
    page = client.get("/helpline/answers/?q=核酸").content.decode()
    assert "核酸检测点在哪里？" in page and "怎么配药" not in page
    assert "checked 9 days ago" in page and "not checked for more than 7 days" in page
    assert "Copy to quote" in page and "Write an answer" not in page
    assert client.get(f"/helpline/answers/{base['test'].pk}/edit/").status_code == 403
    kb.answer_retire(actor=personas["admin"], answer=base["test"])
    assert client.get(f"/helpline/answers/{base['test'].pk}/").status_code == 404


def test_the_office_writes_and_changes_an_answer(client, community, personas):
    client.force_login(personas["staff"])
    resp = client.post(
        "/helpline/answers/new/",
        {
            "question": "快递能进小区吗？",
            "body": "放东门快递点，消杀后取。",
            "group": "policy",
            "keywords": "快递，外卖",
        },
    )
    a = Answer.objects.get()
    assert resp["Location"] == f"/helpline/answers/{a.pk}/"
    assert (a.keywords, a.checked_by, a.community) == ("快递 外卖", personas["staff"], community)
    client.post(
        f"/helpline/answers/{a.pk}/edit/",
        {"question": "快递能进小区吗？", "body": "暂停收快递。", "group": "policy"},
    )
    a.refresh_from_db()
    assert a.body == "暂停收快递。"
    client.post(f"/helpline/answers/{a.pk}/retire/")
    a.refresh_from_db()
    assert not a.is_active
    assert "快递" in client.get("/helpline/answers/?retired=1").content.decode()


def test_json_search_for_the_intake_page(client, personas, base):
    client.force_login(personas["staff"])
    body = client.get("/helpline/answers/search.json?q=配药").json()
    (hit,) = body["results"]
    assert hit == {
        "id": base["medicine"].pk,
        "question": "怎么配药？",
        "body": "拨打爱心热线登记，社区卫生服务中心优先，附近药店其次。",
        "group": "policy",
        "checked_on": timezone.localdate().isoformat(),
        "days_since_checked": 0,
        "stale": False,
        "url": f"/helpline/answers/{base['medicine'].pk}/",
    }


def test_the_api(client, personas, base):
    client.force_login(personas["volunteer"])
    found = client.get("/api/v1/helpline/answers?q=哪里做核酸").json()
    assert found[0]["question"] == "核酸检测点在哪里？" and found[0]["stale"] is True
    assert (
        client.post(
            "/api/v1/helpline/answers",
            {"question": "q", "body": "b"},
            content_type="application/json",
        ).status_code
        == 403
    )
    client.force_login(personas["admin"])
    resp = client.patch(
        f"/api/v1/helpline/answers/{base['test'].pk}",
        {"body": "改到西门"},
        content_type="application/json",
    )
    assert resp.json()["body"] == "改到西门" and resp.json()["days_since_checked"] == 0
    bad = client.post(
        "/api/v1/helpline/answers", {"question": "q", "body": " "}, content_type="application/json"
    )
    assert bad.status_code == 400 and "body" in bad.json()["error"]["fields"]
