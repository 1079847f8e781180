"""A small Django app in tag mode (integrations/django/recap_tag.py), for tests/e2e/test_73_tag_mode.py.

The notes API every tag-mode example app serves (tests/apps/notes.sql makes the tables):
  POST  /notes               {"title"}  a note and its "created" event, in one transaction   201 {"id", "event"}
  POST  /notes/<id>/events   {"kind"}   one event, autocommit                                201 {"event"}
  PATCH /notes/<id>          {"title"}  the note and an "edited" event, in one transaction   200 {"id", "event"}

Usage: DATABASE_URL=postgresql://user@host:port/db /usr/bin/python3 app.py PORT
"""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "integrations",
                                "django"))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
settings.configure(
    DEBUG=False,
    SECRET_KEY="tag-mode-example",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["recap_tag.RecapTagMiddleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": url.path.lstrip("/"),
                           "USER": url.username or "postgres", "PASSWORD": url.password or "",
                           "HOST": url.hostname, "PORT": str(url.port or 5432)}},
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()

from django.db import models, transaction  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


class Note(models.Model):
    title = models.TextField()

    class Meta:
        app_label = "notes"
        db_table = "notes"
        managed = False


class NoteEvent(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE)
    kind = models.TextField()

    class Meta:
        app_label = "notes"
        db_table = "note_events"
        managed = False


@csrf_exempt
def notes(request):
    body = json.loads(request.body)
    with transaction.atomic():
        note = Note.objects.create(title=body["title"])
        event = NoteEvent.objects.create(note=note, kind="created")
    return JsonResponse({"id": note.id, "event": event.id}, status=201)


@csrf_exempt
def note(request, note_id):
    body = json.loads(request.body)
    with transaction.atomic():
        updated = Note.objects.filter(id=note_id).update(title=body["title"])
        if not updated:
            return JsonResponse({"detail": "no such note"}, status=404)
        event = NoteEvent.objects.create(note_id=note_id, kind="edited")
    return JsonResponse({"id": note_id, "event": event.id})


@csrf_exempt
def events(request, note_id):
    event = NoteEvent.objects.create(note_id=note_id, kind=json.loads(request.body)["kind"])
    return JsonResponse({"event": event.id}, status=201)


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("health", health), path("notes", notes), path("notes/<int:note_id>", note), path("notes/<int:note_id>/events", events)]

if __name__ == "__main__":
    from django.core.servers.basehttp import WSGIRequestHandler, run
    from django.core.wsgi import get_wsgi_application

    WSGIRequestHandler.log_message = lambda *a: None  # quiet
    run("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), threading=True)
