"""Medicine pages. Each views module lists its own URL patterns."""

from shouwang.medicine.views import needs

app_name = "medicine"
urlpatterns = [*needs.urlpatterns]
