from django.contrib import admin

from .models import StockItem, Warehouse

admin.site.register(Warehouse)
admin.site.register(StockItem)
