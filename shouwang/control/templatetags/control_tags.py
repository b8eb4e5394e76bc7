"""Template helpers of the area-control pages."""

from django import template

from shouwang.control import levels

register = template.Library()


@register.filter
def level_label(value: str) -> str:
    """ "sealed" → its label (for history lines, whose level_before has no choices)."""
    return levels.label(value) if value else ""
