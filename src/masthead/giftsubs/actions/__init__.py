"""Every change of a gift subscription: purchase, delivery, redemption, the ending reminder,
refund and breakage. Each is one transaction that locks the gift's row, re-checks its state
under the lock, moves it through `MOVES` with its history row (`GiftEvent`) and writes its
e-mail to the outbox (sent only if the change commits). Money moves in two phases through
`masthead.billing.payments`, with no transaction open while the provider is called.

Ledger rows (all on the buyer; docs/gift-subscriptions.md):

    sale        charge   +N   (no subscription yet)   cash in
                deferral -N   related=sale            not revenue until redeemed
    redemption  release  +N   related=sale, on the recipient's subscription
    refund      refund   -N   related=sale            cash out
                release  +N   related=sale            the deferral is closed
    breakage    release  +N   related=sale            never redeemed: revenue

Modules by concern: `history` (the table, the row lock, e-mail and ledger rows), `prices`
(read-only), `purchase`, `delivery`, `redemption`, `reminder`, `refunds` (and breakage).
Callers import this package: `from masthead.giftsubs import actions; actions.redeem(...)`.
"""

from masthead.giftsubs.actions.delivery import code_valid_until, deliver, hash_code, redeem_path
from masthead.giftsubs.actions.history import MOVES, GiftError
from masthead.giftsubs.actions.prices import (
    MAX_DELIVERY_DAYS,
    Choice,
    choices,
    delivery_moment,
    delivery_refusal,
    gift_plan,
    price_for,
    today,
)
from masthead.giftsubs.actions.purchase import purchase, settle_purchase
from masthead.giftsubs.actions.redemption import (
    REFUSALS,
    Preview,
    find,
    preview,
    redeem,
    refusal_text,
)
from masthead.giftsubs.actions.refunds import expire_unredeemed, refund, settle_refund
from masthead.giftsubs.actions.reminder import conversion_offer, reminder_before, send_reminder

__all__ = [
    "MAX_DELIVERY_DAYS",
    "MOVES",
    "REFUSALS",
    "Choice",
    "GiftError",
    "Preview",
    "choices",
    "code_valid_until",
    "conversion_offer",
    "deliver",
    "delivery_moment",
    "delivery_refusal",
    "expire_unredeemed",
    "find",
    "gift_plan",
    "hash_code",
    "preview",
    "price_for",
    "purchase",
    "redeem",
    "redeem_path",
    "refund",
    "refusal_text",
    "reminder_before",
    "send_reminder",
    "settle_purchase",
    "settle_refund",
    "today",
]
