"""The feedback & monitoring service's logic: proxy, interactions, feedback, keys, detectors, alerts.

The web adapter (:mod:`alignlab.web`) and the CLI call these; nothing here knows about HTTP routes.
"""

from alignlab.monitor.alerts import AlertRecord, AlertSink, list_alerts
from alignlab.monitor.detectors import Combiner, Detector, detector_names, get_detector, register_detector
from alignlab.monitor.drift import DriftResult, DriftTracker, mmd_permutation_test
from alignlab.monitor.feedback import (
    FeedbackIn,
    FeedbackRecord,
    list_feedback,
    list_open_flags,
    next_pair_task,
    record_feedback,
    resolve_flag,
)
from alignlab.monitor.interactions import (
    InteractionFilter,
    InteractionRecord,
    NewInteraction,
    UnknownInteractionError,
    get_interaction,
    list_interactions,
    record_interaction,
)
from alignlab.monitor.keys import ApiKey, CreatedKey, Role, create_key, list_keys, revoke_key, verify_key
from alignlab.monitor.preferences import ExportSummary, PreferencePair, export_preferences, preference_pairs
from alignlab.monitor.process import MonitorProcess, run_worker
from alignlab.monitor.proxy import ChatProxy, ProxyConfig
from alignlab.monitor.rates import RollingRate, rate_series
from alignlab.monitor.sequential import BernoulliCusum
from alignlab.monitor.state import MonitorState, read_monitor_state
from alignlab.monitor.worker import Monitor, MonitorConfig

__all__ = [
    "AlertRecord",
    "AlertSink",
    "ApiKey",
    "BernoulliCusum",
    "ChatProxy",
    "Combiner",
    "CreatedKey",
    "Detector",
    "DriftResult",
    "DriftTracker",
    "ExportSummary",
    "FeedbackIn",
    "FeedbackRecord",
    "InteractionFilter",
    "InteractionRecord",
    "Monitor",
    "MonitorConfig",
    "MonitorProcess",
    "MonitorState",
    "NewInteraction",
    "PreferencePair",
    "ProxyConfig",
    "Role",
    "RollingRate",
    "UnknownInteractionError",
    "create_key",
    "detector_names",
    "export_preferences",
    "get_detector",
    "get_interaction",
    "list_alerts",
    "list_feedback",
    "list_interactions",
    "list_keys",
    "list_open_flags",
    "mmd_permutation_test",
    "next_pair_task",
    "preference_pairs",
    "rate_series",
    "read_monitor_state",
    "record_feedback",
    "record_interaction",
    "register_detector",
    "resolve_flag",
    "revoke_key",
    "run_worker",
    "verify_key",
]
