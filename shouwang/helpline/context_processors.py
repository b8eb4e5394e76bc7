"""Urgent requests on every page for everyone on duty (being built)."""


def urgent(request):
    return {}
