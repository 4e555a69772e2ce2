// Placeholder: filled in by the autodiscover work.
