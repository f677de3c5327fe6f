from django.db.models import Count
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET

from .models import Book, Category


@require_GET
def category_list(request):
    categories = Category.objects.annotate(book_count=Count("books")).order_by("name")
    data = [{"name": c.name, "slug": c.slug, "books": c.book_count} for c in categories]
    return JsonResponse({"categories": data})


@require_GET
def book_list(request):
    books = Book.objects.available().select_related("category").prefetch_related("authors")
    if category := request.GET.get("category"):
        books = books.in_category(category)
    return JsonResponse({"books": [book.as_dict() for book in books]})


@require_GET
def book_detail(request, isbn):
    try:
        book = Book.objects.select_related("category").get(isbn=isbn)
    except Book.DoesNotExist:
        raise Http404("No such book") from None
    return JsonResponse(book.as_dict())
