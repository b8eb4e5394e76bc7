"""The screening app's pages. Each views module lists its own URL patterns (`urlpatterns`)."""

from shouwang.screening.views import antigen, coverage, results, rounds, sampling, scan, visits

app_name = "screening"
urlpatterns = [
    *rounds.urlpatterns,
    *results.urlpatterns,
    *visits.urlpatterns,
    *sampling.urlpatterns,
    *scan.urlpatterns,
    *coverage.urlpatterns,
    *antigen.urlpatterns,
]
