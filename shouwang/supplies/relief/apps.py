from django.apps import AppConfig


class ReliefConfig(AppConfig):
    name = "shouwang.supplies.relief"
    label = "relief"
    verbose_name = "Relief distribution"

    def ready(self):
        from shouwang.supplies.relief import sections  # noqa: F401  (household-page sections)
