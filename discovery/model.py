"""For You's ranker: a linear model over each candidate's features, its weights and their fit.

A candidate's score is ``sum(weight[f] * features[f])`` over ``FEATURES``: each source's
evidence (the points it gave the candidate: hashtags, followed, engaged creators,
co-engagement, trending, exploration), how well the candidate matches the viewer's
hashtags and creators, when it came out against the viewer's last like, and what every
viewer made of it (likes, their pace, freshness, like, completion and skip rates). The
weights are fitted by ``discovery.training`` (beat) as a pairwise logistic regression:
for recently active
viewers, a video they went on to like should score above one they did not. Until the first
fit (or when the stored weights expire) ``DEFAULT_WEIGHTS`` rank by the sources' points
alone, the hand-set ranking this model replaces.

A card's reasons come from its dominant features: the sources that brought the candidate,
ordered by what their features (points, match) contributed to its score.

``foryou:{model}:weights:v<FEATURES_VERSION>`` (cache Redis, string): the fitted weights as
JSON. Derived and small; the version changes with ``FEATURES`` so weights fitted on another
feature set are never read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from discovery import store

# Bump with any change to FEATURES or to how one is computed (``discovery.for_you``).
FEATURES_VERSION = 1

SOURCES = ("hashtags", "followed", "creators", "co_engagement", "trending", "exploration")
FEATURES = (
    *SOURCES,  # the points each source gave the candidate (``discovery.ranking.SHARES``)
    "tag_match",  # the viewer's interest in the candidate's hashtags (shares, summed)
    "tag_lift",  # the viewer's interest in its best hashtag over that tag's prevalence (log)
    "creator_match",  # the viewer's interest in the candidate's creator (share)
    "is_followed",  # 1 when the viewer follows its creator
    "log_co_count",  # log(1 + how many of the viewer's engagements list it as a neighbour)
    "log_likes",  # log(1 + likes)
    "log_like_pace",  # log of likes over the share of its first-days likes it has had time for
    "freshness",  # exp(-age / 72 h)
    "log_age",  # log(1 + age in hours)
    "like_rate",  # (likes + 1) / (views + 2)
    "completion_rate",  # completed views / views (smoothed)
    "skip_rate",  # skipped views / views (smoothed)
    "after_last_like",  # 1 when published since the viewer's last like
    "log_days_before_last_like",  # log(1 + days it was published before the viewer's last like)
)
# Before the first fit: the sources' points, as the hand-set ranking had them.
DEFAULT_WEIGHTS = {feature: (1.0 if feature in SOURCES else 0.0) for feature in FEATURES}
# The reason each feature speaks for (quality features, and those on a log scale whose zero
# means nothing, explain no card on their own).
FEATURE_SOURCE = {
    "tag_match": "hashtags",
    "creator_match": "creators",
    "is_followed": "followed",
    "log_co_count": "co_engagement",
    **{source: source for source in SOURCES},
}


def current_weights() -> dict[str, float]:
    """The fitted weights, or ``DEFAULT_WEIGHTS`` before the first fit."""
    model = stored_model()
    return model["weights"] if model is not None else DEFAULT_WEIGHTS


def publish_weights(*, weights: dict[str, float], facts: dict, keep_seconds: int) -> None:
    store.publish_ranker_model(version=FEATURES_VERSION, model={"weights": weights, **facts}, keep_seconds=keep_seconds)


def stored_model() -> dict | None:
    """The stored weights with the facts of their fit (pairs, users, seconds), or None."""
    return store.ranker_model(version=FEATURES_VERSION)


def score(features: dict[str, float], weights: dict[str, float]) -> float:
    return sum(weights[name] * features.get(name, 0.0) for name in FEATURES)


def reasons(*, features: dict[str, float], weights: dict[str, float], labels: dict[str, str]) -> list[str]:
    """The reasons of the sources that brought a candidate (``labels``: source -> reason),
    the one whose features contributed most to its score first."""
    contribution = dict.fromkeys(labels, 0.0)
    for name, source in FEATURE_SOURCE.items():
        if source in contribution:
            contribution[source] += weights[name] * features.get(name, 0.0)
    return [labels[source] for source in sorted(labels, key=lambda source: -contribution[source])]


# --- Fit: pairwise logistic regression (Newton's method, L2), pure Python -------------------

NEWTON_STEPS = 8
L2 = 1.0  # on standardised features: keeps weights finite when the pairs are separable


def fit_pairwise(pairs: Iterable[tuple[dict[str, float], dict[str, float]]]) -> dict[str, float]:
    """Weights that score the first of each pair (liked) above the second (not liked):
    argmax of sum(log sigmoid(w . (x_liked - x_other))) - L2/2 |w|^2 on features scaled to
    unit spread, returned on the features' own scale. ~15 features: pure Python is fast
    enough (a second per 10,000 pairs and step) and numpy is not worth a dependency."""
    rows = [[liked.get(name, 0.0) - other.get(name, 0.0) for name in FEATURES] for liked, other in pairs]
    if not rows:
        raise ValueError("no pairs to fit")
    size = len(FEATURES)
    spread = [math.sqrt(sum(row[j] ** 2 for row in rows) / len(rows)) or 1.0 for j in range(size)]
    scaled = [[row[j] / spread[j] for j in range(size)] for row in rows]
    weights = [0.0] * size
    for _ in range(NEWTON_STEPS):
        gradient = [-L2 * w for w in weights]
        hessian = [[(L2 if i == j else 0.0) for j in range(size)] for i in range(size)]
        for row in scaled:
            margin = sum(w * x for w, x in zip(weights, row, strict=True))
            p = 1.0 / (1.0 + math.exp(-margin)) if margin > -30 else 0.0
            slack, curvature = 1.0 - p, p * (1.0 - p)
            for i in range(size):
                if row[i]:
                    gradient[i] += slack * row[i]
                    scaled_i = curvature * row[i]
                    hessian_row = hessian[i]
                    for j in range(i, size):
                        hessian_row[j] += scaled_i * row[j]
        for i in range(size):
            for j in range(i):
                hessian[i][j] = hessian[j][i]
        step = _solve(hessian, gradient)
        weights = [w + s for w, s in zip(weights, step, strict=True)]
        if max(abs(s) for s in step) < 1e-4:
            break
    return {name: weights[j] / spread[j] for j, name in enumerate(FEATURES)}


def _solve(matrix: Sequence[Sequence[float]], vector: Sequence[float]) -> list[float]:
    """x with matrix . x = vector (Gaussian elimination with partial pivoting; the matrix is
    positive definite: the L2 term keeps it so)."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        rows[column], rows[pivot] = rows[pivot], rows[column]
        for r in range(column + 1, size):
            factor = rows[r][column] / rows[column][column]
            for c in range(column, size + 1):
                rows[r][c] -= factor * rows[column][c]
    solution = [0.0] * size
    for i in reversed(range(size)):
        solution[i] = (rows[i][size] - sum(rows[i][j] * solution[j] for j in range(i + 1, size))) / rows[i][i]
    return solution
