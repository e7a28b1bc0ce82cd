"""Hash banks in the server: bank tables with provenance, the shared match index, matching API."""
