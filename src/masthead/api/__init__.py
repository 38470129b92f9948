"""Masthead api: the apps API - validates input, calls the domains, never holds rules."""
