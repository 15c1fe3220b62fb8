"""What happened: the audit action codes.

Invariant: codes live in numbered blocks (1xx patient, 2xx appointment, 3xx key, 4xx call,
5xx auth/staff, 6xx audit/compliance, 7xx other records) and a number, once used, is never
reused or renumbered, because it is part of every hashed event already in the chain.
"""

from enum import IntEnum, unique


@unique
class AuditAction(IntEnum):
    """Every action the audit trail records; the integer is what the chain hashes."""

    # 1xx patient
    PATIENT_CREATE = 101
    PATIENT_UPDATE = 102
    PATIENT_DELETE = 103
    PATIENT_VIEW = 104
    PATIENT_LIST_VIEW = 105
    PATIENT_SEARCH = 106
    PATIENT_PHI_ERASE = 107
    PATIENT_EXPORT = 108

    # 2xx appointment
    APPOINTMENT_CREATE = 201
    APPOINTMENT_UPDATE = 202
    APPOINTMENT_DELETE = 203
    APPOINTMENT_VIEW = 204
    APPOINTMENT_LIST_VIEW = 205
    APPOINTMENT_BOOK = 206
    APPOINTMENT_CANCEL = 207
    APPOINTMENT_RESCHEDULE = 208

    # 3xx keys
    DATA_KEY_CREATE = 301
    DATA_KEY_ROTATE = 302
    DATA_KEY_REWRAP = 303
    DATA_KEY_RETIRE = 304
    DATA_REENCRYPT = 305
    INDEX_KEY_CREATE = 306

    # 4xx calls
    CALL_START = 401
    CALL_IDENTITY_VERIFIED = 402
    CALL_IDENTITY_FAILED = 403
    CALL_TOOL = 404
    CALL_TRANSFER = 405
    CALL_END = 406
    CALL_MESSAGE_TAKEN = 407
    CALL_TRANSCRIPT_VIEW = 408

    # 5xx auth and staff
    LOGIN = 501
    LOGOUT = 502
    LOGIN_FAILED = 503
    PERMISSION_CHANGE = 504
    GROUP_CHANGE = 505
    STAFF_MEMBERSHIP_CHANGE = 506

    # 6xx audit and compliance
    AUDIT_EXPORT = 601
    DISCLOSURE_REPORT = 602
    CHECKPOINT_WRITTEN = 603
    AUDIT_VIEW = 604

    # 7xx other records (models registered without their own codes)
    RECORD_CREATE = 701
    RECORD_UPDATE = 702
    RECORD_DELETE = 703
    RECORD_VIEW = 704
    RECORD_LIST_VIEW = 705

    @property
    def label(self) -> str:
        """Human label for admin lists and reports, e.g. "Patient view"."""
        return self.name.replace("_", " ").capitalize()


# Actions that disclose or read one patient's PHI: the accounting of disclosures lists them.
PHI_ACCESS_ACTIONS: frozenset[AuditAction] = frozenset(
    {
        AuditAction.PATIENT_CREATE,
        AuditAction.PATIENT_UPDATE,
        AuditAction.PATIENT_DELETE,
        AuditAction.PATIENT_VIEW,
        AuditAction.PATIENT_LIST_VIEW,
        AuditAction.PATIENT_SEARCH,
        AuditAction.PATIENT_PHI_ERASE,
        AuditAction.PATIENT_EXPORT,
        AuditAction.APPOINTMENT_CREATE,
        AuditAction.APPOINTMENT_UPDATE,
        AuditAction.APPOINTMENT_DELETE,
        AuditAction.APPOINTMENT_VIEW,
        AuditAction.APPOINTMENT_LIST_VIEW,
        AuditAction.APPOINTMENT_BOOK,
        AuditAction.APPOINTMENT_CANCEL,
        AuditAction.APPOINTMENT_RESCHEDULE,
        AuditAction.CALL_IDENTITY_VERIFIED,
        AuditAction.CALL_TOOL,
        AuditAction.CALL_MESSAGE_TAKEN,
        AuditAction.CALL_TRANSCRIPT_VIEW,
    }
)
