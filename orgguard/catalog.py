"""Former home of the control catalog, kept so existing imports work: the controls live in orgguard.controls."""

from orgguard.controls import CATALOG, RUNBOOKS, Control, ControlSettings

__all__ = ["CATALOG", "RUNBOOKS", "Control", "ControlSettings"]
