"""The id of the transaction that wrote a row, as a column default, for the status-change feed.

Ids and timestamps are taken before a transaction commits, so a change with a smaller
id can become visible after one with a larger id was already read: a feed ordered by id
alone would skip it. On PostgreSQL each audit row keeps the id of the transaction that
wrote it (`pg_current_xact_id()`, a 64-bit id that never wraps), and the feed only reads
rows of transactions older than its snapshot's xmin, which have all finished. On SQLite
writers are serialized, so id order is commit order and the column is 0.

It is a database default (`db_default`), so writers that name their columns in a raw
`INSERT ... SELECT` fill it without knowing it exists.
"""

from django.db.models import BigIntegerField, Func


class CurrentTransactionId(Func):
    """`pg_current_xact_id()` as a bigint on PostgreSQL; 0 elsewhere."""

    template = "0"
    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # xid8 has no cast to bigint; through text it is exact (it fits in 63 bits).
        return "((pg_current_xact_id())::text)::bigint", []
