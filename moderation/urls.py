from django.urls import path

from moderation import apis

urlpatterns = [
    path("videos/<str:video_id>/report", apis.VideoReportApi.as_view(), name="video-report"),
    path("comments/<int:comment_id>/report", apis.CommentReportApi.as_view(), name="comment-report"),
]
