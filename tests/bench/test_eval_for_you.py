"""``manage.py eval_for_you`` end to end on a tiny data set (the real For You, trending and
following code on this test slot's database and Redis)."""

import json

import pytest
from django.core.management import call_command

from accounts.models import User
from activity.models import Like
from bench.management.commands.eval_for_you import Command
from videos.models import VideoHashtag

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_eval_command_seeds_holds_out_and_reports_hit_rates_of_the_three_feeds(tmp_path, capsys):
    output = tmp_path / "eval.json"
    call_command(
        Command(),
        "--users=300",
        "--creators=30",
        "--videos=2000",
        "--likes=12000",
        "--topics=10",
        "--sample=50",
        "--holdout=5",
        f"--output={output}",
    )

    report = json.loads(output.read_text())
    assert report["users"] == 50
    assert report["held_out_likes"] == 250
    # The held-out likes are gone from the database the lists were built from.
    assert Like.objects.count() == report["dataset"]["likes"] - 250
    assert User.objects.count() == 300
    assert VideoHashtag.objects.exists()
    for method in ("for_you", "trending", "following"):
        for cutoff in ("10", "50"):
            assert 0 <= report["hit_rate"][method][cutoff] <= 1
        assert report["hit_rate"][method]["10"] <= report["hit_rate"][method]["50"]
    # Every hashtag with recent videos got a pool, recomputed after the hold-out.
    assert report["tag_pools"] == 10 * 4 + 2
    # With interests in the data, the personalised list finds more of what users liked next.
    assert report["recall"]["for_you"]["50"] > report["recall"]["trending"]["50"]
    assert report["recall"]["for_you"]["50"] > report["recall"]["following"]["50"]
    printed = capsys.readouterr().out
    assert "For You / trending hit-rate@50" in printed
    assert "for_you" in printed
