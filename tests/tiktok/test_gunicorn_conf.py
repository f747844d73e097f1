"""The gunicorn settings every deployment shares (``tiktok/gunicorn_conf.py``)."""

import gc

from tiktok import gunicorn_conf


def test_a_booted_worker_keeps_its_startup_objects_out_of_full_collections():
    gc.unfreeze()
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 10_000  # Django and the apps, loaded by the test run
        assert len(gc.get_objects(generation=2)) < gc.get_freeze_count()
    finally:
        gc.unfreeze()
