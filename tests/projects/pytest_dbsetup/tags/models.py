from django.db import models


class CaseInsensitiveTextField(models.TextField):
    """PostgreSQL's citext: the column type exists only once the extension is created."""

    def db_type(self, connection):
        return "citext"


class Tag(models.Model):
    name = CaseInsensitiveTextField(unique=True)
