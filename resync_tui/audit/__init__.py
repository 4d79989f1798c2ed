"""The audit trail of operator actions: write-ahead spool, Redis Stream, hash chains.

Nothing here knows Textual, the UI or the feeds; Redis is used directly (async).
"""

from resync_tui.audit.log import AuditHealth, AuditLog, DrainResult
from resync_tui.audit.record import JobRef, Justification, Outcome, RecordId, uuid7
from resync_tui.audit.spool import Spool, SpoolError, default_spool_dir
from resync_tui.audit.verify import Report, verify

__all__ = ["AuditHealth", "AuditLog", "DrainResult", "JobRef", "Justification", "Outcome",
           "RecordId", "Report", "Spool", "SpoolError", "default_spool_dir", "uuid7", "verify"]
