from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "shouwang.care"
    label = "care"
    verbose_name = "Care for vulnerable residents"

    def ready(self):
        from shouwang.care import sections  # noqa: F401  (household-page sections)
