from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "shouwang.residents"
    label = "residents"
    verbose_name = "Residents' side"

    def ready(self):
        from shouwang.residents import sections  # noqa: F401  (registers the built-in sections)
