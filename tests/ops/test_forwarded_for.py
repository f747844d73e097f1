"""The deployment passes the client's address the way the app trusts it (static checks)."""

import re
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def test_nginx_overwrites_x_forwarded_for_and_the_app_trusts_exactly_one_proxy():
    conf = (DOCKER / "nginx" / "nginx.conf").read_text()
    settings = re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", conf)
    assert settings and set(settings) == {"$remote_addr"}, settings  # never $proxy_add_x_forwarded_for
    environment = yaml.safe_load((DOCKER / "compose.yaml").read_text())["x-app-env"]
    assert str(environment["TRUSTED_PROXY_COUNT"]).endswith("-1}")
