"""Stemmed full-text search: the headline on the article table, and the index per database
(SQLite FTS5 with the porter tokenizer, PostgreSQL GIN over its language configuration)."""

from django.db import migrations, models


def copy_titles(apps, schema_editor):
    ArticlePage = apps.get_model("newsroom", "ArticlePage")
    for pk, title in ArticlePage.objects.values_list("pk", "title"):
        ArticlePage.objects.filter(pk=pk).update(search_title=title)


def create_index(apps, schema_editor):
    from masthead.newsroom import fulltext

    model = apps.get_model("newsroom", "ArticlePage")
    fulltext.install(schema_editor.connection, editor=schema_editor, model=model, rebuild=True)


def drop_index(apps, schema_editor):
    from masthead.newsroom import fulltext

    fulltext.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("newsroom", "0003_search_matches_body_only_where_readable"),
    ]

    operations = [
        migrations.AddField(
            model_name="articlepage",
            name="search_title",
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.RunPython(copy_titles, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
