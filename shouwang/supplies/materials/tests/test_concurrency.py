"""Many issues at once, each on its own connection: stock never goes below zero, every refusal
says what is left, and one request key pressed many times at once issues once. Runs on SQLite
(a file copy, see the queue's db_file fixture) and on PostgreSQL."""

import pytest

from shouwang.core.testing import make_community, make_user, run_at_once
from shouwang.supplies.materials import services
from shouwang.supplies.materials.models import Movement, Stock

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(db_file):  # noqa: F811
    community = make_community("MATC")
    actor = make_user("staff", community, username="store-staff")
    office = services.location_save(actor=actor, name="办公室")
    gate = services.location_save(actor=actor, name="南门卡口", kind="checkpoint")
    masks = services.item_save(actor=actor, name="口罩", unit="pcs", category="mask")
    services.receipt(actor=actor, item=masks, location=office, quantity=100)
    return actor, masks, office, gate


def _stock(item, location):
    return Stock.objects.get(item=item, location=location).quantity


def test_thirty_issues_of_7_from_100_never_go_negative(db_file, store):  # noqa: F811
    actor, masks, office, _gate = store

    def press(n):
        return services.issue(
            actor=actor,
            item=masks,
            location=office,
            quantity=7,
            recipient_kind="team",
            recipient_text=f"网格{n}",
        )

    done, refused = run_at_once(db_file, press, list(range(30)))
    assert len(done) == 14 and len(refused) == 16  # 14 × 7 = 98
    assert all(e.code == "insufficient_stock" for e in refused)
    assert _stock(masks, office) == 2
    assert Movement.objects.filter(kind="issue").count() == 14


def test_issues_and_transfers_at_once_keep_the_books(db_file, store):  # noqa: F811
    actor, masks, office, gate = store

    def press(n):
        if n % 2:
            return services.transfer(
                actor=actor, item=masks, from_location=office, to_location=gate, quantity=9
            )
        return services.issue(
            actor=actor,
            item=masks,
            location=office,
            quantity=9,
            recipient_kind="volunteer",
            recipient_text=f"志愿者{n}",
        )

    done, refused = run_at_once(db_file, press, list(range(20)))
    assert len(done) == 11 and len(refused) == 9  # 11 × 9 = 99
    moved = sum(p.movement.quantity for p in done if p.movement.kind == "transfer")
    assert _stock(masks, office) == 1
    assert _stock(masks, gate) == moved


def test_one_key_pressed_ten_times_at_once_issues_once(db_file, store):  # noqa: F811
    actor, masks, office, _gate = store

    def press(_n):
        return services.issue(
            actor=actor,
            item=masks,
            location=office,
            quantity=10,
            recipient_kind="team",
            recipient_text="第1网格",
            request_key="double-tap",
        )

    done, refused = run_at_once(db_file, press, list(range(10)))
    assert not refused and len(done) == 10
    assert sum(p.created for p in done) == 1
    assert len({p.movement.pk for p in done}) == 1
    assert _stock(masks, office) == 90
