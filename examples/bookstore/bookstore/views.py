from django.db import connections
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def health(request):
    return JsonResponse(
        {
            "service": "bookstore",
            "status": "ok",
            "databases": {alias: connections[alias].vendor for alias in connections},
        }
    )
