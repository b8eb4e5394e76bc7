"""What every part of the checkpoints app shares: the community's policy."""

from __future__ import annotations

from shouwang.checkpoints.models import Policy


def policy_for(community_id: int) -> Policy:
    """The community's gate and roster policy, made with the defaults the first time."""
    policy, _ = Policy.objects.get_or_create(community_id=community_id)
    return policy
