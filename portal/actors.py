"""Who did something, as the audit trail records it: a staff user or a signed-in holder
(a `User`), a holder who did not sign in, or the portal itself."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from django.contrib.auth.base_user import AbstractBaseUser

if TYPE_CHECKING:
    # django-stubs resolves this alias to AUTH_USER_MODEL (accounts.User) without portal
    # importing accounts: the apps depend one way (tests/test_architecture.py).
    from django.contrib.auth.models import _User as User


@dataclass(frozen=True)
class SystemActor:
    """The portal acting on its own: a daily job, a background task."""

    label: str = "system"


@dataclass(frozen=True)
class HolderActor:
    """A holder acting without signing in; `via` says how we know it was them."""

    via: str

    @property
    def label(self) -> str:
        return f"holder ({self.via})"


# A user is AUTH_USER_MODEL; checked at run time as any `AbstractBaseUser`.
Actor = Union["User", SystemActor, HolderActor]

SYSTEM = SystemActor()
HOLDER_ON_STATUS_PAGE = HolderActor("refund status page")
HOLDER_BY_EMAILED_LINK = HolderActor("confirmed by the emailed link")


def actor_user(actor: Actor) -> "User | None":
    """The user behind `actor`, for `closed_by`, `decided_by` and the like; None for the
    system or a holder who did not sign in."""
    return actor if isinstance(actor, AbstractBaseUser) else None


def actor_label(actor: Actor) -> str:
    """How the audit trail names `actor`: a staff member's email, `holder` for a signed-in
    holder (rule B7: never their address in clear), `system`, `holder (...)`."""
    if isinstance(actor, AbstractBaseUser):
        return actor.email if actor.is_staff else "holder"
    if isinstance(actor, SystemActor | HolderActor):
        return actor.label
    raise TypeError(f"{actor!r} is not an actor: pass a User, SYSTEM or a HolderActor.")
