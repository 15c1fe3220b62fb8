"""Settings for the Daphne subprocess of end-to-end tests, simulate_call and the bench.

The test settings, plus a BAA on file for the realtime processors, as a deployment that has
signed one sets it (phi.egress reads PHI_EGRESS_BAA). Strict mode stays on, so a provider
without a BAA is refused exactly as in production.
"""

from config.settings.test import *  # noqa: F403

PHI_EGRESS_BAA = {"openai": True, "azure-openai": True}
