"""Engagement: likes, favorites, comments and views, the counters of every relation and the
viewer's flags on cards. Below the graph (a follow moves these counters and flags), above
the notifications (a like notifies)."""
