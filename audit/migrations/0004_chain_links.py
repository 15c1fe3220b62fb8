"""Split each event's place in the chain (seq, prev_hash, hash) into its own narrow table.

Sealing then inserts a link row instead of updating the wide event row and all its indexes
(see audit/__init__.py for the measurements). Existing sealed events get their links and
pending ones their queue rows before the old columns go; hashes do not change, because the
canonical form still includes seq and prev_hash. Then the append-only triggers (now on events
and links, with no exception for sealing) and the Postgres sealing routines are installed.
"""

import django.db.models.deletion
from django.db import migrations, models


def drop_legacy(apps, schema_editor):
    from audit.db import legacy_uninstall

    legacy_uninstall(schema_editor)


def copy_links(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO audit_chainlink (seq, event_id, prev_hash, hash) "
        "SELECT seq, id, prev_hash, hash FROM audit_auditevent WHERE seq IS NOT NULL"
    )
    schema_editor.execute(
        "INSERT INTO audit_pendingevent (event_id) "
        "SELECT id FROM audit_auditevent WHERE seq IS NULL"
    )


def install(apps, schema_editor):
    from audit.db import integrator_install, triggers_install

    triggers_install(schema_editor)
    integrator_install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_integrate_function")]

    operations = [
        migrations.RunPython(drop_legacy),
        migrations.CreateModel(
            name="ChainLink",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    "event",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="link",
                        to="audit.auditevent",
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={"verbose_name": "chain link", "ordering": ["seq"]},
        ),
        migrations.CreateModel(
            name="PendingEvent",
            fields=[("event_id", models.BigIntegerField(primary_key=True, serialize=False))],
            options={"verbose_name": "pending audit event"},
        ),
        migrations.RunPython(copy_links),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["id"],
                "permissions": [
                    (
                        "export_auditevent",
                        "Can export audit events and accounting-of-disclosures reports",
                    )
                ],
                "verbose_name": "audit event",
            },
        ),
        migrations.RemoveIndex(model_name="auditevent", name="audit_pending"),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.RemoveField(model_name="auditevent", name="prev_hash"),
        migrations.RemoveField(model_name="auditevent", name="seq"),
        migrations.RunPython(install),
    ]
