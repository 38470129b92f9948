"""Stripe at the API version the installed SDK pins (`stripe.api_version`).

`events` parses webhook events into provider-neutral changes (`billing.provider_events`);
`provider` holds every call Masthead makes to Stripe's API.
"""
