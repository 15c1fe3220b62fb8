"""The Postgres sealing function: integration in one round trip (see audit/chain.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from audit.db import integrator_install

    integrator_install(schema_editor)


def uninstall(apps, schema_editor):
    from audit.db import integrator_uninstall

    integrator_uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_immutability_triggers")]

    operations = [migrations.RunPython(install, uninstall)]
