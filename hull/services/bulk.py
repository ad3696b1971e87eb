"""Fast bulk writes for the catalogue's large batches.

Django's ``bulk_create`` binds every value as a query parameter, which costs more than the hull computation
itself at catalogue scale. On PostgreSQL rows are streamed with ``COPY`` into a temporary table and merged
with one ``INSERT ... ON CONFLICT``; on SQLite one prepared ``INSERT ... ON CONFLICT`` runs over all rows.
Both run inside the caller's transaction. A plain insert on PostgreSQL is one ``COPY`` into the table.
"""

import json
from collections.abc import Sequence

import orjson
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
            values[i] = _json_text(values[i]) if values[i] is not None else None
        for i in datetime_positions:
            values[i] = connection.ops.adapt_datetimefield_value(values[i])
        return values

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if not unique_fields:  # a plain insert streams straight into the table
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(encoded(row))
                return len(rows)
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


def _json_text(value) -> str:
    """JSON text of a field value: orjson where it can (about ten times faster), the standard library for the
    rest (numpy scalars, integers beyond 64 bits, non-string keys)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def copy_rows_postgres(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    where: dict[str, object],
    keys_field: str,
    keys: Sequence[int],
    values: dict[str, object],
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> int:
    """PostgreSQL only: upsert copies of the rows matching ``where`` whose ``keys_field`` is in ``keys``, with
    the columns in ``values`` replaced by those constants. One statement; the data never leaves the server.
    """
    meta = model._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    select, params = [], []
    for name in fields:
        if name in values:
            select.append("%s")
            params.append(values[name])
        else:
            select.append(column(name))
    conditions = [f"{column(name)} = %s" for name in where]
    params.extend(where.values())
    targets = ", ".join(column(f) for f in unique_fields)
    sets = ", ".join(f"{column(f)} = EXCLUDED.{column(f)}" for f in update_fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(column(f) for f in fields)}) "
        f"SELECT {', '.join(select)} FROM {quote(meta.db_table)} "
        f"WHERE {' AND '.join(conditions)} AND {in_keys_postgres(model, keys_field)} "
        f"ON CONFLICT ({targets}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, list(keys)])
        return cursor.rowcount


def in_keys_postgres(model: type[models.Model], field: str) -> str:
    """PostgreSQL: the condition "``field`` is one of the keys", for one array parameter (a Python list).

    The array is cast to the column's own type: psycopg sends a list of small ints as ``int4[]``, and against a
    ``bigint`` column the cross-type ``=`` cannot be hashed, so a scan that filters by it (the plan PostgreSQL picks
    for tables filled in the same transaction, which it has no statistics for) compares every row with every key:
    400,000 keys against 400,000 rows ran for over 20 minutes. Same-typed, the keys are hashed once (or drive an
    index scan) and the filter costs one probe a row.
    """
    target = model._meta.get_field(field)
    # without the length (varchar(200) -> varchar): a cast to it never truncates a key into another one
    base_type = target.cast_db_type(connection).split("(")[0]
    return f"{connection.ops.quote_name(target.column)} = ANY(%s::{base_type}[])"
