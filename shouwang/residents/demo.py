"""The residents' side of the demo community: a service directory like the one Qianjinxiang
printed, grid leaders' phones, a notice, a pass for everyone, and one consent."""

from __future__ import annotations

from django.utils import timezone

from shouwang.accounts.models import Role, User
from shouwang.registry.models import CareTag, Community, Household, Resident
from shouwang.residents import services
from shouwang.residents.models import DirectoryEntry, Notice

DIRECTORY = [
    ("committee", "华美社区居委会", "021-6221 0110", "华美路88号", None, "8:00–20:00"),
    ("hotline", "社区24小时值班", "021-6221 0119", "", None, "24小时"),
    ("pharmacy", "益丰大药房（华美店）", "021-6221 3301", "华美路102号", 180, "8:00–22:00"),
    ("pharmacy", "老百姓大药房", "021-6221 3302", "新虹路15号", 650, "9:00–21:00"),
    ("supermarket", "松林超市", "021-6221 4401", "华美路120号", 260, "7:00–21:00"),
    ("supermarket", "联华快客", "021-6221 4402", "新虹路33号", 720, "24小时"),
    ("clinic", "华漕社区卫生服务中心", "021-6221 5501", "华漕路1号", 900, "8:00–17:00"),
    ("hospital", "闵行区中心医院 急诊", "021-6492 3400", "莘庄镇", None, "24小时"),
]


def demo_residents(community: Community, *, log=print) -> None:
    for i, (kind, name, phone, address, distance, hours) in enumerate(DIRECTORY):
        DirectoryEntry.objects.create(
            community=community,
            kind=kind,
            name=name,
            phone=phone,
            address=address,
            distance_m=distance,
            hours=hours,
            sort=i,
        )
    for i, leader in enumerate(
        User.objects.filter(community=community, role=Role.GRID_LEADER).order_by("id"), 1
    ):
        leader.work_phone = f"138 2100 {i:04d}"
        leader.save(update_fields=["work_phone"])
    admin = User.objects.filter(community=community, role=Role.ADMIN).first()
    Notice.objects.create(
        community=community,
        title="明日全员核酸检测",
        body="明天（周一）7:00–11:00 在各小区大门内采样点进行全员核酸检测。"
        "请携带通行码或身份证，保持两米间距。行动不便的居民请联系网格长上门采样。",
        created_by=admin,
    )
    residents = Resident.objects.filter(community=community).exclude(presence="moved_out")
    services.pass_ensure(actor=admin, residents=residents)
    # An 80-year-old living alone, whose building volunteer may act for her.
    elder = (
        Resident.objects.filter(community=community, household__size=1)
        .with_tag(CareTag.AGE_80)
        .order_by("id")
        .first()
    )
    volunteer = User.objects.filter(community=community, role=Role.VOLUNTEER).first()
    if elder is not None and volunteer is not None:
        services.consent_grant(
            actor=admin,
            household=elder.household,
            relation="building_volunteer",
            granted_on=timezone.localdate(),
            proxy_user=volunteer,
            note="楼栋志愿者代为取号、下单",
        )
    log(f"{community.code}: {residents.count()} passes, {len(DIRECTORY)} directory entries")


def demo_link(community: Community) -> str | None:
    """A household link of the demo community, for `make run` to print."""
    h = Household.objects.filter(community=community, size__gte=3).order_by("id").first()
    if h is None:
        return None
    admin = User.objects.filter(community=community, role=Role.ADMIN).first()
    return services.link_issue(actor=admin, household=h, replace=False)[1]
