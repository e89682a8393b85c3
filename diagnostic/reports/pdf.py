"""Report PDFs rendered from the report's HTML with WeasyPrint (the `pdf` extra)."""
from __future__ import annotations

from diagnostic.services import Refusal, ServiceError


def render(html: str, base_url: str) -> bytes:
    """Render report HTML to PDF bytes."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ServiceError(Refusal.PDF_UNAVAILABLE) from exc
    return HTML(string=html, base_url=base_url).write_pdf()
