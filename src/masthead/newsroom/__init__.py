"""The newsroom: Wagtail pages (home, section, article, author), sponsors, feeds, print view."""
