"""Stripe payloads in the shape of the API version the installed SDK pins.

The shape comes from the SDK's own type annotations (`stripe.Subscription`,
`stripe.SubscriptionItem`, `stripe.Invoice`, ...), which are generated from Stripe's OpenAPI
description for that version. Two guards follow from it:

- every builder below validates what it writes (`validate`), so a payload cannot carry a field
  the pinned version does not have (the old `current_period_end` on a subscription, or
  `subscription` on an invoice, are refused);
- `strict(payload)` wraps a payload so that *reading* a field the pinned version does not have
  raises `ShapeError`: a test that hands strict payloads to the webhook parser fails the day the
  parser reads a field that is not in the version.
"""

from __future__ import annotations

import itertools
import sys
import typing
from typing import Any, ForwardRef

import stripe
from stripe._list_object import ListObject
from stripe._stripe_object import StripeObject, UntypedStripeObject

API_VERSION = stripe.api_version  # the version the SDK pins (and sends on every request)

OBJECT_CLASSES: dict[str, type] = {
    "event": stripe.Event,
    "customer": stripe.Customer,
    "subscription": stripe.Subscription,
    "subscription_item": stripe.SubscriptionItem,
    "price": stripe.Price,
    "invoice": stripe.Invoice,
    "line_item": stripe.InvoiceLineItem,
    "invoice_payment": stripe.InvoicePayment,
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "checkout.session": stripe.checkout.Session,
    "billing_portal.session": stripe.billing_portal.Session,
}


class ShapeError(AssertionError):
    """A field that the pinned API version does not have."""


def fields_of(cls: type) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        fields.update(getattr(klass, "__annotations__", {}))
    fields.pop("OBJECT_NAME", None)
    if issubclass(cls, ListObject):
        fields["object"] = str
    return fields


def _forward(name: str, owner: type) -> Any:
    for namespace in (vars(sys.modules[owner.__module__]), vars(stripe)):
        if name in namespace:
            return namespace[name]
    return Any


# A schema node: ("object", cls) | ("list_object", node) | ("list", node) | ("any",) |
# ("scalar",) | ("union", [nodes]).
Node = tuple[Any, ...]


def node_for(annotation: Any, owner: type) -> Node:
    if isinstance(annotation, ForwardRef):
        annotation = _forward(annotation.__forward_arg__, owner)
    if isinstance(annotation, str):
        annotation = _forward(annotation, owner)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union:
        nodes = [node_for(arg, owner) for arg in args]
        nodes = [n for n in nodes if n[0] != "scalar"]
        if not nodes:
            return ("scalar",)
        return nodes[0] if len(nodes) == 1 else ("union", nodes)
    if origin is not None and isinstance(origin, type) and issubclass(origin, ListObject):
        return ("list_object", node_for(args[0], owner) if args else ("any",))
    if origin in (list, typing.List):  # noqa: UP006
        return ("list", node_for(args[0], owner) if args else ("any",))
    if origin is not None and isinstance(origin, type) and issubclass(origin, UntypedStripeObject):
        return ("any",)
    if annotation is Any:
        return ("any",)
    if isinstance(annotation, type) and issubclass(annotation, UntypedStripeObject):
        return ("any",)
    if isinstance(annotation, type) and issubclass(annotation, ListObject):
        return ("list_object", ("any",))
    if isinstance(annotation, type) and issubclass(annotation, StripeObject):
        return ("object", annotation)
    return ("scalar",)


def _pick(node: Node, value: Any, where: str) -> Node:
    """The node that describes `value` (an expandable field is an id or an object)."""
    if node[0] == "union":
        if isinstance(value, dict):
            name = value.get("object")
            by_object = OBJECT_CLASSES.get(name) if isinstance(name, str) else None
            objects = [n for n in node[1] if n[0] == "object"]
            if by_object is not None and any(n[1] is by_object for n in objects):
                return ("object", by_object)
            if len(objects) == 1:
                return objects[0]
            for candidate in node[1]:
                if candidate[0] != "object":
                    return candidate
            raise ShapeError(f"{where}: cannot tell which object this is")
        return ("scalar",)
    named_object = value.get("object") if isinstance(value, dict) else None
    if node[0] == "object" and isinstance(named_object, str) and named_object in OBJECT_CLASSES:
        named = OBJECT_CLASSES[value["object"]]
        if named is not node[1] and issubclass(named, node[1]):
            return ("object", named)
    return node


