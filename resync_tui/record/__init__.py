"""Record what the feeds published, and play it back through the same dashboard.

``format``: the file (header, frames, entries) and its reader; ``recorder``: the
hook on the runners' publish path; ``replay``: the recording as feeds, on a timeline.
Knows the feeds' states, never Textual.
"""
