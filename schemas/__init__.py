"""Credential vocabulary of credgate: the JSON-LD context, JSON Schemas, type registry and the
frozen document loader every JSON-LD operation in the suite (ours and ACA-Py's) goes through."""
