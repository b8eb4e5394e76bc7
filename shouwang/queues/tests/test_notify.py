""" "Come now": a text message once to each ticket within `come_when` of the counter that asked
for one, and the grid leader's list of households to ring or knock on."""

from __future__ import annotations

import pytest

from shouwang.core.testing import make_building
from shouwang.queues import services
from shouwang.queues.models import Notify, SaleDay, Ticket
from shouwang.queues.tests.test_take import make_day, make_households, make_point
from shouwang.residents.models import SmsMessage
from shouwang.residents.sms import MemoryGateway, SmsError, SmsGateway

PHONE = "+86139000000{:02d}"


class FailingGateway(SmsGateway):
    name = "failing"

    def send(self, phone_e164, text, *, kind):
        raise SmsError("the provider is down")


@pytest.fixture
def outbox(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    MemoryGateway.outbox.clear()
    yield MemoryGateway.outbox
    MemoryGateway.outbox.clear()


def fresh(day) -> SaleDay:
    return SaleDay.objects.get(pk=day.pk)


def queue(day, plan: str, building=None) -> dict[int, Ticket]:
    """One ticket per letter of `plan`, numbered from 1: s = text message, k = knock, p = page."""
    how = {"s": Notify.SMS, "k": Notify.KNOCK, "p": Notify.PAGE}
    out = {}
    for h, letter in zip(
        make_households(day.community, len(plan), building=building), plan, strict=True
    ):
        n = fresh(day).issued + 1
        phone = PHONE.format(n) if letter == "s" else ""
        t = services.ticket_take(
            day=fresh(day), household=h, notify=how[letter], sms_phone=phone
        ).ticket
        out[t.number] = t
    return out


def call(day, capture, **kw):
    with capture(execute=True):
        return services.call_next(day=fresh(day), **kw)


def texted(outbox) -> list[int]:
    """The ticket numbers texted, in order, read back from the messages' phone numbers."""
    return [int(phone[-2:]) for phone, _text, _kind in outbox]


@pytest.fixture
def point(community):
    return make_point(community, name="松林超市", location="小区东门")


def test_tickets_within_come_when_get_one_text_each(
    point, outbox, django_capture_on_commit_callbacks
):
    day = make_day(point, come_when=3)
    queue(day, "pssssspsks")  # 1 page, 2–6 text, 7 page, 8 text, 9 knock, 10 text
    call(day, django_capture_on_commit_callbacks)  # 1 at the counter; 2, 3, 4, 5 within 3
    assert texted(outbox) == [2, 3, 4, 5]
    phone, text, kind = outbox[0]
    assert phone == "+8613900000002" and kind == "queue"
    assert "Number 2 at 松林超市: 0 ahead of you now. Please come to 小区东门." in text
    assert "Number 5" in outbox[3][1] and "3 ahead" in outbox[3][1]
    notified = Ticket.objects.filter(day=day, notified_at__isnull=False)
    assert sorted(notified.values_list("number", flat=True)) == [2, 3, 4, 5]
    assert SmsMessage.objects.filter(kind="queue", ok=True).count() == 4
    # Next call: 6 comes within 3; 3, 4 and 5 were texted already.
    call(day, django_capture_on_commit_callbacks, serve_current=True)
    assert texted(outbox) == [2, 3, 4, 5, 6]
    # Calling again (a recall, an undo and a call) texts nobody twice.
    services.recall(day=fresh(day))
    services.undo(day=fresh(day))
    call(day, django_capture_on_commit_callbacks)
    assert texted(outbox) == [2, 3, 4, 5, 6]
    assert services.notify_due(day.pk) == 0


def test_a_called_or_cancelled_number_is_not_texted(
    point, outbox, django_capture_on_commit_callbacks
):
    day = make_day(point, come_when=2)
    t = queue(day, "ssss")
    services.ticket_cancel(ticket=t[3])
    call(day, django_capture_on_commit_callbacks)
    # 1 is at the counter, 3 gave its number back: 2 and 4 are the two ahead.
    assert texted(outbox) == [2, 4]


def test_no_text_before_anyone_is_called(point, outbox):
    day = make_day(point, come_when=5)
    queue(day, "ss")
    # The snapshot is written by counter presses; until the first, nobody is told to come.
    assert services.notify_due(day.pk) == 0 and outbox == []


def test_a_failed_text_is_released_and_the_household_goes_on_the_knock_list(
    point, settings, django_capture_on_commit_callbacks
):
    settings.SMS_GATEWAY = "shouwang.queues.tests.test_notify.FailingGateway"
    day = make_day(point, come_when=1)
    t = queue(day, "psps")
    call(day, django_capture_on_commit_callbacks)  # waiting 2, 3, 4: 2 is due
    assert not Ticket.objects.filter(day=day, notified_at__isnull=False).exists()
    failed = SmsMessage.objects.filter(kind="queue", ok=False)
    assert failed.count() == 1 and failed.get().to_masked == "139****0002"
    listed = services.knock_list(fresh(day))
    assert [(r["ticket"].number, r["ahead"]) for r in listed] == [(2, 0)]
    assert listed[0]["ticket"].pk == t[2].pk
    # When the gateway is back, the next press texts it after all, and it leaves the list.
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    MemoryGateway.outbox.clear()
    call(day, django_capture_on_commit_callbacks)  # 2 at the counter, waiting 3, 4
    assert texted(MemoryGateway.outbox) == [4]
    MemoryGateway.outbox.clear()
    assert services.knock_list(fresh(day)) == []


def test_knock_list_takes_households_without_a_phone_within_twice_come_when(
    community, grid_a, grid_b, outbox, django_capture_on_commit_callbacks
):
    day = make_day(make_point(community), come_when=2)
    in_a = make_building(community, "甲小区", "1号楼", grid=grid_a)
    in_b = make_building(community, "乙小区", "2号楼", grid=grid_b)
    queue(day, "pk", building=in_a)  # 1, 2 (knock)
    queue(day, "k", building=in_b)  # 3 (knock)
    queue(day, "pp", building=in_a)  # 4, 5
    queue(day, "k", building=in_b)  # 6 (knock)
    queue(day, "k", building=in_a)  # 7 (knock)
    queue(day, "k", building=in_a)  # 8 (knock)
    call(day, django_capture_on_commit_callbacks)  # 1 called; waiting 2 … 8
    rows = services.knock_list(fresh(day))
    # 2 × come_when = 4 ahead or fewer: 2, 3, 6 (ahead 0, 1, 4); 7 is 5 ahead, 8 is 6.
    assert [(r["ticket"].number, r["ahead"]) for r in rows] == [(2, 0), (3, 1), (6, 4)]
    in_grid_a = services.knock_list(fresh(day), grid_id=grid_a.pk)
    assert [r["ticket"].number for r in in_grid_a] == [2]
    in_grid_b = services.knock_list(fresh(day), grid_id=grid_b.pk)
    assert [r["ticket"].number for r in in_grid_b] == [3, 6]
    # A wider margin reaches further.
    assert [r["ticket"].number for r in services.knock_list(fresh(day), margin=6)] == [
        2,
        3,
        6,
        7,
        8,
    ]
    # Called numbers leave the list.
    call(day, django_capture_on_commit_callbacks, serve_current=True)
    assert [r["ticket"].number for r in services.knock_list(fresh(day))] == [3, 6, 7]


def test_knocked_is_recorded_once(point, personas, django_capture_on_commit_callbacks):
    from shouwang.core.models import AuditEvent

    day = make_day(point, come_when=2)
    t = queue(day, "k")[1]
    first = services.knocked(ticket=t, actor=personas["grid_leader"])
    assert first.knocked_at is not None and first.knocked_by == personas["grid_leader"]
    again = services.knocked(ticket=t, actor=personas["staff"])
    assert again.knocked_at == first.knocked_at and again.knocked_by == personas["grid_leader"]
    assert AuditEvent.objects.filter(action="queue.knocked").count() == 1


@pytest.mark.django_db(transaction=True)
def test_texts_go_out_in_a_background_thread_so_the_press_does_not_wait(
    point, outbox, settings, monkeypatch
):
    """A slow SMS provider must not hold up the counter: the press returns, a thread texts."""
    import threading

    settings.QUEUE_SMS_BACKGROUND = True
    started: list[threading.Thread] = []
    real = services._notify_in_background

    def spy(day_pk):
        started.append(real(day_pk))
        return started[-1]

    monkeypatch.setattr(services, "_notify_in_background", spy)
    day = make_day(point, come_when=1)
    queue(day, "sss")
    services.call_next(day=fresh(day))  # committed at once (no test transaction around it)
    assert len(started) == 1 and started[0].name == f"queue-sms-{day.pk}"
    assert started[0] is not threading.current_thread()
    started[0].join(timeout=10)
    assert texted(outbox) == [2, 3]
    # In the thread no language is active: residents get the product's language, Chinese.
    assert outbox[0][1].startswith(settings.SMS_SIGNATURE) and "号" in outbox[0][1]
