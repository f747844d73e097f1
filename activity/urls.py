from django.urls import path

from activity import apis, notification_apis, relation_apis, search_apis

urlpatterns = [
    path("users/<str:username>", apis.UserDetailApi.as_view(), name="user-detail"),
    path("users/<str:username>/videos", apis.UserVideoListApi.as_view(), name="user-videos"),
    path("me/videos", apis.MyVideoListApi.as_view(), name="my-videos"),
    path("videos/<str:video_id>", apis.VideoDetailApi.as_view(), name="video-detail"),
    path("videos/<str:video_id>/complete", apis.VideoCompleteApi.as_view(), name="video-complete"),
    path("users/<str:username>/follow", apis.FollowApi.as_view(), name="user-follow"),
    path("users/<str:username>/followers", apis.FollowersApi.as_view(), name="user-followers"),
    path("users/<str:username>/following", apis.FollowingApi.as_view(), name="user-following"),
    path("videos/<str:video_id>/like", apis.LikeApi.as_view(), name="video-like"),
    path("videos/<str:video_id>/favorite", apis.FavoriteApi.as_view(), name="video-favorite"),
    path("videos/<str:video_id>/comments", apis.VideoCommentsApi.as_view(), name="video-comments"),
    path("comments/<int:comment_id>", apis.CommentDeleteApi.as_view(), name="comment-detail"),
    path("me/likes", apis.MyLikesApi.as_view(), name="me-likes"),
    path("me/favorites", apis.MyFavoritesApi.as_view(), name="me-favorites"),
    path("users/<str:username>/block", relation_apis.BlockApi.as_view(), name="user-block"),
    path("users/<str:username>/mute", relation_apis.MuteApi.as_view(), name="user-mute"),
    path("me/blocks", relation_apis.MyBlocksApi.as_view(), name="me-blocks"),
    path("me/mutes", relation_apis.MyMutesApi.as_view(), name="me-mutes"),
    path("notifications", notification_apis.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/unread-count",
        notification_apis.NotificationUnreadCountApi.as_view(),
        name="notifications-unread",
    ),
    path("notifications/read", notification_apis.NotificationReadApi.as_view(), name="notifications-read"),
    path("search", search_apis.SearchApi.as_view(), name="search"),
    path("hashtags/<str:tag>", search_apis.HashtagDetailApi.as_view(), name="hashtag-detail"),
    path("hashtags/<str:tag>/videos", search_apis.HashtagVideosApi.as_view(), name="hashtag-videos"),
]
