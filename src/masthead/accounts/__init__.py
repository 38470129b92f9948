"""Masthead accounts: readers - sign-up, login, account and billing pages."""
