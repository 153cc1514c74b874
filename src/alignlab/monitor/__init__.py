"""The feedback & monitoring service's logic: proxy, interactions, feedback, keys, detectors, alerts.

The web adapter (:mod:`alignlab.web`) and the CLI call these; nothing here knows about HTTP routes.
"""

from alignlab.monitor.alerts import AlertRecord, AlertSink, AlertState, list_alerts
from alignlab.monitor.batching import GroupCommitter
from alignlab.monitor.detectors import Combiner, Detector, detector_names, get_detector, register_detector
from alignlab.monitor.drift import DriftResult, DriftTracker, mmd_permutation_test
from alignlab.monitor.feedback import (
    FLAG_REASONS,
    FeedbackIn,
    FeedbackRecord,
    FlagFeedback,
    PairwiseFeedback,
    list_feedback,
    list_open_flags,
    next_pair_task,
    record_feedback,
    record_feedback_many,
    resolve_flag,
)
from alignlab.monitor.interactions import (
    MAX_OFFSET,
    InteractionFilter,
    InteractionRecord,
    InteractionStatus,
    NewInteraction,
    UnknownInteractionError,
    get_interaction,
    list_interactions,
    record_interaction,
)
from alignlab.monitor.keys import (
    ApiKey,
    CreatedKey,
    Role,
    create_key,
    list_keys,
    revocation_count,
    revoke_key,
    role_allows,
    verify_key,
)
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.monitor.preferences import ExportSummary, PreferencePair, export_preferences, preference_pairs
from alignlab.monitor.process import MonitorProcess, SignalStop, run_worker
from alignlab.monitor.proxy import ChatProxy, ProxyConfig
from alignlab.monitor.rates import RATE_METRICS, RateBucket, RollingRate, harmful_is_stand_in, rate_series
from alignlab.monitor.sequential import BernoulliCusum
from alignlab.monitor.sessions import UiSession, create_session, end_session, find_session
from alignlab.monitor.state import MonitorState, read_monitor_state
from alignlab.monitor.text import StorableStr, unstorable
from alignlab.monitor.worker import Monitor, MonitorConfig

__all__ = [
    "FLAG_REASONS",
    "MAX_OFFSET",
    "RATE_METRICS",
    "AlertRecord",
    "AlertSink",
    "AlertState",
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
    "FlagFeedback",
    "GroupCommitter",
    "InteractionFilter",
    "InteractionRecord",
    "InteractionStatus",
    "Monitor",
    "MonitorConfig",
    "MonitorProcess",
    "MonitorState",
    "NewInteraction",
    "PairwiseFeedback",
    "PreferencePair",
    "ProxyConfig",
    "RateBucket",
    "Role",
    "RollingRate",
    "ServiceMetrics",
    "SignalStop",
    "StorableStr",
    "UiSession",
    "UnknownInteractionError",
    "create_key",
    "create_session",
    "detector_names",
    "end_session",
    "export_preferences",
    "find_session",
    "get_detector",
    "get_interaction",
    "harmful_is_stand_in",
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
    "record_feedback_many",
    "record_interaction",
    "register_detector",
    "resolve_flag",
    "revocation_count",
    "revoke_key",
    "role_allows",
    "run_worker",
    "unstorable",
    "verify_key",
]
