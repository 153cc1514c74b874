"""The web adapter of the feedback & monitoring service (FastAPI): ``create_app(settings, config)``."""

from alignlab.web.app import create_app
from alignlab.web.config import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]
