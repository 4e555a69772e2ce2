// Placeholder: filled in by the folders work.
