"""People and API clients: roles, agencies, jurisdictions, two-factor sign-in, API tokens."""
