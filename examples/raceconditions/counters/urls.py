from django.urls import path

from . import views

urlpatterns = [
    path("<slug:name>/", views.show, name="show"),
    # The same counter, counted three ways: the bug and its two fixes.
    path("<slug:name>/hit/read-modify-write/", views.hit_read_modify_write, name="hit-naive"),
    path("<slug:name>/hit/select-for-update/", views.hit_select_for_update, name="hit-locked"),
    path("<slug:name>/hit/f-expression/", views.hit_f_expression, name="hit-atomic"),
]
