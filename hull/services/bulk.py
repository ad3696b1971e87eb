"""Fast bulk writes for the catalogue's large batches.

Django's ``bulk_create`` binds every value as a query parameter, which costs more than the hull computation
itself at catalogue scale. On PostgreSQL rows are streamed with ``COPY`` into a temporary table and merged
with one ``INSERT ... ON CONFLICT``; on SQLite one prepared ``INSERT ... ON CONFLICT`` runs over all rows.
Both run inside the caller's transaction.
"""

import json
from collections.abc import Sequence

from django.db import connection, models


def bulk_upsert(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
) -> int:
    """Insert ``rows`` (values in ``fields`` order); on a conflict over ``unique_fields`` update ``update_fields``.

    Without ``unique_fields`` it is a plain insert. JSON fields take Python values; they are serialised here.
    """
    if not rows:
        return 0
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns = [field.column for field in model_fields]
    json_positions = [i for i, field in enumerate(model_fields) if isinstance(field, models.JSONField)]
    datetime_positions = [
        i for i, field in enumerate(model_fields) if isinstance(field, models.DateTimeField)
    ]
    table = connection.ops.quote_name(meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    conflict = ""
    if unique_fields:
        targets = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in unique_fields)
        sets = ", ".join(
            f"{connection.ops.quote_name(meta.get_field(f).column)} = EXCLUDED.{connection.ops.quote_name(meta.get_field(f).column)}"
            for f in update_fields
        )
        conflict = (
            f" ON CONFLICT ({targets}) DO UPDATE SET {sets}"
            if sets
            else f" ON CONFLICT ({targets}) DO NOTHING"
        )

    def encoded(row: Sequence) -> list:
        values = list(row)
        for i in json_positions:
            values[i] = json.dumps(values[i]) if values[i] is not None else None
        for i in datetime_positions:
            values[i] = connection.ops.adapt_datetimefield_value(values[i])
        return values

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            temp = connection.ops.quote_name(f"upsert_{meta.db_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {temp}")
            cursor.execute(
                f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT {quoted} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {temp} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(encoded(row))
            cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {temp}{conflict}")
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({quoted}) VALUES ({placeholders}){conflict}",
                [encoded(r) for r in rows],
            )
    return len(rows)


def bulk_insert(objs: Sequence[models.Model]) -> int:
    """Insert unsaved model instances through :func:`bulk_upsert` (every concrete field but the primary key);
    ``auto_now``/``auto_now_add`` fields get the current time."""
    if not objs:
        return 0
    from django.utils import timezone

    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    stamped = {
        f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    rows = [[now if f.attname in stamped else getattr(obj, f.attname) for f in fields] for obj in objs]
    return bulk_upsert(model=type(objs[0]), fields=[f.name for f in fields], rows=rows)
