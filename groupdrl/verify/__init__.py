"""Verification under both definitions of disentanglement (``groupdrl.verify``).

- :func:`verify_group`: the group-theory definition (Higgins et al. 2018);
- :func:`verify_intuitive`: the intuitive definition (Bengio et al. 2013) via the standard metrics
  in :mod:`groupdrl.verify.metrics`;
- :func:`verify`: both, side by side in one :class:`Report`.
"""
from __future__ import annotations

from groupdrl.verify import metrics
from groupdrl.verify.group import GroupReport, verify_group
from groupdrl.verify.intuitive import IntuitiveReport, verify_intuitive
from groupdrl.verify.report import Report, verify

__all__ = ["verify", "verify_group", "verify_intuitive", "Report", "GroupReport", "IntuitiveReport", "metrics"]
