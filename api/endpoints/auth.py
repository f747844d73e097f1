"""``/auth``: register, log in, log out (this device or every device)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import USERNAME_RULE
from api.serializers.users import MeOutput, TokenOutput
from tiktok import idempotency
from tiktok.client_address import client_limit_key
from tiktok.throttles import AuthThrottle


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    class RegisterInput(serializers.Serializer):
        # Normalised (NFKC, case-folded) and checked against USERNAME_PATTERN by the service.
        username = serializers.CharField(max_length=150, help_text=USERNAME_RULE)
        password = serializers.CharField(min_length=8, max_length=128, trim_whitespace=False)
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    @extend_schema(request=RegisterInput, responses={201: MeOutput}, auth=[], parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
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
