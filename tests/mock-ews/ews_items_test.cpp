// Placeholder: filled in by the items work.
