from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "chiplet_dse.server.exports"
    label = "exports"
    verbose_name = "Zip exports"

    def ready(self) -> None:
        from chiplet_dse.server.exports import signals

        signals.connect()
