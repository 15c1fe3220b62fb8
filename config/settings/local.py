"""Local development: `make run`. Debug on, everything embedded."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