def _field_node(cls: type, key: str, where: str) -> Node:
    fields = fields_of(cls)
    if key not in fields:
        raise ShapeError(
            f"{where}.{key}: {cls.__name__} has no field {key!r} at API version {API_VERSION}"
        )
    return node_for(fields[key], cls)


def validate(value: Any, node: Node, where: str = "") -> None:
    """Raise ShapeError if `value` has a field its type does not have at the pinned version."""
    node = _pick(node, value, where)
    kind = node[0]
    if value is None or kind in ("any", "scalar"):
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: expected a {node[1].__name__} object, got {value!r}")
        for key, item in value.items():
            validate(item, _field_node(node[1], key, where or node[1].__name__), f"{where}.{key}")
    elif kind == "list_object":
        if not isinstance(value, dict) or value.get("object") != "list":
            raise ShapeError(f"{where}: expected a list object")
        for key in value:
            if key not in ("object", "data", "has_more", "url"):
                raise ShapeError(f"{where}.{key}: a list has no field {key!r}")
        for index, item in enumerate(value["data"]):
            validate(item, node[1], f"{where}.data[{index}]")
    elif kind == "list":
        for index, item in enumerate(value):
            validate(item, node[1], f"{where}[{index}]")


class Strict(dict):  # type: ignore[type-arg]
    """A payload that refuses to be read at a field its type lacks at the pinned version."""

    def __init__(self, value: dict[str, Any], node: Node, where: str) -> None:
        super().__init__(value)
        self._node = node
        self._where = where

    def _child(self, key: str) -> Node:
        kind = self._node[0]
        if kind == "object":
            return _field_node(self._node[1], key, self._where)
        if kind == "list_object":
            if key == "data":
                return ("list", self._node[1])
            if key in ("object", "has_more", "url"):
                return ("scalar",)
            raise ShapeError(f"{self._where}.{key}: a list has no field {key!r}")
        return ("any",)

    def __getitem__(self, key: str) -> Any:
        node = self._child(key)
        return wrap(super().__getitem__(key), node, f"{self._where}.{key}")

    def get(self, key: str, default: Any = None) -> Any:
        node = self._child(key)
        if not super().__contains__(key):
            return default
        return wrap(super().__getitem__(key), node, f"{self._where}.{key}")

    def __contains__(self, key: object) -> bool:
        self._child(str(key))
        return super().__contains__(key)


