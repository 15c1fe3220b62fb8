"""The clinic admin: thin classes over clinic services and selectors, scoped to the user's practices.

Invariants:
- Every class uses PracticeScopedAdminMixin (clinic/admin_scoping.py): querysets, choices,
  autocomplete, raw-id lookups and object URLs stay inside the user's practices; other
  practices' objects answer 404.
- Writes go through clinic.services (so validation and audit events are the services').
- Reads of patients and appointments (change view, changelist page ids) are audited
  (audit.admin_mixins.AuditedReadAdminMixin).
- Patient search is exact match through blind indexes ("lastname 1980-03-03",
  "lastname 03/03/1980", a phone number or an MRN); encrypted columns are never searched in SQL.

Who sees PHI in clear: roles holding `clinic.view_patient_phi` in the patient's practice
(Front desk, Clinician, Practice admin) and superusers. Everyone else who may view patients
(the Compliance officer) sees masked values on lists and detail pages: initials, the birth
year, the last two digits of phone and MRN. Their job is the audit trail, not the chart, and
the masked view still lets them match a row to an audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from audit.actions import AuditAction
from audit.admin_mixins import AuditedReadAdminMixin
from clinic import errors, selectors, services
from clinic.admin_scoping import PracticeScopedAdminMixin, ScopedRelatedFieldListFilter
from clinic.models import (
    CHANGEABLE_STATUSES,
    Appointment,
    AppointmentStatus,
    Patient,
    Practice,
    PracticePhoneNumber,
    Provider,
    StaffMembership,
)
from clinic.roles import PATIENT_PHI_PERMISSION, role_allows
from phi.redaction.context import add_known

MASK = "•••"
PATIENT_DETAIL_FIELDS = ("practice", *services.PATIENT_PHI_FIELDS)
PATIENT_MASKED_FIELDS = (
    "practice",
    "masked_name",
    "masked_date_of_birth",
    "masked_phone",
    "masked_mrn",
    "created_at",
)


class ScopedAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete whose labels come from the target admin's `autocomplete_label`, if any."""

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, str]:
        """{"id", "text"}, with text from autocomplete_label(request, obj) when defined."""
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(self.request, obj)
        return result


def _autocomplete_view(request: HttpRequest) -> Any:
    return ScopedAutocompleteJsonView.as_view(admin_site=admin.site)(request)


# Patient labels need the request (who may see PHI); str(patient) deliberately has no PHI.
admin.site.autocomplete_view = _autocomplete_view


def _adopt(target: Any, saved: Any) -> None:
    # The admin keeps using the instance it built; make it the row the service saved.
    target.__dict__.update(saved.__dict__)


def _tail(value: str | None, keep: int = 2) -> str:
    return f"{MASK}{value[-keep:]}" if value else ""


def phi_visibility(request: HttpRequest) -> Callable[[Any], bool]:
    """A test telling whether the user may see an object's patient PHI in clear."""
    user = request.user
    if user.is_superuser:
        return lambda obj: True
    roles = selectors.roles_for_user(user)
    return lambda obj: role_allows(roles.get(obj.practice_id), PATIENT_PHI_PERMISSION)


