"""GraphiQL in headless Chromium with no network but this machine: it renders from the
service's own files, loads each endpoint's schema from that endpoint, and runs a query."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import need_tools


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_tools("chromium", "chromedriver")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,900",
        # Every host name but the service's address fails to resolve: nothing can come
        # from a CDN, even on a machine that has the internet.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def _resources(driver: Any) -> list[dict[str, str]]:
    found = driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".map(e => ({name: e.name, initiator: e.initiatorType}))"
    )
    return list(found)


@pytest.mark.parametrize("endpoint", ["/graphql", "/admin/graphql"])
def test_graphiql_renders_offline_and_queries_its_own_endpoint(
    server: str, browser: Any, endpoint: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server}{endpoint}")
    wait = WebDriverWait(browser, 20)
    editor = wait.until(
        until.visibility_of_element_located((By.CSS_SELECTOR, ".graphiql-query-editor"))
    )
    assert editor.is_displayed()
    # The schema came from this endpoint: the explorer lists its own query fields.
    own, other = ("memberTierForecast", "communityGroups")
    if endpoint == "/graphql":
        own, other = other, own
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Show GraphiQL Explorer']").click()
    wait.until(until.text_to_be_present_in_element((By.CSS_SELECTOR, ".graphiql-plugin"), own))
    assert other not in browser.find_element(By.CSS_SELECTOR, ".graphiql-plugin").text

    browser.execute_script(
        "document.querySelector('.graphiql-query-editor .CodeMirror')"
        ".CodeMirror.setValue('{ __typename }')"
    )
    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    wait.until(
        until.text_to_be_present_in_element((By.CSS_SELECTOR, ".graphiql-response"), "Query")
    )
    answer = browser.execute_script(
        "return document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
    )
    assert json.loads(answer)["data"] == {"__typename": "Query"}

    resources = _resources(browser)
    own = urlsplit(server).netloc
    assert {urlsplit(r["name"]).netloc for r in resources} == {own}
    scripts = [r["name"] for r in resources if r["initiator"] == "script"]
    assert len(scripts) == 5
    assert all(urlsplit(s).path.startswith("/graphiql/static/") for s in scripts)
    fetched = {urlsplit(r["name"]).path for r in resources if r["initiator"] == "fetch"}
    assert fetched == {endpoint}
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]
    assert not problems
    if os.environ.get("GRAPHIQL_SCREENSHOT"):
        browser.save_screenshot(os.environ["GRAPHIQL_SCREENSHOT"].replace("*", endpoint[1:5]))
