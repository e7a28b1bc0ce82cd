from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "muhafiz.evidence"
    label = "evidence"

    def ready(self) -> None:
        # The cases app calls its listeners after an accused's identifiers change (after
        # commit); cross-case identifier links are found there.
        from muhafiz.cases.actions import ACCUSED_IDENTIFIER_LISTENERS
        from muhafiz.evidence.links import accused_identifiers_changed

        if accused_identifiers_changed not in ACCUSED_IDENTIFIER_LISTENERS:
            ACCUSED_IDENTIFIER_LISTENERS.append(accused_identifiers_changed)
