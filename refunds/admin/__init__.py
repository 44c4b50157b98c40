"""The back office: the Django admin, extended with buttons and bulk actions that call
the services (SPEC §3-§5)."""

from . import (
    accounts,
    address_changes,
    audit,
    bank_files,
    erasure,
    exports,
    held_funds,
    notices,
    refunds,
    statements,
)

__all__ = [
    "accounts",
    "address_changes",
    "audit",
    "bank_files",
    "erasure",
    "exports",
    "held_funds",
    "notices",
    "refunds",
    "statements",
]
