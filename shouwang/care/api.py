"""/api/v1/care/ (being built)."""

from ninja import Router

router = Router(tags=["care"])
