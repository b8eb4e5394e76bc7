"""Help line API (being built)."""

from ninja import Router

router = Router()
