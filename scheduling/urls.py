from django.urls import path

from scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("dossier/<int:dossier_pk>/affecter/", views.assignment_create, name="assignment_create"),
    path("dossier/<int:dossier_pk>/rendez-vous/", views.appointment_create, name="appointment_create"),
    path("rendez-vous/<int:pk>/reprogrammer/", views.appointment_rebook_view, name="appointment_rebook"),
    path("rendez-vous/<int:pk>/deplacer/", views.appointment_reschedule_view, name="appointment_reschedule"),
    path("rendez-vous/<int:pk>/annuler/", views.appointment_cancel_view, name="appointment_cancel"),
    path("rendez-vous/<int:pk>/realise/", views.appointment_mark_view, {"outcome": "done"}, name="appointment_done"),
    path("rendez-vous/<int:pk>/manque/", views.appointment_mark_view, {"outcome": "missed"}, name="appointment_missed"),
    path("rendez-vous/<int:pk>/rendez-vous.ics", views.appointment_ics_view, name="appointment_ics"),
]
