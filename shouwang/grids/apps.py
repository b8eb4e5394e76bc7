from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "shouwang.grids"
    label = "grids"
