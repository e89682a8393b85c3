"""Pages, report templates and static files (shipped as package data)."""
