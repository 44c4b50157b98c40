from accounts.forms import AddressForm, address_suggestion


def address_to_save(form: AddressForm, action: str | None) -> tuple[dict | None, dict | None]:
    """For a valid typed address posted from `refunds/partials/address_choice.html`:
    `(address, None)` to save, or `(None, suggestion)` when the holder must first pick
    between the USPS-style suggestion and what they typed (`action` "check"). The
    suggestion is validated like anything typed; an invalid one is never offered."""
    suggested = address_suggestion(form)
    suggestion = suggested.address() if suggested is not None else None
    if suggestion is not None and action == "check":
        return None, suggestion
    if suggestion is not None and action == "use_suggested":
        return suggestion, None
    return form.address(), None
