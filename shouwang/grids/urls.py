from django.urls import path

from shouwang.grids import views

app_name = "grids"
urlpatterns = [
    path("", views.grid_list, name="list"),
    path("<int:pk>/", views.grid_detail, name="detail"),
]
