"""A real server set up as `make run` does (migrate, seed, serve), then the clients' flow."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import need_tools
from tests.support import op

MEMBER_CENTRE_IDENTITY = """
query MemberCentre { me { id displayName avatarUrl phoneMasked joinedAt referralCode } }
"""


def call(base: str, document: str, variables: dict[str, object], token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base}/graphql", json={"query": document, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_register_login_member_centre_refresh_logout(server: str) -> None:
    phone, password = "13600000001", "my-pass-123"
    registered = call(server, op("Register"), {"input": {"phone": phone, "password": password}})
    assert registered["register"]["__typename"] == "AuthTokens"
    tokens = call(server, op("Login"), {"input": {"phone": phone, "password": password}})["login"]
    me = call(server, MEMBER_CENTRE_IDENTITY, {}, tokens["accessToken"])["me"]
    assert me["phoneMasked"] == "136****0001"
    centre = call(server, op("MemberCentre"), {}, tokens["accessToken"])["me"]
    assert (centre["id"], centre["tier"]["code"]) == (me["id"], "NEW")
    refreshed = call(
        server, op("RefreshTokens"), {"input": {"refreshToken": tokens["refreshToken"]}}
    )
    new = refreshed["refreshTokens"]
    assert new["__typename"] == "AuthTokens"
    out = call(server, op("Logout"), {"input": {"refreshToken": new["refreshToken"]}})
    assert out["logout"]["__typename"] == "LogoutSuccess"


@pytest.mark.parametrize(
    ("n", "tier"),
    [(1, "NEW"), (2, "SILVER"), (3, "GOLD"), (4, "DIAMOND"), (5, "BLACK_DIAMOND")],
)
def test_demo_members_sign_in_one_per_tier(server: str, n: int, tier: str) -> None:
    variables = {"input": {"phone": f"1380000000{n}", "password": "demo-pass-1"}}
    tokens = call(server, op("Login"), variables)["login"]
    assert tokens["__typename"] == "AuthTokens"
    me = call(server, "{ me { tier { code } tierHistory { reason } } }", {}, tokens["accessToken"])
    assert me["me"]["tier"]["code"] == tier
    assert me["me"]["tierHistory"][-1]["reason"] == "REGISTRATION"


def test_demo_staff_can_sign_in(server: str) -> None:
    for username in ("operator", "authenticator", "moderator"):
        response = httpx.post(
            f"{server}/admin/graphql",
            json={
                "query": "mutation($u: String!) { staffLogin(input: {username: $u,"
                ' password: "demo-staff-1"}) { __typename } }',
                "variables": {"u": username},
            },
        )
        assert response.json()["data"]["staffLogin"]["__typename"] == "AuthTokens"


def test_service_endpoints(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server}/.well-known/jwks.json").json()["keys"]
    page = httpx.get(f"{server}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert httpx.post(f"{server}/graphql", content=b"{oops").status_code == 400


def test_demo_points_and_rewards(server: str) -> None:
    variables = {"input": {"phone": "13800000002", "password": "demo-pass-1"}}
    token = call(server, op("Login"), variables)["login"]["accessToken"]
    me = call(server, "{ me { points { balance expiringSoon { amount } } } }", {}, token)
    assert me["me"]["points"]["balance"] > 0
    assert me["me"]["points"]["expiringSoon"][0]["amount"] == 300
    catalogue = call(server, op("RewardCatalogue"), {"first": 20}, token)["rewards"]["edges"]
    assert len(catalogue) == 6
    assert any(edge["node"]["stock"] == 1 for edge in catalogue)


def test_demo_streak_continues_today(server: str) -> None:
    variables = {"input": {"phone": "13800000003", "password": "demo-pass-1"}}
    token = call(server, op("Login"), variables)["login"]["accessToken"]
    before = call(server, "{ me { checkIn { checkedInToday streak } } }", {}, token)
    assert before["me"]["checkIn"] == {"checkedInToday": False, "streak": 6}
    assert call(server, op("CheckIn"), {}, token)["checkIn"]["streak"] == 7


def test_demo_upcoming_events(server: str) -> None:
    events = call(server, op("UpcomingEvents"), {"first": 10}, None)["events"]["edges"]
    assert [e["node"]["city"] for e in events] == ["Shanghai", "Beijing", "Hangzhou"]
    assert all(e["node"]["seatsLeft"] > 0 for e in events)


def test_demo_tasks_in_progress(server: str) -> None:
    variables = {"input": {"phone": "13800000005", "password": "demo-pass-1"}}
    token = call(server, op("Login"), variables)["login"]["accessToken"]
    tasks = call(server, op("Tasks"), {}, token)["me"]["tasks"]
    done = {task["code"] for task in tasks if task["completed"]}
    assert done == {
        "COMPLETE_PROFILE",
        "FIRST_AUTHENTICATION",
        "SHARE_AUTHENTICATION",
        "JOIN_GROUP",
        "FIRST_POST",
    }
    # The new-member week closed long ago for the demo members.
    assert {task["code"] for task in tasks if not task["completed"]} == {"NEW_MEMBER_WEEK"}


def test_demo_community(server: str) -> None:
    variables = {"input": {"phone": "13800000002", "password": "demo-pass-1"}}
    token = call(server, op("Login"), variables)["login"]["accessToken"]
    groups = call(server, op("CommunityGroups"), {}, token)["communityGroups"]
    assert len(groups) == 3
    assert all(g["joinedByMe"] for g in groups)
    bags = next(g for g in groups if g["slug"] == "bag-study-club")
    feed = call(server, op("GroupFeed"), {"groupId": bags["id"], "first": 10}, token)
    posts = [e["node"] for e in feed["communityGroup"]["posts"]["edges"]]
    assert len(posts) == 4
    assert any(p["likeCount"] > 0 for p in posts)
    thread = call(server, op("PostThread"), {"postId": posts[-1]["id"], "first": 5}, token)
    assert thread["post"]["comments"]["edges"]


def _demo_items(server: str) -> list[dict]:
    variables = {"input": {"phone": "13800000005", "password": "demo-pass-1"}}
    token = call(server, op("Login"), variables)["login"]["accessToken"]
    return list(call(server, op("MyItems"), {}, token)["me"]["items"])


def test_demo_items_and_the_copied_tag(server: str) -> None:
    items = _demo_items(server)
    assert [i["brand"] for i in items] == ["Hermès"]
    assert items[0]["qrCodeSvg"].startswith("<svg")
    found = call(server, op("ScanItem"), {"code": items[0]["publicId"]})["provenance"]
    assert found["authentic"] is True
    assert len(found["events"]) == 5
    variables = {"input": {"phone": "13800000003", "password": "demo-pass-1"}}
    token = call(server, op("Login"), variables)["login"]["accessToken"]
    chanel = call(server, op("MyItems"), {}, token)["me"]["items"][0]
    assert call(server, op("ScanItem"), {"code": chanel["publicId"]})["provenance"]["cloneWarning"]


def test_the_scan_page_in_a_phone_sized_headless_chromium(server: str) -> None:
    need_tools("chromium", "chromedriver")
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    public_id = _demo_items(server)[0]["publicId"]
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    # A phone: 390 x 844 CSS pixels at 3x, as an iPhone 14 reports itself.
    phone = {"width": 390, "height": 844, "pixelRatio": 3.0, "touch": True}
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": phone})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get(f"{server}/p/{public_id}")
        viewport = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        assert viewport[0] <= 390
        verdict = driver.find_element(By.ID, "verdict")
        assert verdict.is_displayed()
        assert "Authentic" in verdict.text
        box = verdict.rect
        # On screen without scrolling, and nothing wider than the phone.
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport[0]
        assert box["y"] + box["height"] <= viewport[1]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= viewport[0]
        if os.environ.get("SCAN_PAGE_SCREENSHOT"):
            driver.save_screenshot(os.environ["SCAN_PAGE_SCREENSHOT"])
    finally:
        driver.quit()


def test_graphql_over_http_audit_passes_on_both_endpoints(server: str) -> None:
    """graphql-http's server audit: no MUST or SHOULD may fail (node and npm needed)."""
    need_tools("node", "npm")
    tool = Path(__file__).parents[2] / "tools" / "graphql-http-audit"
    if not (tool / "node_modules" / "graphql-http").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=tool, check=True, timeout=300)
    audit = subprocess.run(
        ["node", "audit.mjs", f"{server}/graphql", f"{server}/admin/graphql"],
        cwd=tool,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(audit.stdout)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.count(" 0 MUST/SHOULD failing") == 2


def test_the_healthcheck_asks_the_server_on_its_own_port(
    server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from member_api.cli import main

    monkeypatch.setenv("PORT", server.rsplit(":", 1)[1])
    assert main(["healthcheck"]) == 0
    assert capsys.readouterr().out.strip() == "ready"


def test_the_healthcheck_fails_when_nothing_answers_or_the_server_is_not_ready(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import http.server
    import threading

    from member_api.cli import main
    from tests.e2e.conftest import _free_port

    monkeypatch.setenv("PORT", str(_free_port()))
    assert main(["healthcheck", "--timeout", "1"]) == 1

    class NotReady(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503 if self.path == "/readyz" else 200)
            self.end_headers()
            self.wfile.write(b'{"database": "down"}')

        def log_message(self, *args: object) -> None:
            pass

    with http.server.HTTPServer(("127.0.0.1", 0), NotReady) as stub:
        threading.Thread(target=stub.serve_forever, daemon=True).start()
        try:
            monkeypatch.setenv("PORT", str(stub.server_address[1]))
            assert main(["healthcheck"]) == 1
        finally:
            stub.shutdown()
    assert "503" in capsys.readouterr().err


def test_the_documented_staff_steps_work_as_pasted(server: str) -> None:
    """docs/operations.md's staff block, run by bash against a server set up as
    `make run` does: every step succeeds and the item's public page shows both events."""
    need_tools("curl", "sha256sum")
    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    block = text.split("## Staff, step by step", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        env={**os.environ, "API": server},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    assert '"__typename":"Reward"' in out, out
    assert out.count('"__typename":"CustodyEventRecorded"') == 2, out
    page = json.loads(out.strip().splitlines()[-1])
    assert [e["kind"] for e in page["events"]][-2:] == ["AUTHENTICATION", "CONSIGNMENT"], page
