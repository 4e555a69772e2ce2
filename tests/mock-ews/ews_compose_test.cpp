// Placeholder: filled in by the compose work.
