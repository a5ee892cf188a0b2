"""Starting Django from the command line (no manage.py needed)."""

from __future__ import annotations

import os

SETTINGS = "chiplet_dse.server.config.settings"


def setup(migrate: bool = True) -> None:
    """Configure Django and, unless told otherwise, bring the database schema up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
