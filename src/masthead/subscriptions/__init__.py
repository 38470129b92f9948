"""Masthead subscriptions: plans, offers, trials, the subscription state machine, entitlements."""
