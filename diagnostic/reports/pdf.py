"""Report PDFs rendered from the report's HTML with WeasyPrint (the `pdf` extra): A4 (the page
size is in the report stylesheet), tagged as PDF/UA-1 so screen readers get the structure."""
from __future__ import annotations

from diagnostic.services import Refusal, ServiceError

VARIANT = "pdf/ua-1"


def render(html: str, base_url: str) -> bytes:
    """Render report HTML to tagged PDF bytes."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ServiceError(Refusal.PDF_UNAVAILABLE) from exc
    return HTML(string=html, base_url=base_url).write_pdf(pdf_variant=VARIANT, pdf_tags=True,
                                                          uncompressed_pdf=False)
