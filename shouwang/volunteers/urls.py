"""The volunteers app's pages. Each views module lists its own URL patterns (`urlpatterns`)."""

from shouwang.volunteers.views import grab, grab_quick, hours, index, join, me, people, plans, tasks

app_name = "volunteers"
urlpatterns = [
    *index.urlpatterns,
    *join.urlpatterns,
    *people.urlpatterns,
    *tasks.urlpatterns,
    *grab.urlpatterns,
    *grab_quick.urlpatterns,
    *plans.urlpatterns,
    *me.urlpatterns,
    *hours.urlpatterns,
]
