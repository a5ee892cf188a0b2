from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chiplet_dse.server.api"
    label = "api"
    verbose_name = "REST API"
