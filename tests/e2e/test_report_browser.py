"""The published state report in a real browser (Debian's Chromium): it fits a 390 px phone,
its chart labels stay readable, and it has a site header and landmarks."""
from __future__ import annotations

import pytest

from tests.e2e.test_browser import page, server  # noqa: F401
from tests.web.conftest import scored  # noqa: F401

pytestmark = pytest.mark.browser


def _publish(app, slug):
    from diagnostic.services import campaigns

    with app.app_context():
        campaign = campaigns.get_by_slug(slug)
        campaigns.set_status(campaign, "closed")
        campaign.reply_days = 0  # no right-of-reply window to wait for (methodology §9.5)
        campaigns.set_status(campaign, "in_review")
        campaigns.set_status(campaign, "published")


@pytest.mark.parametrize("width", [390, 1280])
def test_state_report_fits_the_screen_with_readable_charts(app, scored, page, server, width):  # noqa: F811
    from playwright.sync_api import expect

    _publish(app, scored.slug)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server}/resultados/{scored.slug}/22", timeout=120000)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Querétaro")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    smallest = page.evaluate("Math.min(...[...document.querySelectorAll('svg text')]"
                             ".map(e => e.getBoundingClientRect().height))")
    assert smallest >= 10, smallest  # chart labels are readable (they were ~6 px)
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("main")).to_be_visible()
    # every chart is an image with a text alternative
    for chart in page.locator("figure.chart svg").all():
        assert chart.get_attribute("role") == "img"
        assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
