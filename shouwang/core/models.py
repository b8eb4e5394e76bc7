"""The audit trail: append-only, written by services in the same transaction as the change."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    def for_community(self, community_id):
        return self.filter(community_id=community_id)

    def update(self, **kwargs):  # pragma: no cover - guarded by test_audit
        raise TypeError("audit events are append-only")

    def delete(self):
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """Who did what, to what, when and from where.

    `summary` never holds an ID number or a phone: it is read by people who may not see them.
    A full-value reveal records the field and the reason the user gave.
    """

    # No index of its own: audit_community_at leads with it.
    community = models.ForeignKey(
        "registry.Community",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target"), max_length=64, blank=True)
    field = models.CharField(_("field"), max_length=32, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    # No index of its own: the log is read by community, newest first (audit_community_at).
    at = models.DateTimeField(_("time"), default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["community", "-at"], name="audit_community_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")
