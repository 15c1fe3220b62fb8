"""Make the audit table append-only in the database itself (see audit/db.py).

Superseded by 0004: it installed the immutability triggers of the single audit table, before
events and chain links were split. 0004 drops what it installed and installs the current
version, so on a new database this step does nothing; it stays so that databases that applied
it keep a valid history.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations: list = []
