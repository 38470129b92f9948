"""The gift purchase form: what is given, to whom, when. Card fields come from
`billing.forms.CardCheckoutForm` in the same <form>."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from masthead.giftsubs import actions
from masthead.giftsubs.models import DURATIONS


class GiftForm(forms.Form):
    months = forms.TypedChoiceField(
        label="How long",
        coerce=int,
        choices=[(m, str(m)) for m in DURATIONS],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose 1, 3, 6 or 12 months."},
    )
    recipient_name = forms.CharField(label="Their name", max_length=100)
    recipient_email = forms.EmailField(
        label="Their e-mail address",
        error_messages={"invalid": "Enter an e-mail address like name@example.com."},
    )
    message = forms.CharField(
        label="Your message (optional)", max_length=500, required=False, widget=forms.Textarea
    )
    deliver_on = forms.DateField(
        label="Deliver on (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2026-12-24."},
        help_text="Leave empty to send it now. Up to a year ahead.",
    )

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        self.now = now
        super().__init__(*args, **kwargs)

    def clean_recipient_name(self) -> str:
        name = " ".join(self.cleaned_data["recipient_name"].split())
        if not name:
            raise forms.ValidationError("Enter their name.")
        return name

    def clean_deliver_on(self) -> Any:
        day = self.cleaned_data.get("deliver_on")
        refusal = actions.delivery_refusal(day, now=self.now)
        if refusal:
            raise forms.ValidationError(refusal)
        return day
