from django.http import Http404


def directory(request):  # placeholder: being written
    raise Http404


def directory_edit(request, pk):
    raise Http404


def directory_delete(request, pk):
    raise Http404
