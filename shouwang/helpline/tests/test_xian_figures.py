"""Seed 000 (Xi'an, 爱心热线): 1,300+ calls in half a month, 100+ a day at first — 31.15 %
livelihood, 26.23 % special needs, 21.32 % policy questions, "已解答反馈办结率平均为93%"; after
3 January 75 a day: 9.68 %, 26.23 %, 35.48 %, 100 % resolved.

No ledger of 1,300–1,399 requests has pooled shares that round to 31.15/26.23/21.32 (the
smallest is 3,550 requests), and the seed says 平均: the committee averaged the daily figures. So
the ledger below is built day by day so that the average of the daily shares is the seed's; the
pooled shares are what they come to. Each row: requests, livelihood, special, policy, resolved.
"""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from shouwang.helpline import stats
from shouwang.helpline.models import Group, HelpRequest, Status
from shouwang.helpline.selectors import categories_for

pytestmark = pytest.mark.django_db

# 20 December 2021 to 3 January 2022: 15 days, 1,392 requests (112 on the first day).
FIRST = (
    (112, 36, 29, 25, 103),
    (108, 34, 28, 23, 99),
    (105, 32, 28, 22, 98),
    (103, 32, 27, 22, 96),
    (101, 31, 26, 22, 94),
    (98, 31, 26, 20, 91),
    (95, 30, 25, 20, 88),
    (92, 29, 24, 20, 86),
    (90, 28, 24, 19, 84),
    (87, 27, 23, 19, 82),
    (85, 26, 22, 18, 79),
    (82, 26, 22, 17, 76),
    (80, 25, 21, 17, 74),
    (78, 24, 20, 17, 73),
    (76, 23, 20, 16, 71),
)
# 4 to 10 January: 525 requests, 75 a day, every one resolved.
SECOND = (
    (78, 9, 22, 26, 78),
    (77, 8, 22, 25, 77),
    (76, 8, 21, 27, 76),
    (75, 7, 21, 27, 75),
    (74, 7, 18, 26, 74),
    (73, 7, 17, 27, 73),
    (72, 5, 17, 28, 72),
)
D1 = dt.date(2021, 12, 20)
D2 = dt.date(2022, 1, 4)
# The rest of each day's calls, spread over the other groups.
REST = (Group.REPAIRS, Group.PSYCHOLOGICAL, Group.DISPUTE, Group.OTHER)


def build(community, start: dt.date, table) -> None:
    cats = {}
    for c in categories_for(community.pk):
        cats.setdefault(c.group, c)
    rows = []
    for offset, (n, lv, sp, po, resolved) in enumerate(table):
        day = start + dt.timedelta(days=offset)
        groups = [Group.LIVELIHOOD] * lv + [Group.SPECIAL] * sp + [Group.POLICY] * po
        groups += [REST[i % len(REST)] for i in range(n - len(groups))]
        for i, g in enumerate(groups):
            created = timezone.make_aware(dt.datetime.combine(day, dt.time(8))) + dt.timedelta(
                minutes=(i * 37) % 900
            )
            done = _spread(i, n, resolved)
            rows.append(
                HelpRequest(
                    community=community,
                    reference=f"X{day:%m%d}-{i}",
                    category=cats[g],
                    group=g,
                    summary="热线来电",
                    created_at=created,
                    due_at=created + dt.timedelta(hours=24),
                    status=Status.CLOSED if done else Status.UNRESOLVED,
                    resolved_at=created + dt.timedelta(minutes=30 + (i % 5) * 60),
                )
            )
    HelpRequest.objects.bulk_create(rows, batch_size=500)


def _spread(i: int, n: int, resolved: int) -> bool:
    """`resolved` of the day's `n` requests, the others spread over the groups."""
    unresolved = n - resolved
    return not (unresolved and i % (n // unresolved) == 0 and i // (n // unresolved) < unresolved)


@pytest.fixture
def xian(community):
    build(community, D1, FIRST)
    build(community, D2, SECOND)
    return community


P1 = (D1, D2 - dt.timedelta(days=1))
P2 = (D2, dt.date(2022, 1, 10))


def test_the_ledger_is_what_the_seed_says(xian):
    first = stats.summary(xian.pk, *P1)
    assert first.requests == 1392 and first.days == 15  # 1,300+ in half a month
    days = stats.by_day(xian.pk, *P1)
    assert days[0].requests == 112 and all(d.requests >= 100 for d in days[:5])
    assert stats.summary(xian.pk, *P2).per_day == 75


def test_first_half_month_shares_and_rate(xian):
    s = stats.summary(xian.pk, *P1)
    daily = {g.group: g.daily_share for g in s.groups}
    assert str(daily[Group.LIVELIHOOD]) == "31.15"
    assert str(daily[Group.SPECIAL]) == "26.23"
    assert str(daily[Group.POLICY]) == "21.32"
    assert str(s.daily_rate) == "93.00"
    # Pooled over the 1,392 requests the shares differ a little (busy days weigh more).
    pooled = {g.group: g.share for g in s.groups}
    assert str(pooled[Group.LIVELIHOOD]) == "31.18"  # 434 / 1392
    assert str(pooled[Group.SPECIAL]) == "26.22"  # 365 / 1392
    assert str(pooled[Group.POLICY]) == "21.34"  # 297 / 1392
    assert str(s.rate) == "92.96"  # 1294 / 1392


def test_after_the_third_of_january(xian):
    s = stats.summary(xian.pk, *P2)
    daily = {g.group: g.daily_share for g in s.groups}
    assert str(daily[Group.LIVELIHOOD]) == "9.68"
    assert str(daily[Group.SPECIAL]) == "26.23"
    assert str(daily[Group.POLICY]) == "35.48"
    assert str(s.daily_rate) == "100.00" and str(s.rate) == "100.00"
    assert s.requests == 525


def test_the_page_the_api_and_the_cli_print_them(client, personas, xian):
    client.force_login(personas["staff"])
    page = client.get("/helpline/stats/?first=2021-12-20&last=2022-01-03").content.decode()
    row = page.split('id="st-livelihood"')[1].split("</tr>")[0]
    assert "<b>31.15 %</b>" in row and "31.18 %" in row and ">434<" in row
    assert "<b>26.23 %</b>" in page.split('id="st-special"')[1].split("</tr>")[0]
    assert "<b>21.32 %</b>" in page.split('id="st-policy"')[1].split("</tr>")[0]
    assert '<b id="st-rate">93.00 %</b>' in page and '<b id="st-requests">1392</b>' in page

    body = client.get("/api/v1/helpline/stats?from=2022-01-04&to=2022-01-10").json()
    shares = {g["group"]: g["daily_share"] for g in body["groups"]}
    assert (shares["livelihood"], shares["special"], shares["policy"]) == ("9.68", "26.23", "35.48")
    assert body["daily_rate"] == "100.00" and body["requests"] == 525 and body["per_day"] == "75.0"

    out = StringIO()
    call_command(
        "helpline_stats",
        "--community",
        xian.code,
        "--from",
        "2021-12-20",
        "--to",
        "2022-01-03",
        stdout=out,
    )
    text = out.getvalue()
    assert "Requests:" in text and " 1392" in text
    assert "Resolution rate (average of the days):" in text and "93.00 %" in text
    livelihood = next(line for line in text.splitlines() if line.startswith("Livelihood"))
    assert livelihood.split()[-5:] == ["434", "31.18", "%", "31.15", "%"]
