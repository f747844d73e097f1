"""Every Redis key template outside the feeds (``feed/store.py`` owns the feed keys).

One place to see what lives in Redis and which server holds it. ``{…}`` braces inside a
key are Redis Cluster hash tags: keys that one script touches together share a slot.
"""

# --- the durable Redis (noeviction): state that is not derived from the database --------

# The primary's WAL position after a user's last write (read-your-writes); ``tiktok.db_router``.
WRITE_POSITION_KEY = "db:write-position:{user_id}"
# Counter deltas waiting for the flush, and the batch a flush is applying; ``activity.counters``.
COUNTER_PENDING_KEY = "counters:{{{entity}}}:pending"
COUNTER_PROCESSING_KEY = "counters:{{{entity}}}:processing"
# Failed logins per username or address (lockout); ``accounts.services``.
LOGIN_FAILURES_KEY = "login-failures:{kind}:{ident}"
# When a worker last consumed from the default queue, and how many beat ticks ran; ``tiktok.tasks``.
WORKER_HEARTBEAT_KEY = "worker:heartbeat"
WORKER_HEARTBEAT_COUNT_KEY = "worker:heartbeat:count"

# --- the cache Redis (LRU): everything here can be rebuilt -------------------------------

# A video's card without viewer flags; ``videos.selectors``.
VIDEO_CARD_KEY = "video:card:v1:{video_id}"
# One view per viewer and video per hour is counted; ``activity.services``.
VIEW_DEDUPE_KEY = "views:seen:{viewer_id}:{video_id}"
# Requests per scope, client and window; ``tiktok.throttles``.
THROTTLE_KEY = "throttle:{scope}:{ident}:{window}"
