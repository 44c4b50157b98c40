"""Types shared by the apps' services."""

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

# Who made a change, as `portal.audit.audit_record` records it: a signed-in user (staff or
# holder), or a label such as "system" for jobs; None is the system too.
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | str | None"
