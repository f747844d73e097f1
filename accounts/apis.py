"""Account endpoints: register, login, logout (this device or all), password, own profile."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import USERNAME_RULE
from accounts.serializers import ProfileOutput
from tiktok.client_address import client_limit_key
from tiktok.throttles import AuthThrottle, WriteThrottle


class MeOutput(ProfileOutput):
    email = serializers.CharField(help_text="Empty when none was given.")
    avatar_status = serializers.CharField(
        help_text='The last avatar upload: "" (none), awaiting_upload, processing, ready or failed.'
    )
    avatar_failure_reason = serializers.CharField(help_text="Why the last avatar upload was refused.")


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`; shown once.")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="When the token stops working.")


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    class RegisterInput(serializers.Serializer):
        # Normalised (NFKC, case-folded) and checked against USERNAME_PATTERN by the service.
        username = serializers.CharField(max_length=150, help_text=USERNAME_RULE)
        password = serializers.CharField(min_length=8, max_length=128, trim_whitespace=False)
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    @extend_schema(request=RegisterInput, responses={201: MeOutput}, auth=[])
    def post(self, request):
        data = self.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        return Response(MeOutput(user).data | {"viewer": None}, status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    class LoginInput(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(request=LoginInput, responses={200: TokenOutput}, auth=[])
    def post(self, request):
        data = self.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.user_login(**data.validated_data, address=client_limit_key(request))
        return Response(TokenOutput(issued).data)


class LogoutApi(APIView):
    """Sign this device out: its token fails from the next request on."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.user_logout(token_digest=request.auth.digest)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """Sign every device of the user out, this one included."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.user_logout_everywhere(user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    """Change the password: every device is signed out; this one gets a new token."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthThrottle]

    class PasswordChangeInput(serializers.Serializer):
        current_password = serializers.CharField(max_length=128, trim_whitespace=False)
        new_password = serializers.CharField(min_length=8, max_length=128, trim_whitespace=False)

    @extend_schema(request=PasswordChangeInput, responses={200: TokenOutput})
    def post(self, request):
        data = self.PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.user_change_password(user=request.user, **data.validated_data)
        return Response(TokenOutput(issued).data)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    class MeUpdateInput(serializers.Serializer):
        display_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
        bio = serializers.CharField(max_length=300, required=False, allow_blank=True)

    @extend_schema(responses={200: MeOutput})
    def get(self, request):
        return Response(MeOutput(request.user).data | {"viewer": None})

    @extend_schema(request=MeUpdateInput, responses={200: MeOutput})
    def patch(self, request):
        data = self.MeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(MeOutput(user).data | {"viewer": None})
