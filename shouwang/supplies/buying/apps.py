from django.apps import AppConfig


class BuyingConfig(AppConfig):
    name = "shouwang.supplies.buying"
    label = "buying"
    verbose_name = "Group buying"