def wrap(value: Any, node: Node, where: str) -> Any:
    node = _pick(node, value, where)
    if isinstance(value, dict) and node[0] in ("object", "list_object"):
        return Strict(value, node, where)
    if isinstance(value, list) and node[0] == "list":
        return [wrap(item, node[1], f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def strict(event: dict[str, Any]) -> Strict:
    """An event whose `data.object` is typed by its `object` name."""
    wrapped = Strict(event, ("object", stripe.Event), "Event")
    obj = event["data"]["object"]
    cls = OBJECT_CLASSES[obj["object"]]
    data = dict(event["data"])
    data["object"] = Strict(obj, ("object", cls), cls.__name__)
    dict.__setitem__(wrapped, "data", data)
    return wrapped


def checked(obj: dict[str, Any]) -> dict[str, Any]:
    validate(obj, ("object", OBJECT_CLASSES[obj["object"]]), obj["object"])
    return obj


# ---------------------------------------------------------------- builders

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}masthead"


def list_of(items: list[dict[str, Any]], url: str = "/v1/list") -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": False, "url": url}


def price(price_id: str, *, amount: int = 1500, interval: str = "month") -> dict[str, Any]:
    return checked(
        {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": "usd",
            "unit_amount": amount,
            "type": "recurring",
            "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
            "product": f"prod_{price_id}",
            "livemode": False,
            "metadata": {},
        }
    )


def subscription_item(
    *,
    subscription: str,
    price_obj: dict[str, Any],
    period_start: int,
    period_end: int,
    item_id: str | None = None,
) -> dict[str, Any]:
    return checked(
        {
            "id": item_id or new_id("si"),
            "object": "subscription_item",
            "subscription": subscription,
            "price": price_obj,
            "quantity": 1,
            "current_period_start": period_start,
            "current_period_end": period_end,
            "created": period_start,
            "metadata": {},
            "discounts": [],
            "tax_rates": [],
        }
    )


def subscription(
    sub_id: str,
    *,
    customer: str,
    status: str,
    price_obj: dict[str, Any],
    period_start: int,
    period_end: int,
    cancel_at_period_end: bool = False,
    trial_end: int | None = None,
    livemode: bool = False,
    item_id: str | None = None,
    canceled_at: int | None = None,
    ended_at: int | None = None,
    latest_invoice: str | None = None,
) -> dict[str, Any]:
    item = subscription_item(
        subscription=sub_id,
        price_obj=price_obj,
        period_start=period_start,
        period_end=period_end,
        item_id=item_id,
    )
    return checked(
        {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "items": list_of([item], f"/v1/subscription_items?subscription={sub_id}"),
            "cancel_at_period_end": cancel_at_period_end,
            "cancel_at": period_end if cancel_at_period_end else None,
            "canceled_at": canceled_at,
            "ended_at": ended_at,
            "trial_start": period_start if trial_end else None,
            "trial_end": trial_end,
            "billing_cycle_anchor": period_start,
            "start_date": period_start,
            "created": period_start,
            "currency": "usd",
            "collection_method": "charge_automatically",
            "latest_invoice": latest_invoice,
            "livemode": livemode,
            "metadata": {},
            "pause_collection": None,
        }
    )


def invoice(
    invoice_id: str,
    *,
    customer: str,
    subscription_id: str,
    amount: int,
    status: str,
    period_start: int,
    period_end: int,
    price_id: str,
    created: int,
    billing_reason: str = "subscription_cycle",
    attempt_count: int = 1,
    next_payment_attempt: int | None = None,
    livemode: bool = False,
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if lines is None:
        lines = [
            invoice_line(
                invoice_id=invoice_id,
                subscription_id=subscription_id,
                amount=amount,
                period_start=period_start,
                period_end=period_end,
                price_id=price_id,
            )
        ]
    paid = status == "paid"
    return checked(
        {
            "id": invoice_id,
            "object": "invoice",
            "customer": customer,
            "status": status,
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "total": sum(line["amount"] for line in lines),
            "currency": "usd",
            "billing_reason": billing_reason,
            "attempt_count": attempt_count,
            "next_payment_attempt": next_payment_attempt,
            "attempted": True,
            "created": created,
            "period_start": period_start,
            "period_end": period_end,
            "livemode": livemode,
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "subscription": subscription_id,
                    "metadata": {},
                    "subscription_proration_date": None,
                },
            },
            "lines": list_of(lines, f"/v1/invoices/{invoice_id}/lines"),
            "status_transitions": {"paid_at": created if paid else None},
            "metadata": {},
        }
    )


def invoice_line(
    *,
    invoice_id: str,
    subscription_id: str,
    amount: int,
    period_start: int,
    period_end: int,
    price_id: str,
    description: str = "1 x Masthead subscription",
    proration: bool = False,
) -> dict[str, Any]:
    return checked(
        {
            "id": new_id("il"),
            "object": "line_item",
            "invoice": invoice_id,
            "subscription": subscription_id,
            "amount": amount,
            "currency": "usd",
            "description": description,
            "quantity": 1,
            "period": {"start": period_start, "end": period_end},
            "pricing": {
                "type": "price_details",
                "price_details": {"price": price_id, "product": f"prod_{price_id}"},
                "unit_amount_decimal": None,
            },
            "parent": {
                "type": "subscription_item_details",
                "subscription_item_details": {
                    "subscription": subscription_id,
                    "subscription_item": None,
                    "proration": proration,
                    "proration_details": None,
                    "invoice_item": None,
                },
                "invoice_item_details": None,
            },
            "livemode": False,
            "metadata": {},
        }
    )


def checkout_session(
    session_id: str,
    *,
    customer: str,
    client_reference_id: str,
    url: str,
    success_url: str,
    cancel_url: str,
    status: str = "open",
    payment_status: str = "unpaid",
    subscription_id: str | None = None,
    metadata: dict[str, str] | None = None,
    created: int = 0,
) -> dict[str, Any]:
    return checked(
        {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": client_reference_id,
            "status": status,
            "payment_status": payment_status,
            "subscription": subscription_id,
            "url": url if status == "open" else None,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "created": created,
            "expires_at": created + 86400,
            "livemode": False,
            "metadata": metadata or {},
            "currency": "usd",
        }
    )


def event(
    kind: str,
    obj: dict[str, Any],
    *,
    created: int,
    event_id: str | None = None,
    livemode: bool = False,
    account: str | None = None,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "type": kind,
        "created": created,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": checked(obj)},
    }
    if previous_attributes is not None:
        body["data"]["previous_attributes"] = previous_attributes
    if account is not None:
        body["account"] = account
    validate(body, ("object", stripe.Event), "Event")
    return body
