"""The help line's pages. Each views module lists its own URL patterns (`urlpatterns`)."""

from shouwang.helpline.views import answers, intake, ledger, shifts, stats

app_name = "helpline"
urlpatterns = [
    *ledger.urlpatterns,
    *intake.urlpatterns,
    *shifts.urlpatterns,
    *answers.urlpatterns,
    *stats.urlpatterns,
]
