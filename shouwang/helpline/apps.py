from django.apps import AppConfig


class HelplineConfig(AppConfig):
    name = "shouwang.helpline"
    label = "helpline"
    verbose_name = "Help line"

    def ready(self):
        from shouwang.helpline import sections  # noqa: F401  (household-page sections)
