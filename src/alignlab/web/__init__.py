"""The web adapter of the feedback & monitoring service (FastAPI): ``create_app(settings, config)``."""

from alignlab.web.app import create_app
from alignlab.web.config import ServiceConfig
from alignlab.web.deps import ServiceState, service_state

__all__ = ["ServiceConfig", "ServiceState", "create_app", "service_state"]
