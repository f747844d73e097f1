from django.urls import path

from videos import apis

# Reading, editing and listing videos answer with cards that carry the viewer's flags:
# those routes are in ``activity.urls``.
urlpatterns = [
    path("videos", apis.VideoCreateApi.as_view(), name="video-create"),
]
