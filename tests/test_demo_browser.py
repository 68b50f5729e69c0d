"""The demo shop in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
every flow ends on the shop's result page with the right responseCode, and the platform's
record of the transaction agrees.

The record is read from the server's database (getTransactionData is built in another
issue; when the server serves it, its transactionStatus is compared too).

Set SOGENACTIF_SCREENSHOTS=docs/screenshots to refresh the documentation's screenshots.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sogenactif import Client
from tests.redirection_support import stored
from tests.support import GUIDE_SHOP, RunningServer, free_port

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = os.environ.get("SOGENACTIF_SCREENSHOTS")


@pytest.fixture(scope="module")
def shop(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`sogenactif demo-shop` against the test server, on a free port."""
    port = free_port()
    log = tmp_path_factory.mktemp("shop") / "shop.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sogenactif", "demo-shop", "--server", server.url,
             "--port", str(port)], stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("demo shop exited:\n" + log.read_text())
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        raise RuntimeError("demo shop did not start:\n" + log.read_text())
    yield url
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 900, "height": 760})
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_without_js(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def result_of(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page.wait_for_url("**/result/**")
    cells = page.locator("td")
    return {cells.nth(i).get_attribute("id") or "": cells.nth(i).inner_text()
            for i in range(cells.count())}


def agrees(server: RunningServer, result: dict[str, str], status: str) -> None:
    """The platform's record says what the shop's result page says."""
    reference = result["transactionReference"]
    row, operations = stored(server, GUIDE_SHOP[0], reference)
    assert row.status == status
    assert row.response_code == result["responseCode"]
    assert row.holder_authent_status == result.get("holderAuthentStatus")
    assert [op.operation_type for op in operations] == ["AUTHORISATION"]
    with Client(*GUIDE_SHOP[:2], GUIDE_SHOP[2], server.url) as client:
        data = client.get_transaction_data(transaction_reference=reference)
    assert data.ok, data.raw
    assert data.transaction_status == status
    assert data.holder_authent_status == result.get("holderAuthentStatus")
    assert data.masked_pan == result.get("maskedPan", data.masked_pan)


def pay(page, shop: str, button: str, card: str = "4100000000000000") -> None:  # type: ignore[no-untyped-def]
    page.goto(shop + "/")
    page.fill("#cardNumber", card)
    page.click(button)


# ------------------------------------------------------------------ 3-D Secure


def test_challenge_success(page, shop: str, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    pay(page, shop, "#pay-3ds")
    page.wait_for_selector("#otp")
    assert page.url.startswith(server.url + "/acs")
    assert page.inner_text("#amount") == "25.00 EUR"
    assert "123456" in page.inner_text("#tester-hint")
    screenshot(page, "acs-challenge.png")
    page.fill("#otp", "123456")
    page.click("#confirm")
    result = result_of(page)
    assert result["responseCode"] == "00"
    assert result["holderAuthentStatus"] == "SUCCESS" and result["guaranteeIndicator"] == "Y"
    assert result["authorisationId"]
    screenshot(page, "shop-result.png")
    agrees(server, result, "TO_CAPTURE")


@pytest.mark.parametrize(("button", "code", "status"), [
    ("#failure", "05", "FAILURE"),
    ("#cancel", "17", "CANCEL"),
])
def test_challenge_refused(page, shop: str, server: RunningServer, button: str,  # type: ignore[no-untyped-def]
                           code: str, status: str) -> None:
    pay(page, shop, "#pay-3ds")
    page.click(button)
    result = result_of(page)
    assert result["responseCode"] == code and result["holderAuthentStatus"] == status
    assert "authorisationId" not in result
    agrees(server, result, "REFUSED")


def test_frictionless(page, shop: str, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    pay(page, shop, "#pay-3ds", "4100001000000000")
    result = result_of(page)
    assert result["responseCode"] == "00"
    assert result["holderAuthentStatus"] == "SUCCESS"
    assert result["holderAuthentMethod"] == "FRICTIONLESS"
    agrees(server, result, "TO_CAPTURE")


def test_not_enrolled(page, shop: str, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    pay(page, shop, "#pay-3ds", "4100002000000000")
    result = result_of(page)
    assert result["responseCode"] == "00" and result["holderAuthentStatus"] == "NOT_ENROLLED"
    assert result["guaranteeIndicator"] == "N"
    agrees(server, result, "TO_CAPTURE")


def test_challenge_without_javascript(page_without_js, shop: str,  # type: ignore[no-untyped-def]
                                      server: RunningServer) -> None:
    page = page_without_js
    pay(page, shop, "#pay-3ds")
    # The shop's redirection form cannot submit itself: its noscript button is shown.
    page.wait_for_selector("input[type=submit][value=Submit]")
    assert "JavaScript is currently disabled" in page.inner_text("body")
    page.click("input[type=submit][value=Submit]")
    page.wait_for_selector("#otp")
    page.fill("#otp", "123456")
    page.click("#confirm")
    # The ACS's form back to TermUrl shows its button too.
    page.wait_for_selector("input[type=submit][value=Submit]")
    page.click("input[type=submit][value=Submit]")
    result = result_of(page)
    assert result["responseCode"] == "00" and result["holderAuthentStatus"] == "SUCCESS"
    agrees(server, result, "TO_CAPTURE")


# ------------------------------------------------------------------ provider and cardOrder


@pytest.mark.parametrize(("button", "code", "status"), [
    ("#approve", "00", "TO_CAPTURE"),
    ("#decline", "05", "REFUSED"),
])
def test_provider(page, shop: str, server: RunningServer, button: str, code: str,  # type: ignore[no-untyped-def]
                  status: str) -> None:
    page.goto(shop + "/")
    page.click("#pay-provider")
    page.wait_for_selector("#approve")
    assert page.url.startswith(server.url + "/provider")
    assert page.inner_text("#amount") == "25.00 EUR"
    if button == "#approve":
        screenshot(page, "provider.png")
    page.click(button)
    result = result_of(page)
    assert result["responseCode"] == code and result["paymentMeanBrand"] == "PAYPAL"
    agrees(server, result, status)


def test_card_order(page, shop: str, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    pay(page, shop, "#pay-card", "4100000000000051")
    result = result_of(page)
    assert result["responseCode"] == "51"
    agrees(server, result, "REFUSED")
