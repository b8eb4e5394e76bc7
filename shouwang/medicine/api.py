"""/api/v1/medicine/ (being built)."""

from ninja import Router

router = Router(tags=["medicine"])
