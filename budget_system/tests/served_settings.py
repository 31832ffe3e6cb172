"""Settings of the gunicorn that tests start (budget_system.tests.served).

The test settings, except the cache: with REDIS_URL the real Redis cache of the
production settings (short timeouts, REDIS_KEY_PREFIX), so the throttles count in
Redis as in production. Each test gives its own key prefix: nothing is flushed.
"""

import budget_system.settings as production
from budget_system.test_settings import *  # noqa: F403

CACHES = production.CACHES
