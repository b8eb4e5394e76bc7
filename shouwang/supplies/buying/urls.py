from django.urls import path

from shouwang.supplies.buying.views import delivery, merchant, resident, staff

app_name = "buying"
urlpatterns = [
    # --- staff ---
    path("buying/", staff.index, name="index"),
    path("buying/merchants/new/", staff.merchant_edit, name="merchant_new"),
    path("buying/merchants/<int:pk>/", staff.merchant_detail, name="merchant"),
    path("buying/merchants/<int:pk>/edit/", staff.merchant_edit, name="merchant_edit"),
    path("buying/merchants/<int:pk>/members/", staff.member_add, name="member_add"),
    path("buying/members/<int:pk>/remove/", staff.member_remove, name="member_remove"),
    path("buying/merchants/<int:pk>/schedule/", staff.merchant_schedule, name="schedule"),
    path(
        "buying/merchants/<int:merchant_pk>/products/new/",
        staff.product_edit,
        name="product_new",
    ),
    path("buying/products/<int:pk>/edit/", staff.product_edit, name="product_edit"),
    path("buying/merchants/<int:pk>/windows/new/", staff.window_new, name="window_new"),
    path("buying/windows/<int:pk>/", staff.window_detail, name="window"),
    path("buying/windows/<int:pk>/close/", staff.window_close, name="window_close"),
    path("buying/windows/<int:pk>/phone/", staff.phone_order, name="phone_order"),
    path("buying/orders/<int:pk>/payment/", staff.order_payment, name="order_payment"),
    path("buying/orders/<int:pk>/cancel/", staff.order_cancel, name="order_cancel"),
    path("buying/photo/<int:pk>/<str:digest>.jpg", staff.photo, name="photo"),
    # --- the delivery chain (buying.deliver; problems: buying.order) ---
    path("buying/delivery/", delivery.home, name="delivery_home"),
    path("buying/windows/<int:pk>/delivery/", delivery.board, name="delivery"),
    path("buying/windows/<int:pk>/delivery/step/", delivery.step, name="delivery_step"),
    path("buying/windows/<int:pk>/delivery/rest/", delivery.rest, name="delivery_rest"),
    path("buying/windows/<int:pk>/delivery/code/", delivery.confirm_code, name="delivery_code"),
    path(
        "buying/windows/<int:pk>/delivery/buildings/<int:building_pk>/",
        delivery.building,
        name="delivery_building",
    ),
    path(
        "buying/windows/<int:pk>/delivery/buildings/<int:building_pk>/arrived/",
        delivery.building_arrived,
        name="delivery_arrived",
    ),
    path("buying/orders/<int:pk>/delivered/", delivery.delivered, name="delivery_door"),
    path("buying/orders/<int:pk>/problem/", delivery.problem, name="delivery_problem"),
    path("buying/problems/", delivery.problems, name="problems"),
    path("buying/problems/<int:pk>/resolve/", delivery.problem_resolve, name="problem_resolve"),
    # --- residents (household page session, or a proxy with consent) ---
    path("my/households/<int:hh>/buying/<int:pk>/order/", resident.place, name="place"),
    path("my/households/<int:hh>/buying/orders/<int:pk>/cancel/", resident.cancel, name="cancel"),
    path(
        "my/households/<int:hh>/buying/orders/<int:pk>/received/",
        resident.received,
        name="received",
    ),
    path(
        "my/households/<int:hh>/buying/orders/<int:pk>/problem/", resident.problem, name="problem"
    ),
    # --- the merchant's side ---
    path("merchant/", merchant.home, name="merchant_home"),
    path("merchant/windows/<int:pk>/", merchant.window, name="merchant_window"),
    path("merchant/windows/<int:pk>/picking/", merchant.picking, name="merchant_picking"),
    path(
        "merchant/windows/<int:pk>/picking.xlsx",
        merchant.picking_xlsx,
        name="merchant_picking_xlsx",
    ),
    path("merchant/windows/<int:pk>/slips/", merchant.slips, name="merchant_slips"),
    path("merchant/orders/<int:pk>/payment/", merchant.payment, name="merchant_payment"),
    path("merchant/windows/<int:pk>/dispatch/", merchant.dispatch, name="merchant_dispatch"),
]
