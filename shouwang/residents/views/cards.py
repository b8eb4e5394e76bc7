from django.http import Http404


def cards(request):  # placeholder: being written
    raise Http404
