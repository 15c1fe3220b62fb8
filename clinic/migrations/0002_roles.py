"""Create the four staff-role groups with their permissions.

The lists are a frozen copy of clinic.roles.ROLE_PERMISSIONS as of this migration (a migration
must not import live code); tests/clinic/test_roles.py fails if the two drift apart, and a
change of role permissions ships as a new migration.
"""

from django.db import migrations

_CLINIC = ("practice", "staffmembership", "provider", "patient", "appointment", "practicephonenumber")
_ALL = ("add", "change", "delete", "view")


def _crud(model, *verbs):
    return {f"clinic.{verb}_{model}" for verb in verbs}


ROLE_GROUPS = {
    "Front desk": _crud("patient", "add", "change", "view")
    | _crud("appointment", "add", "change", "view")
    | _crud("provider", "view")
    | _crud("practice", "view")
    | {"clinic.view_patient_phi"},
    "Clinician": _crud("patient", "change", "view")
    | _crud("appointment", "change", "view")
    | _crud("provider", "view")
    | _crud("practice", "view")
    | {"clinic.view_patient_phi"},
    "Practice admin": (
        {perm for model in _CLINIC for perm in _crud(model, *_ALL)}
        - {"clinic.add_practice", "clinic.delete_practice"}
    )
    | {"clinic.view_patient_phi"},
    "Compliance officer": {perm for model in _CLINIC for perm in _crud(model, "view")}
    | {"audit.view_auditevent", "audit.export_auditevent"},
}


def create_role_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, perms in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".")
            try:
                wanted.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
            except Permission.DoesNotExist:
                raise RuntimeError(
                    f"Role group {group_name!r} needs permission {perm}, which does not exist; "
                    "run the migrations of that app first."
                ) from None
        group.permissions.set(wanted)


def delete_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, delete_role_groups)]
