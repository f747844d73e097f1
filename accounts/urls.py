from django.urls import path

from accounts import apis, avatar_apis

urlpatterns = [
    path("auth/register", apis.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", apis.LoginApi.as_view(), name="auth-login"),
    path("auth/logout", apis.LogoutApi.as_view(), name="auth-logout"),
    path("auth/logout-all", apis.LogoutAllApi.as_view(), name="auth-logout-all"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("me/password", apis.PasswordChangeApi.as_view(), name="me-password"),
    path("me/avatar", avatar_apis.AvatarUploadApi.as_view(), name="me-avatar"),
    path("me/avatar/complete", avatar_apis.AvatarCompleteApi.as_view(), name="me-avatar-complete"),
]
