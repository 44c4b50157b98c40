from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("language/", views.language_switch, name="language_switch"),
    path("account/", views.my_account, name="my_account"),
    path("settings/", views.settings_home, name="settings_home"),
    path("settings/profile/", views.settings_profile, name="settings_profile"),
    path("settings/profile/phones/", views.phone_add, name="phone_add"),
    path("settings/profile/phones/<int:pk>/remove/", views.phone_remove, name="phone_remove"),
    path("settings/address/", views.settings_address, name="settings_address"),
    path("settings/security/", views.settings_security, name="settings_security"),
]
