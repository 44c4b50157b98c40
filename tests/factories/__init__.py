from .accounts import PASSWORD, UserFactory

__all__ = ["PASSWORD", "UserFactory"]
