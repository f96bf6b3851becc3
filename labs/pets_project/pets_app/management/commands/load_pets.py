"""Load the sample pets and store their pictures in the media storage.

The rows come from fixtures/pets.json (fixed primary keys, so loading again
updates them instead of adding copies). Each picture is then written through
the pet's ImageField, which means through whatever storage STORAGES["default"]
names: a local folder by default, the S3 bucket once django-storages is
configured. A picture already present in the storage is left alone unless
--force is given, so the command can run any number of times.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from pets_app.models import Pet

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FIXTURE_FILE = FIXTURES / "pets.json"
PICTURES = FIXTURES / "pictures"


class Command(BaseCommand):
    help = "Load the sample pets, vaccination cards and vet visits, and upload their pictures."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Upload every picture again, even when the storage already has it.",
        )
        parser.add_argument(
            "--no-pictures",
            action="store_true",
            help="Load the rows only; do not touch the media storage.",
        )

    def handle(self, *args, force=False, no_pictures=False, **options):
        call_command("loaddata", str(FIXTURE_FILE), verbosity=options["verbosity"])
        if no_pictures:
            return

        with FIXTURE_FILE.open(encoding="utf-8") as f:
            records = json.load(f)
        pictures = {
            record["pk"]: record["fields"]["picture"]
            for record in records
            if record["model"] == "pets_app.pet" and record["fields"].get("picture")
        }

        storage = Pet._meta.get_field("picture").storage
        uploaded = kept = 0
        for pk, name in sorted(pictures.items()):
            source = PICTURES / name
            if not source.is_file():
                raise CommandError(f"picture {source} named in {FIXTURE_FILE.name} is missing")
            pet = Pet.objects.get(pk=pk)
            if storage.exists(name) and not force:
                kept += 1
                self.stdout.write(f"{pet.name}: {name} already stored")
                continue
            if force and storage.exists(name):
                storage.delete(name)
            with source.open("rb") as content:
                # save() asks the storage for the final name, writes the file
                # and then saves the pet with that name.
                pet.picture.save(name, File(content, name=name), save=True)
            uploaded += 1
            self.stdout.write(f"{pet.name}: stored {pet.picture.name}")

        self.stdout.write(
            self.style.SUCCESS(
                f"{len(pictures)} pets loaded; {uploaded} pictures uploaded, {kept} already there "
                f"(storage: {settings.STORAGES['default']['BACKEND']})"
            )
        )
