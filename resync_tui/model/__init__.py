"""The dashboard's model: state and policy the widgets render, testable without Textual.

Nothing here imports Textual, Rich or the UI; nothing here does I/O.
"""
