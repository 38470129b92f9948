"""Masthead billing: payment providers (Stripe, built-in test), checkout, webhooks, ledger."""
