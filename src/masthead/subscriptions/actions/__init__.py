"""Every subscription state change, whatever asks for it (checkout, account page, admin,
webhooks, jobs). Each action is one transaction that locks the subscription row, re-checks
the state under the lock, moves it through the transition table (`transitions.MOVES`) with
its history row, and sends e-mail only on commit.

Modules by concern: `checkout` (start a subscription), `lifecycle` (what time does),
`schedule` (what is due when), `changes` (reader choices), `proration` (plan change
prices), `refunds`, `provider_sync` (mirroring Stripe), `eligibility` (read-only queries),
`charges` (cards and ledger rows), `notices` (renewal and price-change notices),
`dunning` (failed-payment e-mails and card-expiry reminders),
`reconcile` (settling unknown payments), `retention` (pause, save offers, win-back),
`transitions` (the table). Callers import this package:
`from masthead.subscriptions import actions; actions.renew(...)`.
"""

from masthead.subscriptions.actions.changes import cancel, change_plan, resume, update_card
from masthead.subscriptions.actions.checkout import (
    grant_comp,
    record_checkout_consent,
    seats_refusal,
    start_trial,
    subscribe,
)
from masthead.subscriptions.actions.dunning import (
    send_card_expiry_reminder,
    send_dunning_notice,
)
from masthead.subscriptions.actions.eligibility import ever_paid, live_subscription, offer_refusal
from masthead.subscriptions.actions.errors import (
    IllegalTransition,
    NotEligible,
    PreviewOutdated,
    SubscriptionError,
)
from masthead.subscriptions.actions.lifecycle import (
    expire,
    record_payment_failure,
    renew,
    send_trial_reminder,
)
from masthead.subscriptions.actions.notices import (
    change_plan_price,
    renewal_notice_due_at,
    renewal_price,
    send_price_notice,
    send_renewal_notice,
)
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.proration import PlanChangePreview, preview_plan_change
from masthead.subscriptions.actions.provider_sync import (
    apply_provider_state,
    record_provider_charge,
)
from masthead.subscriptions.actions.reconcile import RECONCILE_AFTER, reconcile_payments
from masthead.subscriptions.actions.refunds import refund
from masthead.subscriptions.actions.retention import (
    accept_save_offer,
    end_pause,
    flow_offer,
    pause,
    send_winback,
    start_cancellation,
    unpause,
)
from masthead.subscriptions.actions.retention import unpause_fields as retention_unpause_fields
from masthead.subscriptions.actions.schedule import DueStep, advance, next_due_step
from masthead.subscriptions.actions.transitions import MOVES, create, transition

__all__ = [
    "MOVES",
    "RECONCILE_AFTER",
    "DueStep",
    "IllegalTransition",
    "NotEligible",
    "PlanChangePreview",
    "PreviewOutdated",
    "SubscriptionError",
    "accept_save_offer",
    "add_months",
    "advance",
    "apply_provider_state",
    "cancel",
    "change_plan",
    "change_plan_price",
    "create",
    "end_pause",
    "ever_paid",
    "expire",
    "flow_offer",
    "grant_comp",
    "live_subscription",
    "next_due_step",
    "offer_refusal",
    "pause",
    "preview_plan_change",
    "reconcile_payments",
    "record_checkout_consent",
    "record_payment_failure",
    "record_provider_charge",
    "refund",
    "renew",
    "renewal_notice_due_at",
    "renewal_price",
    "resume",
    "retention_unpause_fields",
    "seats_refusal",
    "send_card_expiry_reminder",
    "send_dunning_notice",
    "send_price_notice",
    "send_renewal_notice",
    "send_trial_reminder",
    "send_winback",
    "start_cancellation",
    "start_trial",
    "subscribe",
    "transition",
    "unpause",
    "update_card",
]
