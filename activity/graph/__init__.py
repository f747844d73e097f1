"""The social graph: follows, blocks and mutes (the writes, the follow lists, the events
the feed acts on). The top of the app's layers: a follow moves engagement's counters and
flags and notifies; a block withdraws notifications (pyproject.toml, import-linter)."""
