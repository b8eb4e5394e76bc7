from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shouwang.accounts"
    label = "accounts"
