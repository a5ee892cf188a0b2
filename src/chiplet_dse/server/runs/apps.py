from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "chiplet_dse.server.runs"
    label = "runs"
    verbose_name = "Optimisation runs"
