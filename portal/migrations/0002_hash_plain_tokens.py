"""Tokens made before hashing (DRF's authtoken table, plain keys) become ApiToken rows holding their digests, so
the keys users hold keep working; the plain keys are then deleted. The authtoken app is no longer installed, so
its table is read with SQL where a database still has it."""

import datetime as dt
import hashlib

from django.db import migrations
from django.utils.dateparse import parse_datetime

PLAIN_TABLE = "authtoken_token"


def hash_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if PLAIN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("portal", "ApiToken")
    table = connection.ops.quote_name(PLAIN_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id, created FROM {table}")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        token = ApiToken.objects.create(
            user_id=user_id, digest=hashlib.sha256(key.encode()).hexdigest(), prefix=key[:8]
        )
        if isinstance(created, str):  # SQLite
            created = parse_datetime(created)
        if created.tzinfo is None:  # stored in UTC
            created = created.replace(tzinfo=dt.UTC)
        ApiToken.objects.filter(pk=token.pk).update(created=created)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_api_token")]

    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop)]
