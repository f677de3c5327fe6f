from django.contrib import admin

from .models import Order, OrderLine, ShippingMethod


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "customer", "status", "created_at"]
    list_filter = ["status"]
    inlines = [OrderLineInline]


admin.site.register(ShippingMethod)
