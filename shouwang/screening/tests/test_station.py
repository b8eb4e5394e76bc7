"""The station key (station.py): what it binds, and every way it is refused."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import signing

from shouwang.screening import station
from shouwang.screening.tests.test_scan import make_point, make_round


@pytest.fixture
def round_(personas):
    return make_round(personas["admin"].community)


def test_a_key_names_user_community_round_point_and_language(personas, round_):
    point = make_point(round_.community)
    key = station.issue(personas["sampler"], round_, point, language="zh-hans")
    assert len(key) < 80  # compact: it goes in a header of every scan
    s = station.verify(key)
    assert s == station.Station(
        personas["sampler"].pk, round_.community_id, round_.pk, point.pk, "zh-hans"
    )
    assert station.verify(station.issue(personas["sampler"], round_)).point_id is None


def test_the_language_defaults_to_the_active_one(personas, round_):
    from django.utils import translation

    with translation.override("zh-hans"):
        key = station.issue(personas["sampler"], round_)
    assert station.verify(key).language == "zh-hans"


@pytest.mark.parametrize(
    "key",
    [None, "", "garbage", "1.2.3.0.en", "x" * 500],
)
def test_missing_or_malformed_keys_are_refused(key):
    with pytest.raises(station.StationError) as e:
        station.verify(key)
    assert e.value.status == 401 and e.value.code == "station"


def test_a_changed_key_is_refused(personas, round_):
    key = station.issue(personas["sampler"], round_)
    value, _ts, _sig = key.split(":")
    other = f"{personas['admin'].pk}" + value[value.index(".") :]
    with pytest.raises(station.StationError):
        station.verify(key.replace(value, other, 1))


def test_a_key_signed_for_something_else_is_refused(personas, round_):
    value = f"{personas['sampler'].pk}.{round_.community_id}.{round_.pk}.0.en"
    with pytest.raises(station.StationError):
        station.verify(signing.TimestampSigner(salt="other.purpose").sign(value))
    assert station.verify(signing.TimestampSigner(salt=station.SALT).sign(value)).round_id


def test_a_key_expires_after_sixteen_hours(personas, round_):
    key = station.issue(personas["sampler"], round_)
    later = time.time() + station.MAX_AGE - 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert station.verify(key)
    with mock.patch("django.core.signing.time.time", return_value=later + 120):
        with pytest.raises(station.StationError):
            station.verify(key)


def test_a_new_secret_key_ends_old_keys(personas, round_, settings):
    key = station.issue(personas["sampler"], round_)
    settings.SECRET_KEY = "another secret " * 4
    with pytest.raises(station.StationError):
        station.verify(key)
