"""Grids (网格): sets of buildings, each with a leader and members, the unit of day-to-day work."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Grid(models.Model):
    community = models.ForeignKey(
        "registry.Community", on_delete=models.CASCADE, related_name="grids"
    )
    name = models.CharField(_("name"), max_length=50)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("grid leader"),
    )
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("grid")
        ordering = ["sort", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")
        ]

    def __str__(self):
        return self.name
