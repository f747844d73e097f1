from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark tooling: ``seed_bench`` and the baseline endpoints (``bench.settings`` only)."""

    name = "bench"
