"""What the test modules share: the only test code they import (besides ``tests.factories``).

Test modules and conftests never import one another (``tests/test_suite_layout.py``
checks it): a helper two areas need lives here, a fixture two areas need lives in
``tests.helpers.fixtures`` (a plugin the root conftest loads).
"""
