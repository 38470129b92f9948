"""Saving an experiment or a variant retires every process's copy of the running experiments
(through the site generation, like the meter policy)."""

from __future__ import annotations

import django.dispatch
from django.db.models.signals import post_delete, post_save

from masthead.core import generation
from masthead.experiments.models import Experiment, Variant
from masthead.experiments.running import forget

# Sent in the transaction that applies a winner, with `experiment` and `variant`: the domain
# that owns the varied setting writes the winning value (metering for allowance and preview).
winner_applied = django.dispatch.Signal()

for _model in (Experiment, Variant):
    for _name, _signal in (("saved", post_save), ("deleted", post_delete)):
        _uid = f"experiments-{_model.__name__}-{_name}"
        _signal.connect(forget, sender=_model, dispatch_uid=_uid)
        _signal.connect(
            generation.bump_now_and_on_commit, sender=_model, dispatch_uid=f"{_uid}-gen"
        )
