"""The Textual dashboard: a client of the corral daemon."""
