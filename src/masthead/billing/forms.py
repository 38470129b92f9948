"""The test provider's card form. Card numbers are checked and passed to the provider,
never stored or logged; only brand and last four come back."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from masthead.billing.providers import CardDetails, luhn_valid

_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


class CheckoutForm(forms.Form):
    """Only an idempotency key: what is bought comes from the URL and the server's offer."""

    checkout_key = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=16)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("initial", {}).setdefault("checkout_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class CardCheckoutForm(CheckoutForm):
    # Shown again after a validation error, a card error or a decline; the card number and
    # the security code never are (they are never written back into a page).
    kept_fields = ("expiry",)
    secret_fields = ("number", "cvc")
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
    expiry = forms.CharField(
        label=_("Expiry date (MM/YY)"),
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "inputmode": "numeric"}),
    )
    cvc = forms.CharField(
        label=_("Security code (CVC)"),
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )

    def __init__(self, *args, now: datetime, **kwargs):  # type: ignore[no-untyped-def]
        self.now = now
        super().__init__(*args, **kwargs)

    def clean_number(self) -> str:
        number = re.sub(r"[\s-]", "", self.cleaned_data["number"])
        if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_valid(number):
            raise forms.ValidationError(_("Enter a valid card number."))
        return number

    def clean_expiry(self) -> tuple[int, int]:
        match = _EXPIRY.match(self.cleaned_data["expiry"])
        if not match:
            raise forms.ValidationError(_("Enter the expiry date as MM/YY, e.g. 08/29."))
        month, year = int(match[1]), int(match[2])
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12:
            raise forms.ValidationError(_("Enter a month between 01 and 12."))
        if (year, month) < (self.now.year, self.now.month):
            raise forms.ValidationError(_("This card has expired."))
        return month, year

    def clean_cvc(self) -> str:
        cvc = self.cleaned_data["cvc"].strip()
        if not cvc.isdigit() or len(cvc) not in (3, 4):
            raise forms.ValidationError(_("Enter the 3 or 4 digits on the back of the card."))
        return cvc

    def kept_values(self) -> dict[str, str]:
        """What the reader typed in the non-secret fields, to start a fresh form with."""
        return {name: str(self.data.get(name, ""))[:40] for name in self.kept_fields}

    def card(self) -> CardDetails:
        month, year = self.cleaned_data["expiry"]
        return CardDetails(self.cleaned_data["number"], month, year, self.cleaned_data["cvc"])
