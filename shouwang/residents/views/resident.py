from django.http import Http404


def _todo(request, pk=None, token=None):
    raise Http404


proxy_list = link_open = home = household = signout = elder = _todo
