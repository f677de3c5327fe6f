from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from bookstore.http import json_body, json_login_required
from catalog.models import Book

from .models import Order, ShippingMethod
from .services import place_order


def order_as_dict(order):
    return {
        "reference": order.reference,
        "status": order.status,
        "shipping": order.shipping_method.code,
        "lines": [
            {"isbn": line.book.isbn, "quantity": line.quantity, "unit_price": str(line.unit_price)}
            for line in order.lines.all()
        ],
        "total": str(order.total),
    }


@require_GET
@json_login_required
def order_list(request):
    orders = (
        Order.objects.filter(customer=request.user)
        .select_related("shipping_method")
        .prefetch_related("lines__book")
    )
    return JsonResponse({"orders": [order_as_dict(order) for order in orders]})


@require_GET
@json_login_required
def order_detail(request, reference):
    order = get_object_or_404(Order, reference=reference, customer=request.user)
    return JsonResponse(order_as_dict(order))


@require_POST
@json_login_required
def order_create(request):
    data = json_body(request)
    if not data or not isinstance(data.get("items"), dict) or not data["items"]:
        return JsonResponse({"error": "expected {'items': {isbn: quantity}}"}, status=400)
    shipping = None
    if code := data.get("shipping"):
        try:
            shipping = ShippingMethod.objects.get(code=code)
        except ShippingMethod.DoesNotExist:
            return JsonResponse({"error": f"unknown shipping method {code}"}, status=400)
    try:
        order = place_order(request.user, data["items"], shipping_method=shipping)
    except Book.DoesNotExist as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(order_as_dict(order), status=201)


@require_GET
def shipping_methods(request):
    methods = ShippingMethod.objects.all()
    if not methods:
        raise Http404("no shipping methods configured")
    return JsonResponse(
        {
            "methods": [
                {"code": m.code, "name": m.name, "price": str(m.price), "default": m.is_default}
                for m in methods
            ]
        }
    )
