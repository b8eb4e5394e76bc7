from django.urls import path

from shouwang.supplies.relief import views

app_name = "relief"
urlpatterns = [
    path("relief/", views.index, name="index"),
    path("relief/new/", views.batch_edit, name="batch_new"),
    path("relief/<int:pk>/", views.batch_detail, name="batch"),
    path("relief/<int:pk>/edit/", views.batch_edit, name="batch_edit"),
    path("relief/<int:pk>/preview/", views.preview, name="preview"),
    path("relief/<int:pk>/issue/", views.issue, name="issue"),
    path("relief/<int:pk>/recount/", views.recount, name="recount"),
    path("relief/<int:pk>/recount/issue/", views.recount_issue, name="recount_issue"),
    path("relief/<int:pk>/close/", views.close, name="close"),
    path("relief/<int:pk>/undelivered/", views.undelivered, name="undelivered"),
    path("relief/<int:pk>/grids/<int:grid_pk>/", views.grid_page, name="grid"),
    path("relief/<int:pk>/grids/<int:grid_pk>/print/", views.grid_print, name="print"),
    path("relief/<int:pk>/grids/<int:grid_pk>/list.xlsx", views.grid_export, name="xlsx"),
    path("relief/<int:pk>/grids/<int:grid_pk>/scan/", views.grid_scan, name="scan"),
    path("relief/allocations/<int:pk>/record/", views.record, name="record"),
    path("relief/allocations/<int:pk>/follow-up/", views.follow_up, name="follow_up"),
]
