"""Visibility: who a viewer must not see (blocks either way, mutes), cached per viewer and
read by every read path. The bottom of the app's layers: it imports only the models."""
