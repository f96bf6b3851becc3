from django.urls import path

from . import views

app_name = "pets_app"

urlpatterns = [
    path("", views.pet_list, name="pet_list"),
    path("pet/<int:pk>/", views.pet_detail, name="pet_detail"),
]
