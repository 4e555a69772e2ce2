// Placeholder: filled in by the notify work.