class ClinicModelAdmin(PracticeScopedAdminMixin, admin.ModelAdmin):
    """Base for clinic admins: scoped, and with the practice filter scoped too."""

    list_per_page = 100
    list_max_show_all = 200
    # Fields the update services never change: shown read-only once the row exists, so an
    # edit is never silently dropped.
    fixed_on_change: tuple[str, ...] = ("practice",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Declared read-only fields, plus fixed_on_change for existing rows."""
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        return (*readonly, *(f for f in self.fixed_on_change if f not in readonly))


@admin.register(Practice)
class PracticeAdmin(ClinicModelAdmin):
    """Practices: name, phone line, time zone and opening hours."""

    list_display = ("name", "slug", "main_phone", "timezone")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at",)
    fixed_on_change = ("slug",)  # other systems may key on it

    def save_model(self, request: HttpRequest, obj: Practice, form: Any, change: bool) -> None:
        """Create or update through the practice services."""
        data = form.cleaned_data
        if change:
            services.practice_update(
                actor=request.user,
                practice=obj,
                **{name: data[name] for name in form.changed_data if name != "slug"},
            )
            return
        saved = services.practice_create(
            actor=request.user,
            name=data["name"],
            slug=data["slug"],
            main_phone=data["main_phone"],
            timezone_name=data["timezone"],
            address=data.get("address", ""),
            opening_hours=data.get("opening_hours"),
        )
        _adopt(obj, saved)


@admin.register(StaffMembership)
class StaffMembershipAdmin(ClinicModelAdmin):
    """Who works where, in which role."""

    list_display = ("user", "practice", "role", "created_at")
    fixed_on_change = ("user", "practice")
    list_filter = (("practice", ScopedRelatedFieldListFilter), "role")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    list_select_related = ("user", "practice")
    autocomplete_fields = ("practice",)

    def save_model(
        self, request: HttpRequest, obj: StaffMembership, form: Any, change: bool
    ) -> None:
        """Create or change the role through the membership services (keeps groups in sync)."""
        if change:
            services.staff_membership_update(actor=request.user, membership=obj, role=obj.role)
            return
        saved = services.staff_membership_create(
            actor=request.user, user=obj.user, practice=obj.practice, role=obj.role
        )
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: StaffMembership) -> None:
        """Remove the membership through its service (keeps groups in sync)."""
        services.staff_membership_delete(actor=request.user, membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Bulk delete one by one, so each user's groups are re-synced."""
        for membership in queryset:
            services.staff_membership_delete(actor=request.user, membership=membership)


@admin.register(Provider)
class ProviderAdmin(ClinicModelAdmin):
    """Providers patients book with."""

    list_display = ("__str__", "specialty", "practice", "slot_minutes", "active")
    list_filter = (("practice", ScopedRelatedFieldListFilter), "active")
    search_fields = ("first_name", "last_name", "specialty")
    list_select_related = ("practice",)

    def save_model(self, request: HttpRequest, obj: Provider, form: Any, change: bool) -> None:
        """Create through provider_create; changes through provider_update."""
        data = form.cleaned_data
        if change:
            services.provider_update(
                actor=request.user, provider=obj, **{n: data[n] for n in form.changed_data}
            )
            return
        saved = services.provider_create(
            actor=request.user,
            practice=data["practice"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            title=data.get("title", ""),
            specialty=data.get("specialty", ""),
            slot_minutes=data.get("slot_minutes") or 30,
            user=data.get("user"),
        )
        _adopt(obj, saved)


@admin.register(PracticePhoneNumber)
class PracticePhoneNumberAdmin(ClinicModelAdmin):
    """Inbound numbers and the practice each routes to."""

    list_display = ("e164", "label", "practice", "active")
    list_filter = (("practice", ScopedRelatedFieldListFilter), "active")
    search_fields = ("e164", "label")
    list_select_related = ("practice",)

    def save_model(
        self, request: HttpRequest, obj: PracticePhoneNumber, form: Any, change: bool
    ) -> None:
        """Create through practice_phone_number_create; changes through its update service."""
        data = form.cleaned_data
        if change:
            services.practice_phone_number_update(
                actor=request.user, number=obj, **{n: data[n] for n in form.changed_data}
            )
            return
        saved = services.practice_phone_number_create(
            actor=request.user,
            practice=data["practice"],
            e164=data["e164"],
            label=data.get("label", ""),
        )
        _adopt(obj, saved)


@admin.register(Patient)
class PatientAdmin(AuditedReadAdminMixin, ClinicModelAdmin):
    """Patients; PHI decrypted for roles allowed to see it, masked for others (module doc)."""

    audit_resource_type = "clinic.patient"
    audit_view_action = AuditAction.PATIENT_VIEW
    audit_list_action = AuditAction.PATIENT_LIST_VIEW

    # Declared so the admin shows a search box and allows autocomplete; the search itself is
    # get_search_results below (blind indexes), never an SQL match on these columns.
    search_fields = ("last_name_dob_bidx",)
    search_help_text = (
        'Exact match: "lastname 1980-03-03", "lastname 03/03/1980", a phone number or an MRN.'
    )
    list_filter = (("practice", ScopedRelatedFieldListFilter),)
    list_select_related = ("practice",)
    show_full_result_count = False  # one COUNT(*) per page is enough at 10,000+ rows
    readonly_fields = ("created_at",)

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        """Name, date of birth, phone, MRN and practice, masked where the role may not see PHI."""
        reveal = phi_visibility(request)

        @admin.display(description="name")
        def name(obj: Patient) -> str:
            if obj.phi_erased_at:
                return "(PHI erased)"
            return obj.full_name() if reveal(obj) else _initials(obj)

        @admin.display(description="date of birth")
        def date_of_birth(obj: Patient) -> str:
            if obj.date_of_birth is None:
                return ""
            return (
                obj.date_of_birth.isoformat() if reveal(obj) else f"{obj.date_of_birth.year}-••-••"
            )

        @admin.display(description="phone")
        def phone(obj: Patient) -> str:
            return (obj.phone or "") if reveal(obj) else _tail(obj.phone)

        @admin.display(description="MRN")
        def mrn(obj: Patient) -> str:
            return (obj.mrn or "") if reveal(obj) else _tail(obj.mrn)

        return (name, date_of_birth, phone, mrn, "practice")

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        """The name links to the patient."""
        return (list_display[0],)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Full PHI fields, or the masked summary for roles that may not see PHI."""
        if obj is not None and not phi_visibility(request)(obj):
            return PATIENT_MASKED_FIELDS
        return PATIENT_DETAIL_FIELDS if obj is None else (*PATIENT_DETAIL_FIELDS, "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Masked summaries are read-only; the practice of an existing patient never changes."""
        if obj is not None and not phi_visibility(request)(obj):
            return PATIENT_MASKED_FIELDS
        return ("practice", "created_at") if obj is not None else ()

    @admin.display(description="name")
    def masked_name(self, obj: Patient) -> str:
        """Initials only."""
        return _initials(obj)

    @admin.display(description="date of birth")
    def masked_date_of_birth(self, obj: Patient) -> str:
        """Birth year only."""
        return f"{obj.date_of_birth.year}-••-••" if obj.date_of_birth else ""

    @admin.display(description="phone")
    def masked_phone(self, obj: Patient) -> str:
        """Last two digits only."""
        return _tail(obj.phone)

    @admin.display(description="MRN")
    def masked_mrn(self, obj: Patient) -> str:
        """Last two characters only."""
        return _tail(obj.mrn)

    def autocomplete_label(self, request: HttpRequest, obj: Patient) -> str:
        """How a patient is listed in autocomplete: name and birth date, masked if need be."""
        return patient_label(obj, reveal=phi_visibility(request)(obj))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Exact match on blind indexes within the (already scoped) queryset."""
        if not search_term.strip():
            return queryset, False
        matches = selectors.patient_search(
            practice_ids=selectors.practice_ids_for_user(request.user), query=search_term
        )
        # A handful of ids; a literal IN list keeps the planner on the primary key.
        return queryset.filter(pk__in=list(matches.values_list("pk", flat=True))), False

    change_form_template = "admin/clinic/patient/change_form.html"

    def get_urls(self) -> list:
        """The standard patient URLs plus the PHI erase confirmation."""
        erase = path(
            "<path:object_id>/erase-phi/",
            self.admin_site.admin_view(self.erase_phi_view),
            name="clinic_patient_erase_phi",
        )
        return [erase, *super().get_urls()]

    def can_erase_phi(self, request: HttpRequest, obj: Patient) -> bool:
        """Erasing PHI takes the delete permission in the patient's own practice."""
        return obj.phi_erased_at is None and self.role_allows(request, obj, "delete")

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        """The scoped patient, fetched (and decrypted) once per request however often asked."""
        fetched = request.__dict__.setdefault("_clinic_patients", {})
        key = (object_id, from_field)
        if key not in fetched:
            fetched[key] = super().get_object(request, object_id, from_field)
        return fetched[key]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        """The change page, with the erase button for those who may erase."""
        obj = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "can_erase_phi": self.can_erase_phi(request, obj)}
        if phi_visibility(request)(obj) and obj.phi_erased_at is None:
            # This request serves this patient: its logs mask the patient's own values too.
            add_known(
                name=[obj.first_name, obj.last_name],
                date_of_birth=obj.date_of_birth,
                phone=obj.phone,
                mrn=obj.mrn,
                email=obj.email,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def erase_phi_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm, then erase the patient's PHI (rows and audit history are kept)."""
        obj = self.get_object(request, object_id)  # another practice's patient: 404
        if not self.can_erase_phi(request, obj):
            raise PermissionDenied
        form = ErasePHIForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.patient_phi_erase(
                actor=request.user, patient=obj, reason=form.cleaned_data["reason"]
            )
            messages.success(request, ERASE_DONE_MESSAGE)
            return HttpResponseRedirect(
                reverse(
                    "admin:clinic_patient_change", args=[obj.pk], current_app=self.admin_site.name
                )
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "object": obj,
            "form": form,
            "title": "Erase this patient's PHI",
        }
        return TemplateResponse(request, "admin/clinic/patient/erase_phi.html", context)

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        """Create through patient_create; changes through patient_update."""
        data = form.cleaned_data
        if change:
            services.patient_update(
                actor=request.user,
                patient=obj,
                **{n: data[n] for n in form.changed_data if n in services.PATIENT_EDITABLE_FIELDS},
            )
            return
        saved = services.patient_create(
            actor=request.user,
            practice=data["practice"],
            **{n: data.get(n) for n in services.PATIENT_EDITABLE_FIELDS},
        )
        _adopt(obj, saved)


ERASE_DONE_MESSAGE = "The patient's PHI was erased. The record and its audit history remain."
ERASE_REASON_REQUIRED = "Say why the PHI is erased (for example the request's reference)."


class ErasePHIForm(forms.Form):
    """The erase confirmation: a reason, required (recorded as given, not stored as text)."""

    reason = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
        error_messages={"required": ERASE_REASON_REQUIRED},
        help_text="Do not write PHI here.",
    )


def patient_label(patient: Patient, *, reveal: bool) -> str:
    """ "Last, First (YYYY-MM-DD)" for those who may see PHI, initials and birth year otherwise."""
    if patient.phi_erased_at:
        return str(patient)
    dob = patient.date_of_birth
    if reveal:
        return f"{patient.full_name()} ({dob.isoformat() if dob else '?'})"
    return f"{_initials(patient)} ({dob.year if dob else '?'})"


def _initials(patient: Patient) -> str:
    if patient.phi_erased_at:
        return "(PHI erased)"
    first = (patient.first_name or " ")[0]
    last = (patient.last_name or " ")[0]
    return f"{last}{MASK}, {first}{MASK}"


class AppointmentAdminForm(forms.ModelForm):
    """Refuses, on the form, moving or cancelling an appointment that is past that stage."""

    class Meta:
        model = Appointment
        fields = "__all__"  # noqa: DJ007 - the admin decides which fields it shows

    def clean(self) -> dict[str, Any]:
        """Times, provider or cancellation change only while booked or confirmed."""
        data = super().clean()
        if self.instance._state.adding:
            return data
        before = self.initial.get("status")
        moving = bool(set(self.changed_data) & {"start", "end", "provider"})
        cancelling = (
            "status" in self.changed_data and data.get("status") == AppointmentStatus.CANCELLED
        )
        if (moving or cancelling) and before not in CHANGEABLE_STATUSES:
            label = AppointmentStatus(before).label.lower() if before else "closed"
            raise forms.ValidationError(errors.APPOINTMENT_NOT_BOOKABLE.format(status=label))
        return data


@admin.register(Appointment)
class AppointmentAdmin(AuditedReadAdminMixin, ClinicModelAdmin):
    """Appointments; the reason is PHI and shown only on the detail page."""

    form = AppointmentAdminForm
    fixed_on_change = ("practice", "patient")

    audit_resource_type = "clinic.appointment"
    audit_view_action = AuditAction.APPOINTMENT_VIEW
    audit_list_action = AuditAction.APPOINTMENT_LIST_VIEW

    list_filter = (("practice", ScopedRelatedFieldListFilter), "status")
    list_select_related = ("practice", "patient", "provider")
    date_hierarchy = "start"
    search_fields = ("provider__last_name", "provider__first_name")
    autocomplete_fields = ("patient", "provider")
    show_full_result_count = False

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        """Patient names masked where the role may not see PHI."""
        reveal = phi_visibility(request)

        @admin.display(description="patient")
        def patient_display(obj: Appointment) -> str:
            return obj.patient.full_name() if reveal(obj) else _initials(obj.patient)

        return ("start", "end", patient_display, "provider", "status", "practice")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """The chosen patient is labelled with name and birth date (masked if need be)."""
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "patient" and formfield is not None:
            reveal = phi_visibility(request)
            formfield.label_from_instance = lambda obj: patient_label(obj, reveal=reveal(obj))
        return formfield

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """For roles that may not see PHI: a masked patient and no reason."""
        fields = list(super().get_fields(request, obj))
        if obj is not None and not phi_visibility(request)(obj):
            fields = ["masked_patient" if f == "patient" else f for f in fields if f != "reason"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """The masked patient is display-only."""
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not phi_visibility(request)(obj):
            return (*readonly, "masked_patient")
        return readonly

    @admin.display(description="patient")
    def masked_patient(self, obj: Appointment) -> str:
        """Initials only."""
        return _initials(obj.patient)

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        """Book, reschedule, cancel or update through the appointment services."""
        data = form.cleaned_data
        changed = set(form.changed_data)
        if not change:
            saved = services.appointment_book(
                actor=request.user,
                patient=data["patient"],
                provider=data["provider"],
                start=data["start"],
                end=data["end"],
                reason=data.get("reason"),
            )
            if data.get("status") and data["status"] != saved.status:
                saved = services.appointment_update(
                    actor=request.user, appointment=saved, status=data["status"]
                )
            _adopt(obj, saved)
            return
        # The form already applied the new values to obj; the services re-check them,
        # starting from the status the appointment had (AppointmentAdminForm checked it).
        new_status = obj.status
        obj.status = form.initial.get("status", obj.status)
        if changed & {"start", "end", "provider"}:
            services.appointment_reschedule(
                actor=request.user,
                appointment=obj,
                start=data["start"],
                end=data["end"],
                provider=data["provider"],
            )
        if "status" in changed and new_status == AppointmentStatus.CANCELLED:
            services.appointment_cancel(actor=request.user, appointment=obj)
            changed.discard("status")
        updates = {n: data[n] for n in changed & {"status", "reason"}}
        if updates:
            services.appointment_update(actor=request.user, appointment=obj, **updates)
