"""The twin's admin: the patient changelist's columns and mixins, minus decryption and masking."""

from django.contrib import admin

from audit.actions import AuditAction
from audit.admin_mixins import AuditedReadAdminMixin
from bench.twin.models import PatientPlainTwin
from clinic.admin import ClinicModelAdmin
from clinic.admin_scoping import ScopedRelatedFieldListFilter


@admin.register(PatientPlainTwin)
class PatientPlainTwinAdmin(AuditedReadAdminMixin, ClinicModelAdmin):
    """Same page shape as PatientAdmin: 100 rows, scoped, audited, no full count."""

    audit_resource_type = "twin.patientplaintwin"
    audit_list_action = AuditAction.RECORD_LIST_VIEW
    list_display = ("name", "date_of_birth", "phone", "mrn", "practice")
    list_filter = (("practice", ScopedRelatedFieldListFilter),)
    list_select_related = ("practice",)
    search_fields = ("last_name_dob_bidx",)
    show_full_result_count = False

    @admin.display(description="name")
    def name(self, obj: PatientPlainTwin) -> str:
        """ "Last, First"."""
        return f"{obj.last_name}, {obj.first_name}"
