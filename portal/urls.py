from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView

from portal.health import HealthView
from refunds.inactivity_views import keep_account_open
from refunds.public_views import refund_claim, refund_confirm_address, refund_status

admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Account portal back office"
admin.site.site_title = "Back office"
# The sidebar repeated on every page the list of lists that Home shows (the site header
# and the breadcrumbs link to it), and writing it cost a list page 1.5-1.8 ms of CPU.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", login_required(RedirectView.as_view(pattern_name="accounts:my_account")), name="home"),
    path("admin/", admin.site.urls),
    path("health/", HealthView.as_view(), name="health"),
    path("accounts/", include("allauth.urls")),
    path("refund-status/", refund_status, name="refund_status"),
    path("refund-status/new-address/", refund_claim, name="refund_claim"),
    path(
        "refund-status/confirm/<str:token>/", refund_confirm_address, name="refund_confirm_address"
    ),
    path("account/keep-open/", keep_account_open, name="keep_account_open"),
    path("settings/security/delete/", include("refunds.urls")),
    path("", include("accounts.urls")),
]
