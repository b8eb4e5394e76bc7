from django.http import Http404


def scan(request):  # placeholder: being written
    raise Http404
