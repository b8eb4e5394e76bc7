"""Care pages. Each views module lists its own URL patterns."""

from shouwang.care.views import pairing, people

app_name = "care"
urlpatterns = [*people.urlpatterns, *pairing.urlpatterns]
