"""Input and output shapes of the endpoints, by resource. Inputs used by one view are
nested in it (``api.endpoints``); every component name is unique across the project
(drf-spectacular refuses duplicates)."""
