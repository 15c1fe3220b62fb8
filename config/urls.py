"""URL routes: the admin and the voice webhooks."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("voice/", include("voiceagent.urls")),
]
