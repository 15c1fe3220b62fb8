"""Benchmark-only app: an unencrypted twin of clinic.Patient, the baseline for the changelist figure.

Installed only by bench/settings_clinic.py, so the production schema never carries it. Its table
is made by the test runner's syncdb (no migrations), in the benchmark's throwaway database.
"""
