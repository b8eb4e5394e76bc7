from django.http import Http404


def signin(request):  # placeholder: being written
    raise Http404


def verify(request):
    raise Http404
