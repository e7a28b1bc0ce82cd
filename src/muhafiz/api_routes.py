"""Which router serves which part of /api/v1 (kept apart from core.api to avoid import cycles)."""

from __future__ import annotations

from muhafiz.accounts.api import router as accounts_router
from muhafiz.audit.api import router as audit_router
from muhafiz.cases.api import router as cases_router
from muhafiz.catalogue.api import router as catalogue_router
from muhafiz.core.api import api
from muhafiz.evidence.api import router as evidence_router
from muhafiz.hashbank.api import router as hashbank_router
from muhafiz.insights.api import router as insights_router
from muhafiz.intake.api import router as intake_router
from muhafiz.proceedings.api import router as proceedings_router
from muhafiz.register.api import router as register_router

api.add_router("/v1/accounts", accounts_router)
api.add_router("/v1/audit", audit_router)
api.add_router("/v1/catalogue", catalogue_router)
api.add_router("/v1/cases", cases_router)
api.add_router("/v1/proceedings", proceedings_router)
api.add_router("/v1/evidence", evidence_router)
api.add_router("/v1/intake", intake_router)
api.add_router("/v1/register", register_router)
api.add_router("/v1/statistics", insights_router)
api.add_router("/v1", hashbank_router)
