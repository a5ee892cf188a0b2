from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "chiplet_dse.server.analytics"
    label = "analytics"
    verbose_name = "Analytics and comparative studies"
