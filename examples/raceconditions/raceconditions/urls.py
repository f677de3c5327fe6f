from django.urls import include, path

urlpatterns = [
    path("counters/", include("counters.urls")),
]
