from django.http import Http404


def _todo(request, pk=None):
    raise Http404


passes = pass_revoke = pass_issue = link_issue = link_revoke = link_send = _todo
consent_add = consent_revoke = notices = notice_withdraw = _todo
