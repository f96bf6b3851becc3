from django.shortcuts import get_object_or_404, render

from .models import Pet


def pet_list(request):
    pets = Pet.objects.prefetch_related("breed")
    return render(request, "pets_app/pet_list.html", {"pets": pets})


def pet_detail(request, pk):
    pet = get_object_or_404(Pet.objects.prefetch_related("breed"), pk=pk)
    return render(
        request,
        "pets_app/pet_detail.html",
        {
            "pet": pet,
            "vaccinations": pet.vaccinations.all(),
            "visits": pet.visits.all(),
        },
    )
