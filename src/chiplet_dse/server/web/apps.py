from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "chiplet_dse.server.web"
    label = "web"
    verbose_name = "Web pages"
