from django.http import JsonResponse
from django.views.decorators.http import require_GET

from bookstore.http import json_login_required


@require_GET
@json_login_required
def me(request):
    user = request.user
    profile = user.profile
    return JsonResponse(
        {
            "username": user.get_username(),
            "name": profile.public_name,
            "newsletter": profile.newsletter,
            "loyalty_points": profile.loyalty_points,
            "addresses": [str(address) for address in user.addresses.all()],
        }
    )
