"""A receiver the project connects while its migrations run (not in AppConfig.ready()): it exists
in the process that migrated, and in processes forked from it afterwards."""

from django.dispatch import Signal

migrated = Signal()


def answer(sender, **kwargs):
    return "connected while migrating"


def connect():
    migrated.connect(answer, dispatch_uid="effects.answer")
