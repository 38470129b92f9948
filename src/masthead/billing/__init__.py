"""Masthead billing: payment providers (Stripe, built-in test provider), checkout, webhooks, ledger."""
