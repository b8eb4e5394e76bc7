"""The volunteers app's pages. Each views module lists its own URL patterns (`urlpatterns`)."""

from shouwang.volunteers.views import grab, hours, index, join, me, people, plans, tasks

app_name = "volunteers"
urlpatterns = [
    *index.urlpatterns,
    *join.urlpatterns,
    *people.urlpatterns,
    *tasks.urlpatterns,
    *grab.urlpatterns,
    *plans.urlpatterns,
    *me.urlpatterns,
    *hours.urlpatterns,
]
