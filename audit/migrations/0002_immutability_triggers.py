"""Make the audit table append-only in the database itself (see audit/db.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from audit.db import triggers_install

    triggers_install(schema_editor)


def uninstall(apps, schema_editor):
    from audit.db import triggers_uninstall

    triggers_uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
