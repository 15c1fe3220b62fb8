"""Rotate data keys past their rotation period (or one scope's now), then re-encrypt online."""

from django.core.management.base import BaseCommand

from phi.crypto.keys import data_key_rotate, data_keys_due_for_rotation


class Command(BaseCommand):
    """`manage.py phi_rotate_keys [--scope ID] [--max-age-days N]`."""

    help = "Start a new data-key version for every practice whose key is older than the rotation period."

    def add_arguments(self, parser):
        parser.add_argument("--scope", help="rotate this key scope (practice id) now")
        parser.add_argument("--max-age-days", type=int, default=None)

    def handle(self, *args, scope=None, max_age_days=None, **options):
        scopes = (
            [scope]
            if scope
            else sorted(
                set(
                    data_keys_due_for_rotation(max_age_days=max_age_days).values_list(
                        "scope_id", flat=True
                    )
                )
            )
        )
        for scope_id in scopes:
            data_key = data_key_rotate(scope_id=scope_id, actor=None)
            self.stdout.write(f"scope {scope_id}: now on data key version {data_key.version}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Rotated {len(scopes)} scope(s). Run `manage.py phi_reencrypt` to move "
                "existing values onto the new keys (old keys keep decrypting meanwhile)."
            )
        )
