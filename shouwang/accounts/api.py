from ninja import Router, Schema

from shouwang.accounts.permissions import CAPABILITIES, can

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    community: str | None
    community_code: str | None
    grid: str | None
    capabilities: list[str]


@router.get("/me", response=MeOut, summary="Who am I, and what may I do")
def me(request):
    u = request.auth
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.label,
        "role": u.role,
        "community": u.community.name if u.community_id else None,
        "community_code": u.community.code if u.community_id else None,
        "grid": u.grid.name if u.grid_id else None,
        "capabilities": sorted(c for c in CAPABILITIES if can(u, c)),
    }
