"""Builders and personas for tests: plain functions, real database rows."""

from __future__ import annotations

import itertools
import random
import re
import threading
from datetime import date

from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test.client import ClientHandler
from stdnum.cn import ric

_seq = itertools.count(1)
PASSWORD = "test-pass-123"


def valid_id(
    birth: date = date(1980, 5, 17),
    *,
    region: str = "310104",
    sex: str = "M",
    seq: int | None = None,
) -> str:
    seq = next(_seq) % 99 if seq is None else seq
    digit = ("13579" if sex == "M" else "02468")[seq % 5]
    body = f"{region}{birth:%Y%m%d}{seq:02d}{digit}"
    return body + ric.calc_check_digit(body + "0")


def unique_id(rng: random.Random | None = None) -> str:
    n = next(_seq)
    return valid_id(
        date(1950 + n % 50, 1 + n % 12, 1 + n % 28), seq=n % 100, region=f"3101{n // 100 % 100:02d}"
    )


def shows_number(text: str, number: str) -> bool:
    """Does `text` show `number` as a number of its own (a door "201"), not as digits inside
    another one (an element id "b2012" once the database's sequences have counted that far)?"""
    return re.search(rf"(?<!\d){re.escape(number)}(?!\d)", text) is not None


def make_community(code: str | None = None, name: str = "测试社区", **kw):
    from shouwang.registry.models import Community

    code = code or f"C{next(_seq)}"
    return Community.objects.create(code=code, name=name, **kw)


def make_building(community, compound: str = "华美小区", name: str = "1号楼", grid=None):
    from shouwang.registry.models import Building, Compound

    c, _ = Compound.objects.get_or_create(community=community, name=compound)
    b, _ = Building.objects.get_or_create(community=community, compound=c, name=name)
    if grid is not None:
        b.grid = grid
        b.save(update_fields=["grid"])
    return b


def make_household(community, *, building=None, door: str | None = None, unit: str = "1单元"):
    from shouwang.registry.models import Dwelling, Household, Unit

    building = building or make_building(community)
    u, _ = Unit.objects.get_or_create(community=community, building=building, name=unit)
    d, _ = Dwelling.objects.get_or_create(
        community=community, building=building, unit=u, door=door or str(100 + next(_seq))
    )
    return Household.objects.create(community=community, dwelling=d, building=building)


def make_resident(
    household,
    *,
    name: str = "张三",
    id_number: str | None = None,
    phone: str = "+8613912345678",
    relation: str = "head",
    **kw,
):
    from shouwang.registry.models import Resident

    id_number = id_number or unique_id()
    r = Resident(
        community_id=household.community_id, household=household, name=name, relation=relation, **kw
    )
    r.set_id_number(id_number)
    r.set_phone(phone)
    r.save()
    household.size = household.members.count()
    fields = ["size"]
    if relation == "head" and household.head_id is None:
        household.head = r
        fields.append("head")
    household.save(update_fields=fields)
    return r


def make_grid(community, name: str | None = None):
    from shouwang.grids.models import Grid

    return Grid.objects.create(community=community, name=name or f"第{next(_seq)}网格")


def make_user(role: str, community=None, *, grid=None, district=None, username: str | None = None):
    from shouwang.accounts.models import User

    u = User(
        username=username or f"{role}{next(_seq)}",
        role=role,
        community=community,
        grid=grid,
        district=district,
    )
    u.set_password(PASSWORD)
    u.save()
    return u


def run_at_once(attach, fn, args) -> tuple[list, list]:
    """Call fn(arg) for every arg, each in its own thread with its own connection, all released
    together by a barrier. Returns (results, domain errors); any other error fails the test."""
    from django.db import connection

    from shouwang.core.errors import DomainError

    barrier = threading.Barrier(len(args))
    lock = threading.Lock()
    results, refusals, crashes = [], [], []

    def work(arg):
        attach()
        try:
            barrier.wait(timeout=30)
            out = fn(arg)
            with lock:
                results.append(out)
        except DomainError as e:
            with lock:
                refusals.append(e)
        except Exception as e:  # noqa: BLE001 - reported below with its type
            with lock:
                crashes.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not crashes, [f"{type(e).__name__}: {e}" for e in crashes]
    return results, refusals


class FrontClientHandler(ClientHandler):
    """The test client's handler with one of config/wsgi.py's fronts in front of Django (the
    quick "take a number" path, the scan path). `match(environ)` says whether the front takes
    the request; `respond(request, matched)` is the front's answer, or None to hand it on to
    Django as the front does. An answer the front gives carries `quick=True`."""

    def match(self, environ):
        raise NotImplementedError

    def respond(self, request, matched):
        raise NotImplementedError

    def __call__(self, environ):
        matched = self.match(environ)
        if matched is None:
            return super().__call__(environ)
        request_started.disconnect(close_old_connections)  # as ClientHandler: keep the test's
        request_started.send(sender=self.__class__, environ=environ)  # transaction open
        request_started.connect(close_old_connections)
        request = WSGIRequest(environ)
        request._dont_enforce_csrf_checks = not self.enforce_csrf_checks
        response = self.respond(request, matched)
        if response is None:
            return super().__call__(environ)
        response.wsgi_request = request
        response.quick = True
        request_finished.disconnect(close_old_connections)
        response.close()
        request_finished.connect(close_old_connections)
        return response
