from django.urls import path

from shouwang.registry import views

app_name = "registry"
urlpatterns = [
    path("overview/", views.overview, name="overview"),
    path("residents/", views.search, name="search"),
    path("residents/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("households/new/", views.household_new, name="household_new"),
    path("households/<int:pk>/", views.household, name="household"),
    path("households/<int:pk>/members/new/", views.member_add, name="member_add"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("import/", views.import_view, name="import"),
    path("export/", views.export_view, name="export"),
    path("district/", views.rollup, name="rollup"),
    path("audit/", views.audit_log, name="audit"),
]
