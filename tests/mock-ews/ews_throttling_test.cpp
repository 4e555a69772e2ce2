// Placeholder: filled in by the throttling work.
