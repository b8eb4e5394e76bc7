from django.apps import AppConfig


class BuyingConfig(AppConfig):
    name = "shouwang.supplies.buying"
    label = "buying"
    verbose_name = "Group buying"

    def ready(self):
        from shouwang.supplies.buying import sections  # noqa: F401  (household-page sections)
