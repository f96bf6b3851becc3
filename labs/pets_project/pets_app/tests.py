"""Smoke tests of the reference project, on SQLite and a temporary media folder.

Run with: DJANGO_DEBUG=1 python manage.py test pets_app
"""

import shutil
import tempfile
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import TestCase, override_settings

from .models import Breed, Pet, VaccinationCard, VetVisit

LAB_TABLES = {
    "pets_app_breed",
    "pets_app_pet",
    "pets_app_pet_breed",
    "pets_app_vaccinationcard",
    "pets_app_vetvisit",
}


class PetsSiteTests(TestCase):
    @classmethod
    def setUpClass(cls):
        cls.media_root = tempfile.mkdtemp(prefix="pets-media-")
        cls.media_override = override_settings(MEDIA_ROOT=cls.media_root)
        cls.media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.media_override.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    def setUp(self):
        call_command("load_pets", stdout=StringIO())

    def test_lab_tables_exist(self):
        self.assertLessEqual(LAB_TABLES, set(connection.introspection.table_names()))

    def test_load_pets_is_idempotent(self):
        out = StringIO()
        call_command("load_pets", stdout=out)
        self.assertIn("0 pictures uploaded", out.getvalue())
        self.assertEqual(Pet.objects.count(), 3)
        self.assertEqual(Breed.objects.count(), 4)
        self.assertEqual(VaccinationCard.objects.count(), 5)
        self.assertEqual(VetVisit.objects.count(), 4)
        for pet in Pet.objects.all():
            self.assertTrue(pet.picture.storage.exists(pet.picture.name), pet.picture.name)

    def test_list_shows_pictures(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<img src="/media/luna.png"')

    def test_detail_page(self):
        pet = Pet.objects.get(name="Bella")
        response = self.client.get(f"/pet/{pet.pk}/")
        self.assertContains(response, '<img src="/media/bella.jpg"')
        self.assertContains(response, "Ear infection")
        self.assertContains(response, "Poodle")

    def test_unknown_pages_are_404(self):
        self.assertEqual(self.client.get("/pet/999/").status_code, 404)
        self.assertEqual(self.client.get("/no-such-page/").status_code, 404)
