"""Offline evaluation of For You against trending and the following feed (``make eval``).

Seeds DATABASE_URL (emptied first: a database named ``*eval*``, never the application's)
with a data set that has interest structure (``bench.eval_seed``), holds out each sampled
user's most recent likes and reports hit-rate@10/@50 of For You, trending and the
following feed (``bench.eval_metrics``). Prints a table and writes a JSON file.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench.eval_metrics import CUTOFFS, METHODS, evaluate, hold_out, sample_users
from bench.eval_seed import EvalSeeder, EvalSpec
from tiktok import db_router

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "bench" / "results" / "eval-for-you.json"
ALLOWED_NAMES = ("eval", "test")  # databases this command may empty without --yes


class Command(BaseCommand):
    help = "Seed an interest-structured data set and measure For You's hit-rate against trending and following."

    def add_arguments(self, parser):
        defaults = EvalSpec()
        for name in ("users", "creators", "videos", "likes", "topics", "seed"):
            parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
        parser.add_argument("--sample", type=int, default=200, help="users evaluated")
        parser.add_argument("--holdout", type=int, default=5, help="most recent likes held out per user")
        parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
        parser.add_argument("--yes", action="store_true", help="empty a database whose name lacks 'eval'")

    def handle(self, *args, **options):
        name = settings.DATABASES["default"]["NAME"]
        if not any(word in name for word in ALLOWED_NAMES) and not options["yes"]:
            raise CommandError(f"Refusing to empty database {name!r}: its name lacks 'eval' (--yes).")
        spec = EvalSpec(**{key: options[key] for key in ("users", "creators", "videos", "likes", "topics", "seed")})
        out = self.stdout
        started = time.monotonic()
        out.write(f"eval_for_you: seeding {name}: {spec}")
        try:
            seeder = EvalSeeder(spec)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with connection.cursor() as cursor:
            facts = seeder.load(cursor)
        seed_seconds = time.monotonic() - started
        out.write(f"  seeded in {seed_seconds:.1f} s: {facts}")
        with db_router.use_primary():  # offline: read what was just written
            users = sample_users(
                size=options["sample"],
                holdout=options["holdout"],
                exclude_below=spec.creators,
                rng=random.Random(spec.seed),
            )
            if not users:
                raise CommandError("No user has enough likes to hold some out: raise --likes.")
            held = hold_out(user_ids=users, holdout=options["holdout"])
            step = time.monotonic()
            result = evaluate(held=held, out=out)
        eval_seconds = time.monotonic() - step
        report = {
            "spec": vars(spec),
            "holdout": options["holdout"],
            "dataset": facts,
            "seed_seconds": round(seed_seconds, 1),
            "eval_seconds": round(eval_seconds, 1),
            **result,
        }
        self._print(report)
        options["output"].parent.mkdir(parents=True, exist_ok=True)
        options["output"].write_text(json.dumps(report, indent=2) + "\n")
        out.write(f"wrote {options['output']}")

    def _print(self, report: dict) -> None:
        lines = [f"{'':<10}" + "".join(f"{f'hit@{k}':>9}{f'recall@{k}':>11}" for k in CUTOFFS)]
        for method in METHODS:
            cells = "".join(
                f"{report['hit_rate'][method][str(k)]:>9.3f}{report['recall'][method][str(k)]:>11.3f}" for k in CUTOFFS
            )
            lines.append(f"{method:<10}{cells}")
        trending = report["hit_rate"]["trending"]["50"]
        ratio = report["hit_rate"]["for_you"]["50"] / trending if trending else float("inf")
        lines.append(f"For You / trending hit-rate@50: {ratio:.2f}x (target >= 2x)")
        lines.append(f"For You hits by reason: {report['for_you_hit_reasons']}")
        report["for_you_over_trending_hit50"] = round(ratio, 2) if trending else None
        sys.stdout.flush()
        self.stdout.write("\n".join(lines))
