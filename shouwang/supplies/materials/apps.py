from django.apps import AppConfig


class MaterialsConfig(AppConfig):
    name = "shouwang.supplies.materials"
    label = "materials"
    verbose_name = "Materials store"
