import pytest

from shouwang.core import testing as t
from shouwang.supplies.relief import services


def fill(household, n: int, *, tags: int = 0, moved_out: int = 0, tagged: int = 0):
    """n members living here (the first `tagged` of them with `tags`), plus `moved_out` who left."""
    for i in range(n):
        t.make_resident(
            household,
            name="成员" + "甲乙丙丁戊己庚辛壬癸"[i % 10],
            relation="head" if i == 0 else "other",
            phone="" if i else "+8613900000000",
            tags=tags if i < tagged else 0,
        )
    for i in range(moved_out):
        t.make_resident(
            household,
            name="搬走" + "甲乙丙丁戊己庚辛壬癸"[i % 10],
            relation="other",
            phone="",
            presence="moved_out",
        )
    return household


@pytest.fixture
def batch_of(personas, community):
    def make(**kw):
        kw.setdefault("title", "第一批生活物资")
        kw.setdefault("contents", "大米 5kg\n食用油 1L")
        kw.setdefault("portions_available", 1000)
        return services.batch_save(actor=personas["admin"], community=community, **kw)

    return make
