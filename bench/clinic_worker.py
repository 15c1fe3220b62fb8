"""Clinic benchmark worker: one database (from DATABASE_URL), prints its figures as JSON.

Run by bench/bench_clinic.py in a subprocess per database, with DJANGO_SETTINGS_MODULE=
bench.settings_clinic. Seeds 10,000 patients through the real encryption path (model
pre_save, bulk insert, audited per row) and 10,000 unencrypted twins, then times the admin
changelist (100 rows) of each as a logged-in front-desk user, and blind-index lookups.
"""

import datetime as dt
import gc
import json
import os
import random
import statistics
import sys
import time

import django

PATIENTS = 10_000
PAGE_REQUESTS = 50
WARMUP_REQUESTS = 5
LOOKUPS = 200
BATCH = 1_000


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _summary(samples_ms: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(_percentile(samples_ms, 95), 2),
    }


def _fields(rng: random.Random, number: int) -> dict:
    from clinic.management.commands.seed_demo import demo_patient_fields

    fields = demo_patient_fields(number)
    fields["last_name"] = f"{fields['last_name']}{rng.randrange(1000)}"  # spread the index
    return fields


def _seed(practice) -> list[dict]:
    from bench.twin.models import PatientPlainTwin
    from clinic.models import Patient

    rng = random.Random(7)
    rows = [_fields(rng, n) for n in range(1, PATIENTS + 1)]
    from django.utils import timezone

    now = timezone.now()
    for start in range(0, PATIENTS, BATCH):
        batch = []
        twins = []
        for offset, fields in enumerate(rows[start : start + BATCH]):
            created = now - dt.timedelta(seconds=start + offset)
            patient = Patient(practice=practice, created_at=created, **fields)
            patient.refresh_blind_indexes()
            batch.append(patient)
            twins.append(
                PatientPlainTwin(
                    practice=practice,
                    created_at=created,
                    last_name_dob_bidx=patient.last_name_dob_bidx,
                    phone_bidx=patient.phone_bidx,
                    mrn_bidx=patient.mrn_bidx,
                    **fields,
                )
            )
        Patient.objects.bulk_create(batch)  # encrypts in pre_save; audited per row
        PatientPlainTwin.objects.bulk_create(twins)
    return rows


def _time_pages(client, urls: dict[str, str]) -> dict[str, dict]:
    """p50/p95 per page; requests alternate between the pages so machine noise hits both."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP_REQUESTS):
        for url in urls.values():
            assert client.get(url).status_code == 200  # noqa: S101 - the page must render
    samples: dict[str, list[float]] = {name: [] for name in urls}
    cpu: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(PAGE_REQUESTS):
        for name, url in urls.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples[name].append((time.perf_counter() - started) * 1000)
            # CPU time of this (Django) process: what the page costs us, whatever else runs.
            cpu[name].append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200  # noqa: S101
    figures = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        figures[name] = {
            **_summary(samples[name]),
            "cpu_p50_ms": round(statistics.median(cpu[name]), 2),
            "queries": len(queries.captured_queries),
        }
    return figures


def main() -> None:
    """Seed, measure, print one JSON object."""
    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        from clinic import selectors, services
        from clinic.models import Patient
        from clinic.roles import Role

        practice = services.practice_create(
            actor=None, name="Bench Practice", slug="bench", main_phone="+12015550100"
        )
        started = time.perf_counter()
        rows = _seed(practice)
        seed_seconds = time.perf_counter() - started

        user = get_user_model().objects.create_user(username="bench-frontdesk", password="x")  # noqa: S106 - throwaway
        services.staff_membership_create(
            actor=None, user=user, practice=practice, role=Role.FRONT_DESK
        )
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="twin", codename__startswith="view_")
        )
        client = Client()
        client.force_login(user)
        # Seeding left ~10^5 long-lived objects behind; a serving process would have frozen its
        # start-up heap, so full collections do not land on random requests here either.
        gc.collect()
        gc.freeze()

        results = {"db": connection.vendor, "patients": Patient.objects.count()}
        results.update(
            _time_pages(
                client,
                {
                    "patient_changelist": "/admin/clinic/patient/",
                    "twin_changelist": "/admin/twin/patientplaintwin/",
                },
            )
        )

        rng = random.Random(11)
        lookup_ms = []
        identity_ms = []
        for _ in range(LOOKUPS):
            fields = rows[rng.randrange(len(rows))]
            query = f"{fields['last_name']} {fields['date_of_birth'].isoformat()}"
            started = time.perf_counter()
            found = list(selectors.patient_search(practice_ids=[practice.pk], query=query))
            lookup_ms.append((time.perf_counter() - started) * 1000)
            assert found  # noqa: S101 - the lookup must hit
            started = time.perf_counter()
            selectors.patient_find_by_identity(
                practice_id=practice.pk,
                full_name=f"{fields['first_name']} {fields['last_name']}",
                date_of_birth=fields["date_of_birth"],
            )
            identity_ms.append((time.perf_counter() - started) * 1000)
        results["blind_index_search"] = _summary(lookup_ms)
        results["identity_check"] = _summary(identity_ms)
        results["seed_seconds"] = round(seed_seconds, 1)
        # The figures depend on how busy the machine was; say so next to them.
        results["load_average_1m"] = round(os.getloadavg()[0], 2)
    finally:
        teardown_databases(old, verbosity=0)
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
