from .closure import ClosurePlan, ClosureRefused, closure_confirm, closure_plan, refund_plan_for

__all__ = ["ClosurePlan", "ClosureRefused", "closure_confirm", "closure_plan", "refund_plan_for"]
