SECURITY_URL_NAMES = {
    "settings_security",
    "account_change_password",
    "account_set_password",
    "account_reauthenticate",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "account_email",
}
SECTION_BY_URL_NAME = {
    "settings_profile": "profile",
    "phone_add": "profile",
    "settings_address": "address",
}


def settings_section(request):
    """Which tab of the My Settings bottom bar is the current page."""
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else None
    if name in SECURITY_URL_NAMES or (match and "delete" in (match.namespace or "")):
        return {"settings_section": "security"}
    if name in SECTION_BY_URL_NAME:
        return {"settings_section": SECTION_BY_URL_NAME[name]}
    return {}
