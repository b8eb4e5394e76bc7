from django.urls import path

from shouwang.supplies.materials import views

app_name = "materials"
urlpatterns = [
    path("materials/", views.index, name="index"),
    path("materials/items/new/", views.item_edit, name="item_new"),
    path("materials/items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("materials/places/new/", views.location_edit, name="location_new"),
    path("materials/places/<int:pk>/edit/", views.location_edit, name="location_edit"),
    path("materials/receive/", views.receive, name="receipt"),
    path("materials/issue/", views.issue, name="issue"),
    path("materials/transfer/", views.transfer, name="transfer"),
    path("materials/movements/", views.movements, name="movements"),
    path("materials/movements.xlsx", views.movements_xlsx, name="movements_xlsx"),
    path("materials/stock-takes/", views.stocktake_new, name="stocktake_new"),
    path("materials/stock-takes/<int:pk>/", views.stocktake, name="stocktake"),
    path("materials/stock-takes/<int:pk>/finish/", views.stocktake_finish, name="stocktake_finish"),
]
