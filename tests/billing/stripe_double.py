"""A small local Stripe: an HTTP server on 127.0.0.1 that the official SDK talks to through
`STRIPE_API_BASE`, for what localstripe lacks (Prices, Checkout Sessions, subscription update
and cancel, proration previews, invoice payments, refunds, the customer portal).

Every object it answers with is built by `stripe_shapes` (the pinned version's shape), so the
double cannot answer in a shape the pinned version does not have. It keeps the events Stripe
would send (`events`), in Stripe's order, for the tests to sign and deliver; `requests` records
what the SDK sent (method, path, params, idempotency key, Stripe-Version).
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tests.billing import stripe_shapes as shapes

DAY = 86400
INTERVAL_SECONDS = {"month": 30 * DAY, "year": 365 * DAY}


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`items[0][price]=x`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in urllib.parse.parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return [_lists(value[k]) for k in sorted(value, key=int)]
        return {k: _lists(v) for k, v in value.items()}
    return value


class StripeHTTPError(Exception):
    def __init__(self, status: int, kind: str, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status, self.kind, self.code = status, kind, code


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    stripe_version: str | None


@dataclass
class StripeDouble:
    now: int = 1_790_000_000
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoice_payments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    idempotent: dict[str, tuple[int, Any]] = field(default_factory=dict)
    decline_next_payment: bool = False
    next_intent_status: str = "succeeded"
    url: str = ""

    # ------------------------------------------------------------ set-up by tests

    def add_price(self, price_id: str, *, amount: int, interval: str = "month") -> None:
        self.prices[price_id] = shapes.price(price_id, amount=amount, interval=interval)

    def emit(self, kind: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
        event = shapes.event(kind, json.loads(json.dumps(obj)), created=self.now, **extra)
        self.events.append(event)
        return event

    def take_events(self) -> list[dict[str, Any]]:
        taken, self.events[:] = list(self.events), []
        return taken

    # ------------------------------------------------------------ what happens at Stripe

    def _pay_invoice(
        self, sub: dict[str, Any], *, amount: int, lines: list[dict[str, Any]], reason: str
    ) -> dict[str, Any]:
        """Create an invoice for `sub` and try to pay it; emits the invoice events."""
        item = sub["items"]["data"][0]
        invoice_id = shapes.new_id("in")
        declined = self.decline_next_payment
        self.decline_next_payment = False
        invoice = shapes.invoice(
            invoice_id,
            customer=sub["customer"],
            subscription_id=sub["id"],
            amount=amount,
            status="open" if declined else "paid",
            period_start=item["current_period_start"],
            period_end=item["current_period_end"],
            price_id=item["price"]["id"],
            created=self.now,
            billing_reason=reason,
            lines=lines,
        )
        self.invoices[invoice_id] = invoice
        sub["latest_invoice"] = invoice_id
        if declined:
            self.emit("invoice.payment_failed", invoice)
            return invoice
        intent_id = shapes.new_id("pi")
        self.intents[intent_id] = self._intent(intent_id, amount, sub["customer"], "succeeded")
        self.invoice_payments[invoice_id] = [
            {
                "id": shapes.new_id("inpay"),
                "object": "invoice_payment",
                "invoice": invoice_id,
                "amount_paid": amount,
                "amount_requested": amount,
                "currency": "usd",
                "is_default": True,
                "livemode": False,
                "status": "paid",
                "created": self.now,
                "payment": {"type": "payment_intent", "payment_intent": intent_id},
                "status_transitions": {"paid_at": self.now, "canceled_at": None},
            }
        ]
        shapes.checked(self.invoice_payments[invoice_id][0])
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)
        return invoice

    def _intent(self, intent_id: str, amount: int, customer: str, status: str) -> dict[str, Any]:
        return shapes.checked(
            {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount if status == "succeeded" else 0,
                "currency": "usd",
                "customer": customer,
                "status": status,
                "created": self.now,
                "livemode": False,
                "metadata": {},
            }
        )

    def complete_checkout(self, session_id: str, *, decline: bool = False) -> dict[str, Any]:
        """The reader pays on Stripe's Checkout page: a subscription, its first invoice and
        the completed session, with the events Stripe sends for them."""
        session = self.sessions[session_id]
        params = session["_params"]
        price = self.prices[params["line_items"][0]["price"]]
        trial_days = int(params.get("subscription_data", {}).get("trial_period_days", 0))
        length = INTERVAL_SECONDS[price["recurring"]["interval"]]
        end = self.now + (trial_days * DAY if trial_days else length)
        sub_id = shapes.new_id("sub")
        sub = shapes.subscription(
            sub_id,
            customer=session["customer"],
            status="trialing" if trial_days else "active",
            price_obj=price,
            period_start=self.now,
            period_end=end,
            trial_end=end if trial_days else None,
        )
        self.subscriptions[sub_id] = sub
        self.emit("customer.subscription.created", sub)
        amount = 0 if trial_days else int(price["unit_amount"])
        item = sub["items"]["data"][0]
        self.decline_next_payment = decline
        self._pay_invoice(
            sub,
            amount=amount,
            lines=[
                shapes.invoice_line(
                    invoice_id="pending",
                    subscription_id=sub_id,
                    amount=amount,
                    period_start=item["current_period_start"],
                    period_end=item["current_period_end"],
                    price_id=price["id"],
                )
            ],
            reason="subscription_create",
        )
        session.update(
            status="complete",
            payment_status="no_payment_required" if trial_days else "paid",
            subscription=sub_id,
            url=None,
        )
        self.emit("checkout.session.completed", self._public(session))
        return sub

    def fail_renewal(self, sub_id: str, *, attempt: int = 1) -> None:
        """A renewal whose payment fails: the invoice fails and the subscription is past due."""
        sub = self.subscriptions[sub_id]
        item = sub["items"]["data"][0]
        length = item["current_period_end"] - item["current_period_start"]
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] += length
        self.decline_next_payment = True
        invoice = self._pay_invoice(
            sub,
            amount=int(item["price"]["unit_amount"]),
            lines=[
                shapes.invoice_line(
                    invoice_id="pending",
                    subscription_id=sub_id,
                    amount=int(item["price"]["unit_amount"]),
                    period_start=item["current_period_start"],
                    period_end=item["current_period_end"],
                    price_id=item["price"]["id"],
                )
            ],
            reason="subscription_cycle",
        )
        invoice["attempt_count"] = attempt
        sub["status"] = "past_due"
        self.emit("customer.subscription.updated", sub, previous_attributes={"status": "active"})

    def give_up(self, sub_id: str) -> None:
        """Stripe's retries are exhausted and its settings cancel the subscription."""
        sub = self.subscriptions[sub_id]
        sub.update(status="canceled", canceled_at=self.now, ended_at=self.now)
        self.emit("customer.subscription.deleted", sub)

    # ------------------------------------------------------------ the HTTP API

    def _public(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _sub(self, sub_id: str) -> dict[str, Any]:
        if sub_id not in self.subscriptions:
            raise StripeHTTPError(404, "invalid_request_error", f"No such subscription: '{sub_id}'")
        return self.subscriptions[sub_id]

    def handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        routes: list[tuple[str, str, Any]] = [
            ("POST", r"/v1/customers", self.create_customer),
            ("GET", r"/v1/customers/(?P<ref>[^/]+)", self.get_customer),
            ("POST", r"/v1/checkout/sessions", self.create_session),
            ("GET", r"/v1/checkout/sessions/(?P<ref>[^/]+)", self.get_session),
            ("GET", r"/v1/subscriptions/(?P<ref>[^/]+)", self.get_subscription),
            ("POST", r"/v1/subscriptions/(?P<ref>[^/]+)", self.update_subscription),
            ("DELETE", r"/v1/subscriptions/(?P<ref>[^/]+)", self.cancel_subscription),
            ("POST", r"/v1/invoices/create_preview", self.preview_invoice),
            ("GET", r"/v1/invoice_payments", self.list_invoice_payments),
            ("POST", r"/v1/refunds", self.create_refund),
            ("POST", r"/v1/payment_intents", self.create_intent),
            ("POST", r"/v1/billing_portal/sessions", self.create_portal),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                return 200, handler(params, **match.groupdict())
        raise StripeHTTPError(404, "invalid_request_error", f"Unrecognized request URL {path}")

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        ref = shapes.new_id("cus")
        self.customers[ref] = shapes.checked(
            {
                "id": ref,
                "object": "customer",
                "email": params.get("email"),
                "metadata": params.get("metadata", {}),
                "created": self.now,
                "livemode": False,
            }
        )
        return self.customers[ref]

    def get_customer(self, params: dict[str, Any], ref: str) -> dict[str, Any]:
        return self.customers[ref]

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "subscription":
            raise StripeHTTPError(400, "invalid_request_error", "mode must be subscription")
        price_ref = params["line_items"][0]["price"]
        if price_ref not in self.prices:
            raise StripeHTTPError(400, "invalid_request_error", f"No such price: '{price_ref}'")
        ref = shapes.new_id("cs_test")
        session = shapes.checkout_session(
            ref,
            customer=params["customer"],
            client_reference_id=params.get("client_reference_id", ""),
            url=f"{self.url}/pay/{ref}",
            success_url=params["success_url"].replace("{CHECKOUT_SESSION_ID}", ref),
            cancel_url=params["cancel_url"],
            metadata=params.get("metadata"),
            created=self.now,
        )
        session["_params"] = params
        self.sessions[ref] = session
        return self._public(session)

    def get_session(self, params: dict[str, Any], ref: str) -> dict[str, Any]:
        if ref not in self.sessions:
            raise StripeHTTPError(404, "invalid_request_error", f"No such checkout.session: {ref}")
        return self._public(self.sessions[ref])

    def get_subscription(self, params: dict[str, Any], ref: str) -> dict[str, Any]:
        return self._sub(ref)

    def _proration(
        self, sub: dict[str, Any], new_price: dict[str, Any], proration_date: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Stripe's proration for a price change that resets the cycle now: a credit for the
        unused time on the old price (proportional, rounded to the unit), the new price in full."""
        item = sub["items"]["data"][0]
        start, end = item["current_period_start"], item["current_period_end"]
        unused = max(end - proration_date, 0) / max(end - start, 1)
        credit = round(int(item["price"]["unit_amount"]) * unused)
        new_end = self.now + INTERVAL_SECONDS[new_price["recurring"]["interval"]]
        lines = [
            shapes.invoice_line(
                invoice_id="upcoming",
                subscription_id=sub["id"],
                amount=-credit,
                period_start=proration_date,
                period_end=end,
                price_id=item["price"]["id"],
                description="Unused time on the previous plan",
                proration=True,
            ),
            shapes.invoice_line(
                invoice_id="upcoming",
                subscription_id=sub["id"],
                amount=int(new_price["unit_amount"]),
                period_start=self.now,
                period_end=new_end,
                price_id=new_price["id"],
            ),
        ]
        return int(new_price["unit_amount"]) - credit, lines

    def preview_invoice(self, params: dict[str, Any]) -> dict[str, Any]:
        sub = self._sub(params["subscription"])
        details = params["subscription_details"]
        new_price = self.prices[details["items"][0]["price"]]
        amount, lines = self._proration(sub, new_price, int(details["proration_date"]))
        item = sub["items"]["data"][0]
        return shapes.invoice(
            "upcoming_in",
            customer=sub["customer"],
            subscription_id=sub["id"],
            amount=amount,
            status="draft",
            period_start=item["current_period_start"],
            period_end=item["current_period_end"],
            price_id=new_price["id"],
            created=self.now,
            billing_reason="upcoming",
            lines=lines,
        )

    def update_subscription(self, params: dict[str, Any], ref: str) -> dict[str, Any]:
        sub = self._sub(ref)
        if sub["status"] == "canceled":
            raise StripeHTTPError(400, "invalid_request_error", "A canceled subscription")
        previous = {k: sub[k] for k in ("cancel_at_period_end", "status", "pause_collection")}
        if "pause_collection" in params:
            pause = params["pause_collection"]
            if pause == "":
                sub["pause_collection"] = None
            else:
                if pause.get("behavior") not in ("keep_as_draft", "mark_uncollectible", "void"):
                    raise StripeHTTPError(400, "invalid_request_error", "Invalid behavior")
                resumes = pause.get("resumes_at")
                sub["pause_collection"] = {
                    "behavior": pause["behavior"],
                    "resumes_at": int(resumes) if resumes else None,
                }
        if "cancel_at_period_end" in params:
            cancelling = params["cancel_at_period_end"] == "true"
            item = sub["items"]["data"][0]
            sub["cancel_at_period_end"] = cancelling
            sub["cancel_at"] = item["current_period_end"] if cancelling else None
            sub["canceled_at"] = self.now if cancelling else None
        if "items" in params:
            item = sub["items"]["data"][0]
            if params["items"][0]["id"] != item["id"]:
                raise StripeHTTPError(400, "invalid_request_error", "No such subscription item")
            new_price = self.prices[params["items"][0]["price"]]
            if params.get("proration_behavior") == "always_invoice":
                amount, lines = self._proration(sub, new_price, int(params["proration_date"]))
                if self.decline_next_payment:
                    self.decline_next_payment = False
                    raise StripeHTTPError(
                        402, "card_error", "Your card was declined.", code="card_declined"
                    )
                item["price"] = new_price
                item["current_period_start"] = self.now
                item["current_period_end"] = lines[-1]["period"]["end"]
                sub["billing_cycle_anchor"] = self.now
                self._pay_invoice(sub, amount=amount, lines=lines, reason="subscription_update")
            else:
                item["price"] = new_price
        self.emit("customer.subscription.updated", sub, previous_attributes=previous)
        return sub

    def cancel_subscription(self, params: dict[str, Any], ref: str) -> dict[str, Any]:
        sub = self._sub(ref)
        sub.update(status="canceled", canceled_at=self.now, ended_at=self.now)
        self.emit("customer.subscription.deleted", sub)
        return sub

    def list_invoice_payments(self, params: dict[str, Any]) -> dict[str, Any]:
        payments = self.invoice_payments.get(params.get("invoice", ""), [])
        return shapes.list_of([p for p in payments if p["status"] == params.get("status", "paid")])

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        if "invoice" in params or not (params.get("payment_intent") or params.get("charge")):
            raise StripeHTTPError(400, "invalid_request_error", "Refund a payment_intent or charge")
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            raise StripeHTTPError(404, "invalid_request_error", "No such payment_intent")
        refunded = sum(r["amount"] for r in self.refunds if r["payment_intent"] == intent["id"])
        amount = int(params.get("amount", intent["amount_received"] - refunded))
        if amount + refunded > intent["amount_received"]:
            raise StripeHTTPError(400, "invalid_request_error", "Refund exceeds the payment")
        refund = shapes.checked(
            {
                "id": shapes.new_id("re"),
                "object": "refund",
                "amount": amount,
                "currency": "usd",
                "payment_intent": intent["id"],
                "status": "succeeded",
                "created": self.now,
                "metadata": {},
            }
        )
        self.refunds.append(refund)
        return refund

    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.decline_next_payment:
            self.decline_next_payment = False
            raise StripeHTTPError(402, "card_error", "Your card was declined.", "card_declined")
        ref = shapes.new_id("pi")
        self.intents[ref] = self._intent(
            ref, int(params["amount"]), params.get("customer", ""), self.next_intent_status
        )
        return self.intents[ref]

    def create_portal(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("customer") not in self.customers:
            raise StripeHTTPError(404, "invalid_request_error", "No such customer")
        ref = shapes.new_id("bps")
        return shapes.checked(
            {
                "id": ref,
                "object": "billing_portal.session",
                "customer": params["customer"],
                "return_url": params.get("return_url"),
                "url": f"{self.url}/portal/{ref}",
                "created": self.now,
                "livemode": False,
            }
        )


class _Handler(http.server.BaseHTTPRequestHandler):
    double: StripeDouble
    lock = threading.Lock()

    def _serve(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else parsed.query
        params = parse_form(body)
        key = self.headers.get("Idempotency-Key")
        double = self.server.double  # type: ignore[attr-defined]
        with self.lock:
            double.requests.append(
                Request(method, parsed.path, params, key, self.headers.get("Stripe-Version"))
            )
            if key and method == "POST" and key in double.idempotent:
                status, answer = double.idempotent[key]
            else:
                try:
                    status, answer = double.handle(method, parsed.path, params)
                except StripeHTTPError as exc:
                    status = exc.status
                    answer = {"error": {"type": exc.kind, "message": str(exc), "code": exc.code}}
                if key and method == "POST":
                    double.idempotent[key] = (status, answer)
        raw = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, *args: object) -> None:
        pass


def serve() -> tuple[StripeDouble, http.server.ThreadingHTTPServer]:
    """Start the double on 127.0.0.1 (a free port); stop it with `server.shutdown()`."""
    double = StripeDouble()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.double = double  # type: ignore[attr-defined]
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return double, server
