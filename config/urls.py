"""URL routes: the admin and the voice webhooks."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Clarion practice admin"
admin.site.site_title = "Clarion"
admin.site.index_title = "Your practice"
admin.site.site_url = None  # there is no public site: hide "View site"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("voice/", include("voiceagent.urls")),
]
