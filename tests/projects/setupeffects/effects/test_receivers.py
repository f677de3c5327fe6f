"""Under Django's runner (forked workers, or one process) a receiver connected by a migration is
connected when the tests run, on the run that migrated."""

from django.test import SimpleTestCase, TestCase

from .models import Item
from .receivers import migrated


class EarlyTests(SimpleTestCase):
    def test_runs_while_the_databases_are_made(self):
        self.assertEqual(2 + 2, 4)


class ReceiverTests(TestCase):
    def test_the_migrations_receiver_answers(self):
        Item.objects.create(name="any")
        self.assertEqual(
            [response for _receiver, response in migrated.send(sender=None)],
            ["connected while migrating"],
        )


class OtherReceiverTests(TestCase):
    def test_the_migrations_receiver_answers_here_too(self):
        self.assertEqual(len(migrated.send(sender=None)), 1)
