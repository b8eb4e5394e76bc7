"""Help line pages (being built)."""

urlpatterns: list = []
