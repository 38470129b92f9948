"""Masthead subscriptions: plans, offers, trials, campaigns, the subscription state machine, entitlements."""
