"""Masthead: self-hosted news publishing with a metered paywall and reader subscriptions."""
