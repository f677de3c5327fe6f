from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("shipping-quote/", views.shipping_quote, name="shipping-quote"),
]
