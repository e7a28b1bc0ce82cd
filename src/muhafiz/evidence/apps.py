from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "muhafiz.evidence"
    label = "evidence"

    def ready(self) -> None:
        # The cases app calls this hook after an accused's identifiers change (after commit);
        # cross-case identifier links are found there.
        from muhafiz.cases.hooks import accused_identifiers_changed
        from muhafiz.evidence.links import accused_identifiers_changed as find_links

        accused_identifiers_changed.connect(find_links, uid="evidence.cross_case_links")

        from muhafiz.core.home import home_panels
        from muhafiz.evidence import home

        # The items a person holds, on their home page.
        home_panels.connect(home.panels, uid="evidence.home")
