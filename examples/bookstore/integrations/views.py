from django.http import JsonResponse
from django.views.decorators.http import require_GET

from .clients import ServiceError, ShippingQuoteClient


@require_GET
def shipping_quote(request):
    country = request.GET.get("country", "")
    try:
        weight = int(request.GET.get("weight", "500"))
        price = ShippingQuoteClient().quote(country, weight)
    except (ValueError, ServiceError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"country": country.upper(), "weight": weight, "price": str(price)})
