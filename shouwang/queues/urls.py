from django.urls import path

from shouwang.queues.views import goods, public, report, staff, stream

app_name = "queues"
urlpatterns = [
    # --- staff ---
    path("queue/", staff.index, name="index"),
    path("queue/points/new/", staff.point_edit, name="point_new"),
    path("queue/points/<int:pk>/edit/", staff.point_edit, name="point_edit"),
    path("queue/days/new/", staff.day_edit, name="day_new"),
    path("queue/days/<int:pk>/", staff.day_detail, name="day"),
    path("queue/days/<int:pk>/edit/", staff.day_edit, name="day_edit"),
    path("queue/days/<int:pk>/close/", staff.day_close, name="day_close"),
    path("queue/days/<int:pk>/draw/", staff.day_draw, name="day_draw"),
    path("queue/days/<int:pk>/call/", staff.console, name="console"),
    path("queue/days/<int:pk>/call/<str:action>/", staff.console_action, name="console_action"),
    path("queue/days/<int:pk>/issue/", staff.issue, name="issue"),
    path("queue/days/<int:pk>/tickets/", staff.tickets, name="tickets"),
    path("queue/days/<int:pk>/knock/", staff.knock, name="knock"),
    path("queue/tickets/<int:pk>/print/", staff.ticket_print, name="ticket_print"),
    path("queue/tickets/<int:pk>/cancel/", staff.ticket_cancel, name="ticket_cancel"),
    path("queue/tickets/<int:pk>/knocked/", staff.ticket_knocked, name="ticket_knocked"),
    path("queue/days/<int:pk>/goods/", goods.goods_list, name="goods"),
    path("queue/goods/<int:pk>/edit/", goods.goods_edit, name="goods_edit"),
    path("queue/goods/<int:pk>/sold-out/", goods.goods_sold_out, name="goods_sold_out"),
    path("queue/goods/<int:pk>/delete/", goods.goods_delete, name="goods_delete"),
    path("queue/days/<int:pk>/report/", report.report, name="report"),
    path("queue/days/<int:pk>/report.xlsx", report.report_xlsx, name="report_xlsx"),
    # --- residents (household page session) ---
    path("my/households/<int:hh>/queue/<int:pk>/take/", public.take, name="take"),
    path("my/households/<int:hh>/queue/tickets/<int:pk>/cancel/", public.cancel, name="cancel"),
    # --- public: no login, numbers only ---
    path("q/t/<str:key>/", public.ticket, name="ticket"),
    path("q/t/<str:key>/state", public.ticket_state, name="ticket_state"),
    path("q/photo/<int:pk>/<str:digest>.jpg", goods.photo, name="photo"),
    path("q/stream/<str:key>/", stream.stream, name="stream"),
    path("q/<str:key>/", public.day, name="public"),
    path("q/<str:key>/state", public.day_state, name="public_state"),
    path("q/<str:key>/board/", public.board, name="board"),
    path("q/<str:key>/poster/", public.poster, name="poster"),
    path("q/<str:key>/draw/", public.draw, name="draw"),
    path("q/<str:key>/draw.txt", public.draw_txt, name="draw_txt"),
]
