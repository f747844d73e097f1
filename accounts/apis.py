"""Account endpoints: register, login, logout, own profile, public profiles."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import ProfileOutput
from tiktok.throttles import AuthThrottle, WriteThrottle


class MeOutput(ProfileOutput):
    email = serializers.CharField(help_text="Empty when none was given.")


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    class RegisterInput(serializers.Serializer):
        username = serializers.RegexField(
            r"^[A-Za-z0-9_.]{3,30}$", error_messages={"invalid": "3 to 30 letters, digits, '_' or '.'."}
        )
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

    @extend_schema(
        request=LoginInput,
        responses={200: inline_serializer("LoginOutput", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request):
        data = self.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.user_login(**data.validated_data, address=AuthThrottle().get_ident(request))
        return Response({"token": token})


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.user_logout(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
