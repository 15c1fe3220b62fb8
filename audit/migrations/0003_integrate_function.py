"""The Postgres sealing function: integration in one round trip (see audit/chain.py).

Superseded by 0004: it installed the Postgres sealing function of the single audit table, before
events and chain links were split. 0004 drops what it installed and installs the current
version, so on a new database this step does nothing; it stays so that databases that applied
it keep a valid history.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_immutability_triggers")]

    operations: list = []
