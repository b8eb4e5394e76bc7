from django.apps import AppConfig


class QueuesConfig(AppConfig):
    name = "shouwang.queues"
    label = "queues"
    verbose_name = "Take-a-number queue"

    def ready(self):
        from shouwang.queues import sections  # noqa: F401  (registers household-page sections)
