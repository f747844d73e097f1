"""Store every username in its canonical form (``accounts.models.normalize_username``).

Login and registration look names up by that form, so a stored ``Carla`` must become
``carla``. Two names that fold together (``Probesis`` and ``probeſis``) cannot both be
kept: the migration stops and lists them, to be resolved by hand, rather than pick one.
"""

import unicodedata

from django.db import migrations


def _normalize(username: str) -> str:
    # Frozen copy of accounts.models.normalize_username as of this migration.
    return unicodedata.normalize("NFKC", username or "").casefold().strip()


def normalize_usernames(apps, schema_editor):
    user_model = apps.get_model("accounts", "User")
    owners: dict[str, list[str]] = {}
    for username in user_model.objects.values_list("username", flat=True).iterator():
        owners.setdefault(_normalize(username), []).append(username)
    collisions = {name: found for name, found in owners.items() if len(found) > 1}
    if collisions:
        listed = "; ".join(f"{name}: {', '.join(found)}" for name, found in sorted(collisions.items()))
        raise RuntimeError(f"Usernames that normalise to the same name; rename all but one first: {listed}")
    for canonical, (username,) in owners.items():
        if canonical != username:
            user_model.objects.filter(username=username).update(username=canonical)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_drop_plaintext_tokens")]

    operations = [migrations.RunPython(normalize_usernames, migrations.RunPython.noop)]
