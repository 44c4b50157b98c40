"""The Delete Account flow's state (SPEC D1-D6), kept in the server-side session.

Each step is a page; a step can be opened only when the steps before it are done, so
reloading, going back or jumping ahead lands on the right page instead of an error.
"""

from dataclasses import dataclass

from .services.closure import ClosurePlan

SESSION_KEY = "delete_account"
DONE_KEY = "delete_account_done"
# D5: where the holder is in the flow, for allauth's password page (when it shows).
REAUTH_STEP_KEY = "delete_account_reauth_step"

REVIEW = "review"
ADDRESS = "address"
VIDEO = "video"
NOT_REFUNDABLE = "not_refundable"
CONFIRM = "confirm"
ALL_STEPS = [REVIEW, ADDRESS, VIDEO, NOT_REFUNDABLE, CONFIRM]


@dataclass
class FlowState:
    reviewed: bool = False
    address_id: int | None = None
    video_acknowledged: tuple = ()
    not_refundable_acknowledged: bool = False

    @classmethod
    def load(cls, session) -> "FlowState":
        data = session.get(SESSION_KEY) or {}
        return cls(
            reviewed=bool(data.get("reviewed")),
            address_id=data.get("address_id"),
            video_acknowledged=tuple(data.get("video_acknowledged") or ()),
            not_refundable_acknowledged=bool(data.get("not_refundable_acknowledged")),
        )

    def save(self, session) -> None:
        session[SESSION_KEY] = {
            "reviewed": self.reviewed,
            "address_id": self.address_id,
            "video_acknowledged": list(self.video_acknowledged),
            "not_refundable_acknowledged": self.not_refundable_acknowledged,
        }

    @staticmethod
    def clear(session) -> None:
        session.pop(SESSION_KEY, None)
        session.pop(REAUTH_STEP_KEY, None)


def video_keys(plan: ClosurePlan) -> tuple:
    """What the holder acknowledged in D3; a session booked since needs a new yes."""
    return tuple(
        sorted(
            [f"session:{s.pk}" for s in plan.future_sessions]
            + [f"subscription:{s.pk}" for s in plan.active_subscriptions]
        )
    )


def steps_for(plan: ClosurePlan) -> list[str]:
    """D3 only with future sessions or a subscription; D4 only with Debit or stamps."""
    return [
        step
        for step in ALL_STEPS
        if (step != VIDEO or plan.needs_video_warning)
        and (step != NOT_REFUNDABLE or plan.has_non_refundable)
    ]


def is_done(step: str, state: FlowState, plan: ClosurePlan, address) -> bool:
    if step == REVIEW:
        return state.reviewed
    if step == ADDRESS:
        return address is not None and state.address_id == address.pk
    if step == VIDEO:
        return set(video_keys(plan)) <= set(state.video_acknowledged)
    if step == NOT_REFUNDABLE:
        return state.not_refundable_acknowledged
    return False


def first_open_step(state: FlowState, plan: ClosurePlan, address) -> str:
    for step in steps_for(plan):
        if not is_done(step, state, plan, address):
            return step
    return CONFIRM


def may_open(step: str, state: FlowState, plan: ClosurePlan, address) -> bool:
    steps = steps_for(plan)
    if step not in steps:
        return False
    return all(is_done(earlier, state, plan, address) for earlier in steps[: steps.index(step)])


def previous_step(step: str, plan: ClosurePlan) -> str | None:
    steps = steps_for(plan)
    index = steps.index(step)
    return steps[index - 1] if index > 0 else None
