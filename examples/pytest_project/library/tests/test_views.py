"""Views through the test client, the request factory and admin_client."""

import pytest
from django.urls import reverse

from library.views import book_list

pytestmark = pytest.mark.django_db


def test_book_list_json(client, make_book):
    make_book(title="Kindred")
    make_book(title="Cosmos", genre="science")
    response = client.get(reverse("book-list"))
    assert response.status_code == 200
    assert [b["title"] for b in response.json()["books"]] == ["Cosmos", "Kindred"]


@pytest.mark.parametrize("genre, titles", [("science", ["Cosmos"]), ("poetry", [])])
def test_book_list_filter(rf, make_book, genre, titles):
    make_book(title="Cosmos", genre="science")
    response = book_list(rf.get("/library/books/", {"genre": genre}))
    assert response.status_code == 200
    import json

    assert [b["title"] for b in json.loads(response.content)["books"]] == titles


def test_detail_needs_login(client, make_book):
    book = make_book()
    response = client.get(reverse("book-detail", args=[book.pk]))
    assert response.status_code == 302


def test_detail_for_admin(admin_client, make_book):
    book = make_book(copies=2)
    response = admin_client.get(reverse("book-detail", args=[book.pk]))
    assert response.json() == {"title": "Kindred", "available": 2}


def test_admin_changelist(admin_client, make_book):
    make_book(title="Ficciones")
    response = admin_client.get("/admin/library/book/")
    assert response.status_code == 200
    assert b"Ficciones" in response.content
