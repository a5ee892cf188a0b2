from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "chiplet_dse.server.analytics"
    label = "analytics"
    verbose_name = "Analytics and comparative studies"

    def ready(self) -> None:
        from chiplet_dse.server.analytics import signals
        from chiplet_dse.server.analytics.report import analytics_sections
        from chiplet_dse.server.exports.report import register_section

        signals.connect()
        register_section(analytics_sections)
