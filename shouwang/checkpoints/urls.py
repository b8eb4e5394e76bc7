"""The checkpoints app's pages. Each views module lists its own URL patterns (`urlpatterns`)."""

from shouwang.checkpoints.views import (
    dashboard,
    duty,
    gates,
    guard,
    paper,
    parcels,
    roster,
    visitors,
)

app_name = "checkpoints"
urlpatterns = [
    *dashboard.urlpatterns,
    *gates.urlpatterns,
    *roster.urlpatterns,
    *duty.urlpatterns,
    *guard.urlpatterns,
    *visitors.urlpatterns,
    *parcels.urlpatterns,
    *paper.urlpatterns,
]
