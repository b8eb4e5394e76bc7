"""reverse_one(): the same URL as reverse(), from a template made once per name, script prefix
and URLconf."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from shouwang.core.reverse import reverse_one


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("residents:my_household", 42),
        ("residents:my_household", 7_319_046_285),
        ("queues:ticket", "aB3-_x9"),
        ("queues:ticket", "7319046285"),
    ],
)
def test_same_as_reverse(name, value):
    assert reverse_one(name, value) == reverse(name, args=[value])


def test_script_prefix_is_followed():
    try:
        set_script_prefix("/sw/")
        assert reverse_one("residents:my_household", 5) == "/sw/my/households/5/"
    finally:
        set_script_prefix("/")
    assert reverse_one("residents:my_household", 5) == "/my/households/5/"


def test_other_values_go_through_reverse():
    assert reverse_one("queues:ticket", "a b") == reverse("queues:ticket", args=["a b"])
    with pytest.raises(NoReverseMatch):
        reverse_one("residents:my_household", "not a number")
