from django.apps import AppConfig


class CheckpointsConfig(AppConfig):
    name = "shouwang.checkpoints"
    label = "checkpoints"
    verbose_name = "Checkpoints"

    def ready(self):
        from shouwang.checkpoints import sections  # noqa: F401  (household-page sections)
