from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("categories/", views.category_list, name="category-list"),
    path("books/", views.book_list, name="book-list"),
    path("books/<str:isbn>/", views.book_detail, name="book-detail"),
]
