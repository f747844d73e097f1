"""Rewrite (or, with --check, verify) the docs' generated tables: ``tiktok.docs_tables``."""

from django.core.management.base import BaseCommand, CommandError

from tiktok import docs_tables


class Command(BaseCommand):
    help = "Regenerate the tables in docs/ from the code (--check: fail if any is stale)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only report stale files; exit 1 if any.")

    def handle(self, *args, check: bool = False, **options):
        if check:
            stale = docs_tables.stale_files()
            if stale:
                raise CommandError(f"generated tables are stale in {', '.join(stale)}: run `make docs`")
            self.stdout.write("docs tables are up to date")
            return
        changed = docs_tables.write_all()
        self.stdout.write("rewrote " + ", ".join(changed) if changed else "docs tables already up to date")
