from django.db.models import F, Sum
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from orders.models import Order, OrderLine

from .analytics import primes_up_to


@require_GET
def sales_summary(request):
    lines = OrderLine.objects.exclude(order__status=Order.Status.CANCELLED)
    by_category = (
        lines.values(category=F("book__category__slug"))
        .annotate(copies=Sum("quantity"))
        .order_by("category")
    )
    return JsonResponse(
        {
            "orders": Order.objects.exclude(status=Order.Status.CANCELLED).count(),
            "copies": lines.aggregate(total=Sum("quantity"))["total"] or 0,
            "by_category": {row["category"]: row["copies"] for row in by_category},
        }
    )


@require_GET
def primes(request):
    try:
        limit = int(request.GET.get("limit", "100"))
    except ValueError:
        return JsonResponse({"error": "limit must be an integer"}, status=400)
    if not 0 <= limit <= 1_000_000:
        return JsonResponse({"error": "limit out of range"}, status=400)
    found = primes_up_to(limit)
    return JsonResponse(
        {"limit": limit, "count": len(found), "largest": found[-1] if found else None}
    )
