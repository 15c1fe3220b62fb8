"""Signals other apps listen to; sent inside the service's transaction.

`patient_phi_erased(sender=Patient, patient=..., actor=...)`: the patient's PHI was just erased.
Apps holding PHI about the patient that clinic cannot see (voiceagent's transcripts and
messages) erase theirs in the same transaction, so an erasure is all or nothing.
"""

from django.dispatch import Signal

patient_phi_erased = Signal()
