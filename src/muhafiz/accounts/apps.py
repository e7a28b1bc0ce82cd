from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "muhafiz.accounts"
    label = "accounts"

    def ready(self) -> None:
        from muhafiz.accounts.auditing import audit_actor
        from muhafiz.accounts.tokens import client_for_token
        from muhafiz.audit.actions import describe_actor
        from muhafiz.core.api import api_token_lookup

        # Core's API asks who a bearer token belongs to; the audit log asks who acted.
        api_token_lookup.connect(client_for_token, uid="accounts.api_clients")
        describe_actor.connect(audit_actor, uid="accounts.principals")
