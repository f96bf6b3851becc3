"""Data of the pets app: breeds, pets, and each pet's health records."""

from django.db import models
from django.urls import reverse


class Breed(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Pet(models.Model):
    name = models.CharField(max_length=100)
    owner = models.CharField(max_length=100, help_text="Name of the pet's owner.")
    # No upload_to: a picture is stored at the root of the media storage, so
    # its name ("luna.png") is also its S3 object key.
    picture = models.ImageField(blank=True)
    # Named in the singular so that Django's join table is pets_app_pet_breed,
    # the table the lab expects; a pet may still have several breeds.
    breed = models.ManyToManyField(Breed, blank=True, related_name="pets", verbose_name="breeds")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("pets_app:pet_detail", args=[self.pk])


class VaccinationCard(models.Model):
    pet = models.ForeignKey(Pet, on_delete=models.CASCADE, related_name="vaccinations")
    vaccine = models.CharField(max_length=100)
    date = models.DateField(help_text="Day the vaccine was given.")
    next_due = models.DateField(null=True, blank=True, help_text="Day the booster is due, if any.")
    veterinarian = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self):
        return f"{self.pet}: {self.vaccine} ({self.date})"


class VetVisit(models.Model):
    pet = models.ForeignKey(Pet, on_delete=models.CASCADE, related_name="visits")
    date = models.DateField()
    reason = models.CharField(max_length=200)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self):
        return f"{self.pet}: {self.reason} ({self.date})"
