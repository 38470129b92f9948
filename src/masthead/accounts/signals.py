"""Stamp each new session with the reader's epoch; end old sessions and tokens on a new password."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import password_changed, password_set
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from masthead.accounts import actions
from masthead.core import clock, reader_state


@receiver(user_logged_in, dispatch_uid="masthead.accounts.stamp_session_epoch")
def stamp_session_epoch(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        actions.keep_session_signed_in(request.session, user)


@receiver(post_save, sender=get_user_model(), dispatch_uid="masthead.accounts.new_password")
def end_credentials_on_new_password(
    sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    """Every way a password changes ends in `set_password()` then `save()`: allauth's change
    and reset, the admins, `changepassword`. Django keeps the new raw password in `_password`
    until the save has finished, which is how a new password is told from any other save."""
    if created or getattr(instance, "_password", None) is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    actions.password_changed(instance, now=clock.now())


@receiver(password_changed, dispatch_uid="masthead.accounts.keep_changing_session")
@receiver(password_set, dispatch_uid="masthead.accounts.keep_setting_session")
def keep_the_changing_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """The browser that changed the password stays signed in; every other one is signed out."""
    if request is not None and hasattr(request, "session") and request.user.is_authenticated:
        actions.keep_session_signed_in(request.session, user)


@receiver(post_save, sender=get_user_model(), dispatch_uid="masthead.accounts.user_mailbox")
def remember_user_address(
    sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any
) -> None:
    if update_fields is not None and "email" not in update_fields:
        return  # e.g. last_login on every sign-in
    if instance.email:
        actions.remember_address(instance, instance.email, now=clock.now())


@receiver(post_save, sender=EmailAddress, dispatch_uid="masthead.accounts.address_mailbox")
def remember_added_address(sender: Any, instance: EmailAddress, **kwargs: Any) -> None:
    actions.remember_address(instance.user, instance.email, now=clock.now())


@receiver(post_save, sender=get_user_model(), dispatch_uid="masthead.accounts.user_state_saved")
@receiver(post_delete, sender=get_user_model(), dispatch_uid="masthead.accounts.user_state_gone")
def retire_cached_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    """The signed-in user kept in the shared cache (`accounts.backends`) is retired on any
    save: a new password, `is_active`, `is_staff`, a name shown in the header."""
    reader_state.bump(instance.pk)


@receiver(m2m_changed, dispatch_uid="masthead.accounts.user_permissions_changed")
def retire_on_permission_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A user's groups or permissions (theirs, or everyone's when a group's change)."""
    User = get_user_model()
    if sender in (User.groups.through, User.user_permissions.through):
        if isinstance(instance, User):
            reader_state.bump(instance.pk)
        else:  # from the group's or the permission's side: whoever is in it
            reader_state.bump_everyone()
    elif sender is Group.permissions.through:
        reader_state.bump_everyone()
