"""The full-text index behind search, one per database, both stemmed.

- SQLite: an FTS5 table with the porter tokenizer over `newsroom_articlepage`'s derived
  columns (external content, kept in step by triggers, so every process and every write path,
  the admin included, updates it in the same transaction as the article row).
- PostgreSQL: GIN indexes on `to_tsvector(<SEARCH_CONFIG>, ...)` of the same columns; the
  queries in `newsroom.search` build the very same expressions, so the planner uses them.

`install` is idempotent. The migration calls it; so does `post_migrate`, because Django
rebuilds a SQLite table (dropping its triggers) whenever a later migration alters it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Model

FTS_TABLE = "newsroom_article_fts"
CONTENT_TABLE = "newsroom_articlepage"
# Column order is the FTS5 column index used by `highlight()` and `snippet()`.
COLUMNS = ("search_title", "standfirst", "body_text")
HEADLINE_INDEX = "newsroom_article_headline_tsv"
BODY_INDEX = "newsroom_article_body_tsv"

_TRIGGERS = {
    f"{FTS_TABLE}_ai": "AFTER INSERT ON {content} BEGIN {insert}; END",
    f"{FTS_TABLE}_ad": "AFTER DELETE ON {content} BEGIN {delete}; END",
    f"{FTS_TABLE}_au": "AFTER UPDATE ON {content} BEGIN {delete}; {insert}; END",
}


def config() -> str:
    """PostgreSQL's text search configuration (its language), from settings."""
    return str(getattr(settings, "SEARCH_CONFIG", "english"))


def headline_vector() -> SearchVector:
    return SearchVector("search_title", "standfirst", config=config())


def body_vector() -> SearchVector:
    return SearchVector("body_text", config=config())


def install(
    connection: BaseDatabaseWrapper,
    *,
    editor: BaseDatabaseSchemaEditor | None = None,
    model: type[Model] | None = None,
    rebuild: bool = False,
) -> None:
    """Create what is missing (and, on SQLite, refill the index if anything was)."""
    if connection.vendor == "sqlite":
        _install_sqlite(connection, rebuild=rebuild)
    elif connection.vendor == "postgresql":
        from masthead.newsroom.models import ArticlePage

        target = model or ArticlePage
        if editor is None:
            with connection.schema_editor() as own_editor:
                _install_postgres(own_editor, target)
        else:
            _install_postgres(editor, target)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in _TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {HEADLINE_INDEX}")
            cursor.execute(f"DROP INDEX IF EXISTS {BODY_INDEX}")


def _install_sqlite(connection: BaseDatabaseWrapper, *, rebuild: bool) -> None:
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"new.{column}" for column in COLUMNS)
    old = ", ".join(f"old.{column}" for column in COLUMNS)
    insert = f"INSERT INTO {FTS_TABLE}(rowid, {columns}) VALUES (new.page_ptr_id, {new})"
    delete = (
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) "
        f"VALUES ('delete', old.page_ptr_id, {old})"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({columns}, "
            f"content='{CONTENT_TABLE}', content_rowid='page_ptr_id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        for name, body in _TRIGGERS.items():
            if name not in present:
                rebuild = True
                sql = body.format(content=CONTENT_TABLE, insert=insert, delete=delete)
                cursor.execute(f"CREATE TRIGGER {name} {sql}")
        if rebuild:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def _install_postgres(editor: BaseDatabaseSchemaEditor, model: type[Model]) -> None:
    for name, vector in ((HEADLINE_INDEX, headline_vector()), (BODY_INDEX, body_vector())):
        sql = str(GinIndex(vector, name=name).create_sql(model, editor))
        editor.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))


def ensure_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """`post_migrate`: put back what a SQLite table rebuild dropped."""
    from django.db import connections

    connection = connections[using]
    if CONTENT_TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, CONTENT_TABLE)
    if set(COLUMNS) <= {column.name for column in description}:
        install(connection)
