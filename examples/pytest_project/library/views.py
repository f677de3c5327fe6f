from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from .models import Book


def book_list(request):
    books = Book.objects.select_related("author", "genre")
    genre = request.GET.get("genre")
    if genre:
        books = books.filter(genre__slug=genre)
    return JsonResponse(
        {
            "books": [
                {"title": b.title, "author": b.author.name, "genre": b.genre.slug} for b in books
            ]
        }
    )


@login_required
def book_detail(request, pk):
    book = get_object_or_404(Book, pk=pk)
    return JsonResponse({"title": book.title, "available": book.available})
