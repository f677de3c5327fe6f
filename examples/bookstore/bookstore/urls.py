from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("catalog/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
    path("accounts/", include("accounts.urls")),
    path("reports/", include("reports.urls")),
    path("integrations/", include("integrations.urls")),
]
