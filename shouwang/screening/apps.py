from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "shouwang.screening"
    label = "screening"
    verbose_name = "Test rounds"

    def ready(self):
        from shouwang.screening import sections  # noqa: F401  (household-page sections)
