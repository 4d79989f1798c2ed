"""The shared feed: one poll of the engine for a whole NOC, carried by Redis.

Knows Redis, not Textual, the HWA client or the feeds: the feeds use it.
"""
