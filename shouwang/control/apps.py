from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "shouwang.control"
    label = "control"
    verbose_name = "Area control"

    def ready(self):
        from shouwang.control import sections  # noqa: F401  (household-page sections)
