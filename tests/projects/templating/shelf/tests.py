import os
import time

from django.db import connection
from django.test import TestCase, TransactionTestCase, skipUnlessDBFeature

from .models import Book, Genre


class SeededTests(TestCase):
    def test_data_migration_rows_are_in_the_clone(self):
        names = set(Genre.objects.values_list("name", flat=True))
        self.assertTrue({"essay", "novel", "poetry"} <= names)

    def test_the_view_is_in_the_clone(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM shelf_genre_names")
            self.assertEqual(cursor.fetchone()[0], Genre.objects.count())

    def test_writes_roll_back(self):
        Book.objects.create(title="Walden", genre=Genre.objects.get(name="essay"))
        self.assertEqual(Book.objects.count(), 1)


class ServerObjectTests(TestCase):
    def setUp(self):
        if connection.vendor == "sqlite":
            self.skipTest("servers only")

    def test_row_with_id_zero_kept_its_id(self):
        self.assertEqual(Genre.objects.get(id=0).name, "zero")

    def test_the_trigger_fires_in_the_clone(self):
        book = Book.objects.create(title="Middlemarch", genre=Genre.objects.get(name="novel"))
        book.refresh_from_db()
        self.assertEqual(book.title_length, len("Middlemarch"))

    def test_the_function_is_in_the_clone(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT shelf_add_one(41)")
            self.assertEqual(cursor.fetchone()[0], 42)

    def test_mysql_procedure_event_and_generated_column(self):
        if connection.vendor != "mysql":
            self.skipTest("MySQL/MariaDB only")
        Book.objects.create(title="Odes", genre=Genre.objects.get(name="poetry"), pages=21)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pages_doubled FROM shelf_book WHERE title = 'Odes'")
            self.assertEqual(cursor.fetchone()[0], 42)
            cursor.execute("CALL shelf_count_genres(@total)")
            cursor.execute("SELECT @total")
            self.assertEqual(cursor.fetchone()[0], Genre.objects.count())
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
            )
            self.assertEqual(cursor.fetchone()[0], 1)


class CommittingTests(TransactionTestCase):
    available_apps = ["shelf"]

    def test_commits_and_flushes(self):
        Genre.objects.create(name="drama")
        self.assertTrue(Genre.objects.filter(name="drama").exists())


class MoreCommittingTests(TransactionTestCase):
    available_apps = ["shelf"]

    @skipUnlessDBFeature("supports_transactions")
    def test_commits_too(self):
        Genre.objects.create(name="satire")
        self.assertTrue(Genre.objects.filter(name="satire").exists())


class SlowTests(TestCase):
    def test_waits_when_asked(self):
        # The SIGKILL test kills the run while this sleeps, with every clone made.
        time.sleep(float(os.environ.get("SHELF_SLEEP", "0")))
