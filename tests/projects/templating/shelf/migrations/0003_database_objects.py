"""A view, a trigger, routines and (MariaDB/MySQL) an event and a generated column, so the
tests see every kind of object a clone must carry over."""

from django.db import migrations

VIEW = "CREATE VIEW shelf_genre_names AS SELECT name FROM shelf_genre"

MYSQL = [
    VIEW,
    "ALTER TABLE shelf_book ADD COLUMN pages_doubled INTEGER AS (pages * 2) VIRTUAL",
    "CREATE TRIGGER shelf_book_length BEFORE INSERT ON shelf_book FOR EACH ROW "
    "SET NEW.title_length = CHAR_LENGTH(NEW.title)",
    "CREATE FUNCTION shelf_add_one(n INTEGER) RETURNS INTEGER DETERMINISTIC RETURN n + 1",
    "CREATE PROCEDURE shelf_count_genres(OUT total INTEGER) "
    "SELECT COUNT(*) INTO total FROM shelf_genre",
    "CREATE EVENT shelf_nightly ON SCHEDULE EVERY 1 DAY DISABLE "
    "DO DELETE FROM shelf_book WHERE 1 = 0",
    # A row with id 0 must stay 0 in clones (mysqldump needs NO_AUTO_VALUE_ON_ZERO for it too).
    "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')",
    "INSERT INTO shelf_genre (id, name) VALUES (0, 'zero')",
]

POSTGRES = [
    VIEW,
    "CREATE FUNCTION shelf_add_one(n INTEGER) RETURNS INTEGER AS $$ SELECT n + 1 $$ LANGUAGE SQL",
    "CREATE FUNCTION shelf_book_length() RETURNS trigger AS $$ BEGIN "
    "NEW.title_length := char_length(NEW.title); RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER shelf_book_length BEFORE INSERT ON shelf_book FOR EACH ROW "
    "EXECUTE FUNCTION shelf_book_length()",
    "INSERT INTO shelf_genre (id, name) VALUES (0, 'zero')",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"mysql": MYSQL, "postgresql": POSTGRES}.get(vendor, [VIEW])
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    # MySQL cannot run DDL inside a transaction.
    atomic = False
    dependencies = [("shelf", "0002_seed")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
