#!/usr/bin/env python3
# BottleCRM's wheel ships no manage.py. Copied into $OUTPOST_BOTTLECRM_DIR/app by scripts/bottlecrm-up.
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "local_settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
