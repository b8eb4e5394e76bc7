from django.apps import AppConfig


class MedicineConfig(AppConfig):
    name = "shouwang.medicine"
    label = "medicine"
    verbose_name = "Medicine"

    def ready(self):
        from shouwang.medicine import sections  # noqa: F401  (household-page sections)
