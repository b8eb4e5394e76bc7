from django.http import HttpResponse


def stub(*args, **kwargs):
    return HttpResponse("not built yet", status=501)
