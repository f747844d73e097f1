"""Every Redis key template outside the feeds (``feed/store.py`` owns the feed keys).

One place to see what lives in Redis and which server holds it. ``{…}`` braces inside a
key are Redis Cluster hash tags: keys that one script touches together share a slot.
"""

# --- the durable Redis (noeviction): state that is not derived from the database --------

# The primary's WAL position after a user's last write (read-your-writes); ``tiktok.db_router``.
WRITE_POSITION_KEY = "db:write-position:{user_id}"
# Counter deltas waiting for the flush, and the batch a flush is applying; ``activity.engagement.counters``.
COUNTER_PENDING_KEY = "counters:{{{entity}}}:pending"
COUNTER_PROCESSING_KEY = "counters:{{{entity}}}:processing"
# Bearer token digest -> "user id|account state|expiry" (or a revocation marker); read in one
# script together with the user's WRITE_POSITION_KEY; ``accounts.tokens``.
TOKEN_CACHE_KEY = "auth:token:{digest}"  # noqa: S105 - a key template, not a secret
# Failed logins (``accounts.login_guard``): per (account, address) failure count and time
# of the last one (a hash), per account and per address counts, and the addresses that
# logged into an account before (exempt from the account-wide limit).
LOGIN_BACKOFF_KEY = "login:backoff:{{{account}}}:{address}"
LOGIN_ACCOUNT_FAILURES_KEY = "login:failures:{{{account}}}"
LOGIN_KNOWN_ADDRESS_KEY = "login:known:{{{account}}}:{address}"
LOGIN_ADDRESS_FAILURES_KEY = "login:failures-from:{address}"
# When a worker last consumed from the default queue, and how many beat ticks ran; ``tiktok.tasks``.
WORKER_HEARTBEAT_KEY = "worker:heartbeat"
WORKER_HEARTBEAT_COUNT_KEY = "worker:heartbeat:count"

# --- the cache Redis (LRU): everything here can be rebuilt -------------------------------

# A video's card without viewer flags; ``videos.selectors``.
VIDEO_CARD_KEY = "video:card:v2:{video_id}"  # v2: the cached card carries its feed id
# The same card as the JSON a client receives (without "viewer"), prefixed "<owner id> ",
# or "-" for a ready video nobody but its owner may see; read by the feed's page script
# (written raw, not through Django's cache), so keyed by the feed member (``Video.feed_id``);
# ``videos.selectors``.
VIDEO_CARD_JSON_KEY = "video:card:j2:{feed_id}"
# A user's like/favorite/follow flags (one hash, rebuilt from SQL on a miss); the hash tag
# is the feed's (``feed:{<user id>}``), so both sit in one slot; ``activity.engagement.flags``. v2: the
# video fields are "l:<feed id>", "f:<feed id>" (the feed's members).
VIEWER_FLAGS_KEY = "flags:v2:{{{user_id}}}"
# The users a viewer must not see: "b:<id>" blocked either way, "m:<id>" muted, plus a
# "built" member (an empty set still says "built"); rebuilt from SQL on a miss, rewritten
# after every block or mute change; same hash tag as the feed; ``activity.visibility.relations``.
HIDDEN_USERS_KEY = "hidden:{{{user_id}}}"
# One view per viewer and video per hour is counted; ``activity.engagement.services``.
VIEW_DEDUPE_KEY = "views:seen:{viewer_id}:{video_id}"
# Requests per scope, client and window; ``tiktok.throttles``.
THROTTLE_KEY = "throttle:{scope}:{ident}:{window}"
