from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("sales/", views.sales_summary, name="sales-summary"),
    path("primes/", views.primes, name="primes"),
]
