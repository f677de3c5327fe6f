from django.db import transaction
from django.db.models import F
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from .models import Counter


def show(request, name):
    counter = get_object_or_404(Counter, name=name)
    return JsonResponse({"name": counter.name, "value": counter.value})


@require_POST
def hit_read_modify_write(request, name):
    """THE BUG. Read the value, add one in Python, write it back: two requests that both read
    5 both write 6, and one hit is lost. Every sequential test passes."""
    counter = get_object_or_404(Counter, name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return JsonResponse({"name": counter.name, "value": counter.value})


@require_POST
def hit_select_for_update(request, name):
    """Fix 1: lock the row (SELECT ... FOR UPDATE) until the transaction commits; a second
    request waits for the first and then reads its result."""
    with transaction.atomic():
        counter = get_object_or_404(Counter.objects.select_for_update(), name=name)
        counter.value += 1
        counter.save(update_fields=["value"])
    return JsonResponse({"name": counter.name, "value": counter.value})


@require_POST
def hit_f_expression(request, name):
    """Fix 2: let the database add one (UPDATE ... SET value = value + 1): one statement, no
    window between the read and the write."""
    if not Counter.objects.filter(name=name).update(value=F("value") + 1):
        raise Http404(f"no counter {name!r}")
    return JsonResponse({"name": name, "counted": True})
