"""Small helpers shared by the JSON views."""

import functools
import json

from django.http import JsonResponse


def json_login_required(view):
    """Like ``login_required``, but answer 401 with a JSON body instead of redirecting."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "authentication required"}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


def json_body(request):
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
