"""docker-compose.yml stays a valid description of production: it sets every variable that
production settings require (a missing one would stop the boot)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def required_production_variables() -> set[str]:
    """Variables read in production.py with no default."""
    source = (ROOT / "config" / "settings" / "production.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\("([A-Z_]+)"\)', source))


def test_compose_file_runs_web_integrator_database_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"web", "audit-integrator", "db", "redis"}
    integrator = compose["services"]["audit-integrator"]
    assert integrator["command"][-2:] == ["audit_integrate", "--follow"]
    assert integrator["environment"] == compose["services"]["web"]["environment"]
    assert compose["services"]["web"]["environment"]["DJANGO_SETTINGS_MODULE"] == (
        "config.settings.production"
    )


def test_compose_sets_every_variable_production_requires():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    provided = set(compose["services"]["web"]["environment"])
    missing = required_production_variables() - provided
    assert not missing, f"docker-compose.yml does not set {sorted(missing)}"


def test_production_requires_the_secrets_it_must_not_guess():
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "PHI_KEK_ID"} <= required_production_variables()
