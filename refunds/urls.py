from django.urls import path

from . import views

app_name = "delete_account"

urlpatterns = [
    path("", views.start, name="start"),
    path("review/", views.review, name="review"),
    path("address/", views.address, name="address"),
    path("video/", views.video, name="video"),
    path("not-refundable/", views.not_refundable, name="not_refundable"),
    path("confirm/", views.confirm, name="confirm"),
    path("done/", views.done, name="done"),
    path("cancel/", views.cancel, name="cancel"),
    path("records.csv", views.records_csv, name="records_csv"),
]
