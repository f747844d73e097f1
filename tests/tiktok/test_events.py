"""Domain events (``tiktok.events``): every declared event is published somewhere and
handled by someone, and publishing one runs its handlers after the commit, never before
and never for a rolled-back write."""

import ast
import dataclasses
from pathlib import Path

import pytest
from django.db import transaction

from tiktok import events
from tiktok.db_router import PRIMARY
from tiktok.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = ["tiktok", "accounts", "videos", "activity", "feed", "discovery", "moderation", "api"]
PUBLISHERS = {"publish", "publish_all", "event_tasks"}


def published_event_names() -> dict[str, list[str]]:
    """The event classes constructed as an argument of ``publish``/``publish_all``/
    ``event_tasks`` anywhere in product code (by class name), with where."""
    found: dict[str, list[str]] = {}
    for app in PRODUCT_APPS:
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if callee not in PUBLISHERS:
                    continue
                for argument in ast.walk(node):
                    if isinstance(argument, ast.Call) and argument is not node:
                        func = argument.func
                        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                        found.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{argument.lineno}")
    return found


def test_every_event_is_published_and_handled():
    declared = events.declared_events()
    published = published_event_names()
    table = {name: events.handlers(event) for name, event in sorted(declared.items())}
    print("\n".join(f"{name} -> {', '.join(tasks) or '(nobody)'}" for name, tasks in table.items()))
    assert declared, "no events declared"
    unhandled = [name for name, tasks in table.items() if not tasks]
    assert not unhandled, f"events nobody handles: {unhandled}"
    unpublished = [name for name, event in declared.items() if event.__name__ not in published]
    assert not unpublished, f"handlers subscribed to events nobody publishes: {unpublished}"
    undeclared = {name for name in published if name[0].isupper()} - {e.__name__ for e in declared.values()}
    assert not undeclared, f"published but not declared as events: {undeclared}"


def test_each_event_is_declared_by_the_app_that_owns_the_fact():
    for name, event in events.declared_events().items():
        module = event.__module__
        if module.startswith("tests."):
            continue
        assert module.endswith(".events") and module.split(".")[0] in PRODUCT_APPS, name
        assert dataclasses.is_dataclass(event) and event.__dataclass_params__.frozen, name


def test_handler_tasks_are_registered_tasks():
    from tiktok.celery import app

    app.loader.import_default_modules()
    for event in events.declared_events().values():
        for task_name in events.handlers(event):
            assert task_name in app.tasks, task_name


def test_an_event_carries_json_values_only():
    from videos.events import VideoPublished

    with pytest.raises(TypeError, match="JSON"):
        VideoPublished(video_id=object())


@pytest.mark.django_db(transaction=True)
def test_publish_records_one_outbox_row_per_handler_only_if_the_transaction_commits(real_broker):
    @dataclasses.dataclass(frozen=True)
    class Pinged(events.Event):
        user_id: int
        note: str | None

    try:
        events.subscribe(Pinged, "tiktok.tasks.worker_heartbeat")
        events.subscribe(Pinged, "tiktok.tasks.drain_outbox", args=lambda event: ())
        events.subscribe(Pinged, "tiktok.tasks.drain_outbox")  # again: no second row
        with pytest.raises(RuntimeError), transaction.atomic(using=PRIMARY):
            events.publish(Pinged(user_id=7, note=None))
            raise RuntimeError("rolled back")
        assert not OutboxMessage.objects.using(PRIMARY).exists()

        with transaction.atomic(using=PRIMARY):
            events.publish(Pinged(user_id=7, note="hi"))
        rows = list(OutboxMessage.objects.using(PRIMARY).order_by("id").values_list("task_name", "args"))
        assert rows == [("tiktok.tasks.worker_heartbeat", [7, "hi"]), ("tiktok.tasks.drain_outbox", [])]
    finally:
        events._HANDLERS.pop(Pinged, None)
        events._DECLARED.pop(events.event_name(Pinged), None)
