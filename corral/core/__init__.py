"""The supervisor. Never imports Textual: the dashboard reaches it only through the client."""
