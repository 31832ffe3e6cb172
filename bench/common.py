"""What the benchmark scripts share."""


def create_database(url: str) -> None:
    """Create the PostgreSQL database named at the end of `url` unless it exists."""
    import psycopg2
    from psycopg2 import sql

    base, name = url.rsplit("/", 1)
    admin = psycopg2.connect(f"{base}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def recreate_database(url: str) -> None:
    """Drop the benchmark's own database at the end of `url` if it exists, and create it empty."""
    import psycopg2
    from psycopg2 import sql

    base, name = url.rsplit("/", 1)
    admin = psycopg2.connect(f"{base}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()
    create_database(url)
