"""Allow ``python -m resync_tui``."""

from resync_tui.cli import main

raise SystemExit(main())
