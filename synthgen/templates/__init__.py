"""Document templates (ID cards, passports): schema and validation, identity records, check
digits and machine-readable zones. The renderer is `synthgen.renderers.document`."""
