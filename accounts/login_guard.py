"""Slowing password guessing without locking the owner out (API and admin logins).

Counted in the durable Redis, for ``LOGIN_FAILURE_WINDOW_SECONDS`` after the last
failure, per normalised account name (whether or not it exists) and per client address
(``tiktok.client_address``, never a client-supplied header):

* per (account, address): the first ``LOGIN_BACKOFF_FREE_FAILURES`` failures are free,
  then the next attempt must wait 2, 4, 8... seconds (at most
  ``LOGIN_BACKOFF_MAX_SECONDS``). A typo costs nothing; guessing from one address
  gets exponentially slower.
* per account, from anywhere: after ``LOGIN_ACCOUNT_FAILURE_LIMIT`` failures only
  addresses that logged into the account before (for ``LOGIN_KNOWN_ADDRESS_DAYS``) may
  try: a spray from many addresses stops, the owner on a known address still gets in.
* per address, over all accounts: after ``LOGIN_FAILURE_LIMIT`` failures the address is
  refused (one address trying many accounts).
"""

from __future__ import annotations

import time

from django.conf import settings
from django_redis import get_redis_connection

from tiktok.exceptions import ApplicationError
from tiktok.keys import (
    LOGIN_ACCOUNT_FAILURES_KEY,
    LOGIN_ADDRESS_FAILURES_KEY,
    LOGIN_BACKOFF_KEY,
    LOGIN_KNOWN_ADDRESS_KEY,
)


class LoginLockedError(ApplicationError):
    status_code = 429
    code = "login_locked"

    def __init__(self, retry_after: float):
        retry_after = max(1, int(retry_after + 0.999))
        super().__init__(f"Too many failed logins; try again in {retry_after} seconds.")
        self.retry_after = retry_after


def _keys(account: str, address: str) -> tuple[str, str, str, str]:
    return (
        LOGIN_BACKOFF_KEY.format(account=account, address=address),
        LOGIN_ACCOUNT_FAILURES_KEY.format(account=account),
        LOGIN_ADDRESS_FAILURES_KEY.format(address=address),
        LOGIN_KNOWN_ADDRESS_KEY.format(account=account, address=address),
    )


def backoff_seconds(failures: int) -> float:
    """How long after its last failure a (account, address) pair must wait."""
    over = failures - settings.LOGIN_BACKOFF_FREE_FAILURES
    if over <= 0:
        return 0.0
    return float(min(2 ** min(over, 30), settings.LOGIN_BACKOFF_MAX_SECONDS))


def login_check(*, account: str, address: str) -> None:
    """Raise ``LoginLockedError`` if this attempt must wait; one Redis round trip."""
    backoff, account_key, address_key, known_key = _keys(account, address)
    pipe = get_redis_connection("durable").pipeline(transaction=False)
    pipe.hmget(backoff, "failures", "last")
    pipe.get(account_key)
    pipe.ttl(account_key)
    pipe.get(address_key)
    pipe.ttl(address_key)
    pipe.exists(known_key)
    (failures, last), account_failures, account_ttl, address_failures, address_ttl, known = pipe.execute()
    if int(address_failures or 0) >= settings.LOGIN_FAILURE_LIMIT:
        raise LoginLockedError(retry_after=address_ttl)
    if int(account_failures or 0) >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT and not known:
        raise LoginLockedError(retry_after=account_ttl)
    wait = backoff_seconds(int(failures or 0))
    if wait and last is not None:
        remaining = float(last) + wait - time.time()
        if remaining > 0:
            raise LoginLockedError(retry_after=remaining)


def login_failed(*, account: str, address: str) -> None:
    backoff, account_key, address_key, _ = _keys(account, address)
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    pipe = get_redis_connection("durable").pipeline(transaction=False)
    pipe.hincrby(backoff, "failures", 1)
    pipe.hset(backoff, "last", repr(time.time()))
    pipe.expire(backoff, window)
    for key in (account_key, address_key):
        pipe.incr(key)
        pipe.expire(key, window)
    pipe.execute()


def login_succeeded(*, account: str, address: str) -> None:
    """The password was right: this pair starts afresh and the address becomes known.

    The account-wide count stays: other addresses' guesses are still counted.
    """
    backoff, _, _, known_key = _keys(account, address)
    pipe = get_redis_connection("durable").pipeline(transaction=False)
    pipe.delete(backoff)
    pipe.set(known_key, 1, ex=settings.LOGIN_KNOWN_ADDRESS_DAYS * 86400)
    pipe.execute()
