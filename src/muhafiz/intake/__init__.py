"""Confidential reports, helpline intake and CyberTipline referral import, routed to districts."""
