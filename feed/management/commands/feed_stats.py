"""Feed figures: sizes and memory of a sample of feeds, and the read hit rate."""

import json

from django.core.management.base import BaseCommand

from accounts.models import User
from feed import store


class Command(BaseCommand):
    help = "Show feed sizes, memory per entry and the hit/miss/rebuild counts."

    def add_arguments(self, parser):
        parser.add_argument("--sample", type=int, default=200, help="how many recently active users to inspect")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")

    def handle(self, *args, sample: int, as_json: bool = False, **options):
        user_ids = list(
            User.objects.filter(last_seen_at__isnull=False)
            .order_by("-last_seen_at")
            .values_list("id", flat=True)[:sample]
        )
        sizes, memory = [], []
        for user_id in user_ids:
            if not store.feed_exists(user_id=user_id):
                continue
            size = store.feed_size(user_id=user_id)
            sizes.append(size)
            if size:
                memory.append((store.feed_memory_bytes(user_id=user_id) or 0) / size)
        counts = store.stats()
        reads = counts.get("hits", 0) + counts.get("misses", 0)
        figures = {
            "feeds_inspected": len(user_ids),
            "feeds_built": len(sizes),
            "entries_avg": round(sum(sizes) / len(sizes), 1) if sizes else 0,
            "entries_max": max(sizes, default=0),
            "bytes_per_entry_avg": round(sum(memory) / len(memory), 1) if memory else None,
            "reads": reads,
            "hit_rate": round(counts.get("hits", 0) / reads, 4) if reads else None,
            **{key: counts.get(key, 0) for key in ("hits", "misses", "rebuilds")},
        }
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        for key, value in figures.items():
            self.stdout.write(f"{key:>22}: {value}")
