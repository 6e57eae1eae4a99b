# Settings for the private BottleCRM that Outpost's CI runs. Copied into
# $OUTPOST_BOTTLECRM_DIR/app by scripts/bottlecrm-up. Everything else comes from
# the environment exported by $OUTPOST_BOTTLECRM_DIR/env.sh (crm.settings reads os.environ).
from crm.settings import *  # noqa: F401,F403

# No Redis: Celery tasks run inline, in the request.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
