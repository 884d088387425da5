"""The commune combobox of the directory (issue 15), with real key presses, at 200 % zoom: a 640 px wide window
drawn at two device pixels per CSS pixel is a 1,280 px screen zoomed to 200 %. One page load: the suggestions come
from the server as one types, the count is said through the live region, the list is worked by keys and mouse,
and axe looks at the page with the list open."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.axe import axe_violations, describe
from tests.directory.support import load_sample_communes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
FONT_SIZES = """([option, input]) => ({
  option: parseFloat(getComputedStyle(option).fontSize),
  input: parseFloat(getComputedStyle(input).fontSize),
  ratio: window.devicePixelRatio,
})"""


@pytest.mark.browser_context_args(viewport={"width": 640, "height": 800}, device_scale_factor=2)
def test_the_commune_combobox_is_worked_by_keys_announces_its_count_and_zooms_with_the_page(page, live_server):
    page.set_default_timeout(10_000)
    load_sample_communes()
    page.goto(f"{live_server.url}{reverse('directory:search')}")
    field = page.get_by_role("combobox", name="Commune, code postal ou code INSEE")
    listbox = page.get_by_role("listbox", name="Communes proposées", include_hidden=True)
    live = page.locator("#live-status")
    expect(field).to_have_attribute("aria-expanded", "false")
    assert field.get_attribute("aria-autocomplete") == "list"
    assert field.get_attribute("aria-controls") == listbox.get_attribute("id")

    field.click()
    page.keyboard.type("saint et")
    expect(live).to_have_text("3 communes proposées")
    expect(field).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(3)
    assert field.get_attribute("aria-activedescendant") is None  # the focus stays in the text until an arrow

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = options.nth(1)
    assert field.get_attribute("aria-activedescendant") == second.get_attribute("id")
    expect(second).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    assert page.evaluate("document.activeElement.id") == field.get_attribute("id")

    # At 200 %, the options are drawn at least as large as the typed text (the datalist's popup stayed at 13 px).
    sizes = page.evaluate(FONT_SIZES, [second.element_handle(), field.element_handle()])
    assert sizes["ratio"] == 2 and sizes["option"] >= sizes["input"] >= 16, sizes
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "commune-combobox-200.png"))
    found = describe(axe_violations(page), where="directory, list open")
    assert not found, "\n".join(found)

    chosen = second.get_attribute("data-value")
    page.keyboard.press("Enter")  # takes the commune, does not send the form
    expect(field).to_have_value(chosen)
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    assert field.get_attribute("aria-activedescendant") is None
    assert "commune=" not in page.url

    page.keyboard.press("Control+A")
    page.keyboard.type("lil")
    expect(live).to_have_text("1 commune proposée")
    expect(field).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).to_have_value("lil")  # Escape closed the list; it did not clear the text

    page.keyboard.press("ArrowUp")  # closed: opens on the last option
    expect(field).to_have_attribute("aria-expanded", "true")
    options.first.click()
    expect(field).to_have_value("Lille (59)")
    expect(field).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Control+A")
    page.keyboard.type("2A999")
    expect(live).to_have_text("Aucune commune ne correspond")
    expect(field).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("004")
    expect(live).to_have_text("1 commune proposée")
    page.keyboard.press("ArrowDown")
    assert field.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    page.keyboard.press("Home")  # back to the text, caret at its start; the list stays open
    assert field.get_attribute("aria-activedescendant") is None
    assert page.evaluate("document.activeElement.selectionStart") == 0
    expect(field).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")  # leaving the field closes the list
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
