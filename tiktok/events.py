"""Domain events: a lower app says what happened; higher apps decide what work follows.

An app that owns a fact declares it in ``<app>/events.py`` as a frozen dataclass
subclassing ``Event`` whose fields are JSON values (ids, strings, numbers, None)::

    @dataclass(frozen=True)
    class VideoPublished(Event):
        video_id: str

It publishes it inside the transaction that made the change, ``publish(VideoPublished(
video_id=str(video.id)))``; a higher app subscribes a task of its own from its
``handlers`` module (imported by its ``AppConfig.ready()``)::

    subscribe(VideoPublished, tasks.fanout_video)

``publish`` writes one outbox row per subscribed task (``tiktok.outbox``): each handler
runs after the commit, exactly as an ``enqueue_on_commit`` would (relayed once the
transaction commits, never lost, request id and WAL position headers carried, tasks
declared ``outbox_batch`` merged per relay batch). A write that decides in SQL whether it
changed anything (a follow) puts ``event_tasks(event)`` into ``outbox.record_sql``.

A handler task receives the event's fields as positional arguments, in declaration
order (``args`` of ``subscribe`` maps them otherwise). The lower app never names the
higher app's tasks: it only knows its own events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tiktok.outbox import Task, enqueue_all_on_commit

_JSON_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Event:
    """A fact one app owns; subclasses are frozen dataclasses with JSON-able fields."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _DECLARED[event_name(cls)] = cls

    def __post_init__(self):
        for item in dataclasses.fields(self):
            if not isinstance(getattr(self, item.name), _JSON_TYPES):
                raise TypeError(f"{type(self).__name__}.{item.name} must be a JSON value")

    def fields(self) -> tuple:
        """The event's values, in declaration order."""
        return tuple(getattr(self, item.name) for item in dataclasses.fields(self))


@dataclass(frozen=True)
class Subscription:
    task_name: str
    args: Callable[[Event], Sequence] | None = None

    def task(self, event: Event) -> Task:
        return Task(self.task_name, tuple(self.args(event) if self.args else event.fields()))


_DECLARED: dict[str, type[Event]] = {}
_HANDLERS: dict[type[Event], list[Subscription]] = {}


def event_name(event_type: type[Event]) -> str:
    return f"{event_type.__module__}.{event_type.__qualname__}"


def subscribe(event_type: type[Event], task, *, args: Callable[[Event], Sequence] | None = None) -> None:
    """Run ``task`` (a Celery task, or its registered name) after the commit of every
    transaction that publishes an ``event_type``. Subscribing twice is a no-op."""
    if not (isinstance(event_type, type) and issubclass(event_type, Event)) or event_type is Event:
        raise TypeError(f"{event_type!r} is not a declared event")
    name = task if isinstance(task, str) else task.name
    subscriptions = _HANDLERS.setdefault(event_type, [])
    if all(existing.task_name != name for existing in subscriptions):
        subscriptions.append(Subscription(name, args))


def handlers(event_type: type[Event]) -> list[str]:
    """The names of the tasks subscribed to ``event_type``, in subscription order."""
    return [subscription.task_name for subscription in _HANDLERS.get(event_type, [])]


def declared_events() -> dict[str, type[Event]]:
    """Every event class declared so far (by ``module.Name``)."""
    return dict(_DECLARED)


def event_tasks(event: Event) -> list[Task]:
    """The outbox tasks ``event`` starts: one per subscribed handler."""
    return [subscription.task(event) for subscription in _HANDLERS.get(type(event), [])]


def publish(event: Event) -> None:
    """Record ``event`` in the caller's transaction: its handlers run once it commits."""
    publish_all([event])


def publish_all(events: Sequence[Event]) -> None:
    """Record several events in one outbox statement (see ``publish``)."""
    tasks = [task for event in events for task in event_tasks(event)]
    if tasks:
        enqueue_all_on_commit(tasks)
