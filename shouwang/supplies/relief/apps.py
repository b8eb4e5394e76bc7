from django.apps import AppConfig


class ReliefConfig(AppConfig):
    name = "shouwang.supplies.relief"
    label = "relief"
    verbose_name = "Relief distribution"
