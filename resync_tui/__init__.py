"""resync-tui: a terminal operations console for HCL Workload Automation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("resync-tui")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
