from django.contrib import admin

from .models import Breed, Pet, VaccinationCard, VetVisit


@admin.register(Breed)
class BreedAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class VaccinationCardInline(admin.TabularInline):
    model = VaccinationCard
    extra = 0


class VetVisitInline(admin.TabularInline):
    model = VetVisit
    extra = 0


@admin.register(Pet)
class PetAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "picture"]
    search_fields = ["name", "owner"]
    list_filter = ["breed"]
    filter_horizontal = ["breed"]
    inlines = [VaccinationCardInline, VetVisitInline]


@admin.register(VaccinationCard)
class VaccinationCardAdmin(admin.ModelAdmin):
    list_display = ["pet", "vaccine", "date", "next_due"]
    list_filter = ["vaccine"]
    date_hierarchy = "date"


@admin.register(VetVisit)
class VetVisitAdmin(admin.ModelAdmin):
    list_display = ["pet", "date", "reason"]
    search_fields = ["reason", "notes"]
    date_hierarchy = "date"
