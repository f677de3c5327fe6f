from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order-list"),
    path("new/", views.order_create, name="order-create"),
    path("shipping/", views.shipping_methods, name="shipping-methods"),
    path("<str:reference>/", views.order_detail, name="order-detail"),
]
