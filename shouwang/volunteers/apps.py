from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "shouwang.volunteers"
    label = "volunteers"
    verbose_name = "Volunteers"
