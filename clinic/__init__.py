"""The practice: tenants, staff, providers, patients, appointments, phone numbers."""
