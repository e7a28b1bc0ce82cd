"""Pages of the proceedings app: its own under /proceedings/, and the case's section
"proceedings and clocks" under the case, /cases/<reference>/proceedings/ (mounted at the root)."""

from django.urls import URLPattern, path

from muhafiz.proceedings import views

app_name = "proceedings"
urlpatterns: list[URLPattern] = [
    path("proceedings/dashboard/", views.dashboard, name="dashboard"),
    path("proceedings/dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("proceedings/my-deadlines/", views.my_deadlines, name="my_deadlines"),
    path("proceedings/diary/", views.court_diary, name="diary"),
    path("proceedings/diary.ics", views.court_diary_ics, name="diary_ics"),
    path("cases/<str:reference>/proceedings/", views.case_stages, name="case"),
    path(
        "cases/<str:reference>/proceedings/events/<int:event_id>/",
        views.event_correct,
        name="event",
    ),
    path(
        "cases/<str:reference>/proceedings/events/<int:event_id>/void/",
        views.event_void,
        name="event_void",
    ),
]
