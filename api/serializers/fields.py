"""Input fields that take JSON's own types only, as the schema says.

DRF's ``CharField`` turns ``0`` into ``"0"`` and its ``BooleanField`` takes ``0``, ``"yes"``
and ``"on"``: a client sending the wrong type would get an answer instead of the 400 the
schema promises.
"""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
