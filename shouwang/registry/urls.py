from django.urls import path

from shouwang.registry import views

app_name = "registry"
urlpatterns = [
    path("overview/", views.overview, name="overview"),
    path("residents/", views.search, name="search"),
    path("residents/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("households/<int:pk>/", views.household, name="household"),
    path("import/", views.import_view, name="import"),
    path("export/", views.export_view, name="export"),
    path("district/", views.rollup, name="rollup"),
    path("audit/", views.audit_log, name="audit"),
]
