from django.contrib import admin

from .models import Author, Book, Genre, Loan

admin.site.register([Author, Book, Genre, Loan])
