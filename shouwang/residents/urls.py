from django.urls import path

from shouwang.residents.views import cards, directory, resident, scan, signin, staff

app_name = "residents"
urlpatterns = [
    # --- staff ---
    path("passes/", staff.passes, name="passes"),
    path("passes/cards/", cards.cards, name="cards"),
    path("passes/scan/", scan.scan, name="scan"),
    path("passes/<int:pk>/revoke/", staff.pass_revoke, name="pass_revoke"),
    path("residents/<int:pk>/pass/", staff.pass_issue, name="pass_issue"),
    path("households/<int:pk>/link/", staff.link_issue, name="link_issue"),
    path("households/<int:pk>/link/revoke/", staff.link_revoke, name="link_revoke"),
    path("households/<int:pk>/link/send/", staff.link_send, name="link_send"),
    path("households/<int:pk>/consents/new/", staff.consent_add, name="consent_add"),
    path("consents/<int:pk>/revoke/", staff.consent_revoke, name="consent_revoke"),
    path("directory/", directory.directory, name="directory"),
    path("directory/<int:pk>/edit/", directory.directory_edit, name="directory_edit"),
    path("directory/<int:pk>/delete/", directory.directory_delete, name="directory_delete"),
    path("notices/", staff.notices, name="notices"),
    path("notices/<int:pk>/withdraw/", staff.notice_withdraw, name="notice_withdraw"),
    path("proxy/", resident.proxy_list, name="proxy_list"),
    # --- residents (no password) ---
    path("h/<str:token>/", resident.link_open, name="link_open"),
    path("my/", resident.home, name="my"),
    path("my/households/<int:pk>/", resident.household, name="my_household"),
    path("my/signin/", signin.signin, name="signin"),
    path("my/signin/code/", signin.verify, name="signin_code"),
    path("my/signout/", resident.signout, name="signout"),
    path("my/elder/", resident.elder, name="elder"),
]
