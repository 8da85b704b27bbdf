"""The field-force page (/console/field/) in real headless Chromium: live positions with
alerts, a member's track replay, the coverage map and a rotation plan, all zh-CN and
served locally (the shared fixtures fail a test that asks another host)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gis_core.field.members import set_duty
from gis_core.storage import Store
from tests.web.conftest import PASSWORD, ConsolePage, Server, _console

WALKED = "340111001002002"


def _walk_fixes(now: datetime, minutes: int) -> list[list]:
    """A member walking east-west along a street of WALKED's neighbourhood, every 10 s."""
    n = minutes * 6
    return [
        [
            (now - timedelta(seconds=10 * (n - i))).isoformat(),
            117.2790 + 0.00012 * (59 - abs(i % 118 - 59)),  # to and fro
            31.8468,
        ]
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def field_data(console_server: Server) -> dict:
    """Two members with fixes: one on duty and walking now, one silent for an hour."""
    with console_server.client("admin") as c:
        positions = c.get("/v1/field/positions").json()
        assert positions["members"] > 0
        units = c.get("/v1/coverage", params={"by": "member"}).json()
        assert units["members"] == [] or isinstance(units["members"], list)
        now = datetime.now(UTC).replace(microsecond=0)
        walker, silent = "346", "350"
        assert c.post("/v1/field/duty", json={"member": walker, "on_duty": True}).status_code == 200
        r = c.post("/v1/tracks", json={"member": walker, "fixes": _walk_fixes(now, 30)})
        assert r.status_code == 200 and r.json()["accepted"] == 180, r.text
        old = _walk_fixes(now - timedelta(hours=1), 5)
        assert c.post("/v1/tracks", json={"member": silent, "fixes": old}).json()["accepted"] == 30
    return {"walker": walker, "silent": silent}


@pytest.fixture(scope="module")
def field_page(browser, console_server: Server, field_data: dict) -> Iterator[ConsolePage]:  # type: ignore[no-untyped-def]
    for cp in _console(browser, console_server):
        page = cp.page
        page.goto(f"{console_server.base}/console/field/")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        yield cp


def _open(cp: ConsolePage, view: str) -> None:
    cp.page.click(f".tab[data-view='{view}']")
    cp.page.wait_for_selector(f"body[data-loaded='{view}']", timeout=20_000)


def test_live_positions_and_alerts(field_page: ConsolePage, field_data: dict) -> None:
    _open(field_page, "live")
    page = field_page.page
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert int(page.text_content("#live-on-duty") or 0) >= 1
    row = page.locator(f"#live-table tr[data-member='{field_data['walker']}']")
    assert "在岗" in row.inner_text()
    # the walker drew a point on the map
    n = field_page.js(
        "() => window.gridgovField.ctx.fmap.map.querySourceFeatures('positions').length"
    )
    assert n >= 2
    assert "实时位置" in page.inner_text(".tab.on")


def test_alerts_pushed_not_polled(
    field_page: ConsolePage, console_server: Server, field_data: dict
) -> None:
    """Alerts arrive over the event stream (no request to /v1/field/alerts); a member who
    turns silent while on duty shows up without a reload."""
    asked: list[str] = []
    page = field_page.page
    page.on("request", lambda r: asked.append(r.url) if "/v1/field/alerts" in r.url else None)
    _open(field_page, "live")
    page.wait_for_selector("#alerts-stream[data-state='on']", timeout=20_000)
    page.wait_for_selector("#alerts[data-generated-at]", timeout=20_000)
    assert field_page.js("() => window.gridgovField.ctx.alertsPushed") >= 1
    assert "告警实时推送中" in page.inner_text("#alerts-stream")
    # the silent member (last fix an hour ago) has been on duty for an hour: an alert
    with Store(console_server.db_url) as store:
        set_duty(store, int(field_data["silent"]), True, at=datetime.now(UTC) - timedelta(hours=1))
    try:
        sel = f"#alerts .alert[data-kind='silent'][data-member='{field_data['silent']}']"
        page.wait_for_selector(sel, timeout=40_000)  # the next push (every 15 s)
        assert "无定位" in page.inner_text(sel)
    finally:
        with Store(console_server.db_url) as store:
            set_duty(store, int(field_data["silent"]), False)
    assert asked == []


def test_replay_a_track(field_page: ConsolePage, field_data: dict) -> None:
    _open(field_page, "replay")
    page = field_page.page
    page.select_option("#replay-member", field_data["walker"])
    page.click("#replay-form button[type=submit]")
    page.wait_for_selector("#replay-info[data-state='done'][data-fixes='180']")
    assert "第 180/180 点" in page.inner_text("#replay-info")
    page.fill("#replay-slider", "10")
    page.dispatch_event("#replay-slider", "input")
    assert "第 11/180 点" in page.inner_text("#replay-info")


def test_coverage_map(field_page: ConsolePage) -> None:
    _open(field_page, "coverage")
    page = field_page.page
    # answered from stored coverage; the page re-asks until the background job has run
    page.wait_for_selector("#coverage-fresh[data-stale='0']", timeout=90_000)
    assert "统计时间" in page.inner_text("#coverage-fresh")
    assert int(page.text_content("#coverage-patrolled") or -1) >= 1
    assert page.locator("#coverage-table tbody tr").count() >= 1
    assert page.locator("#street-rates tbody tr").count() >= 1
    shares = field_page.js(
        "() => window.gridgovField.ctx.fmap.data.coverage.features"
        ".filter(f => f.properties.covered_share > 0).length"
    )
    assert shares >= 1


def test_rotation_table(field_page: ConsolePage) -> None:
    _open(field_page, "rotation")
    page = field_page.page
    page.click("#rotation-solve")
    page.wait_for_selector("#rotation-table tbody tr")
    rows = page.locator("#rotation-table tbody tr")
    assert rows.count() == 4
    cells = [c.strip() for c in page.locator("#rotation-table td.cell").all_inner_texts()]
    assert len(cells) == 12 and "—" not in cells
    for p in range(4):  # nobody twice in one period
        period = cells[p * 3 : p * 3 + 3]
        assert len(set(period)) == 3
    assert "CP-SAT" in page.inner_text("#rotation-result")
    # too tight: 2 inspectors cannot cover 3 areas
    page.fill("#rotation-form textarea[name=inspectors]", "甲\n乙")
    page.click("#rotation-solve")
    page.wait_for_selector("#rotation-error")
    assert "无法生成" in page.inner_text("#rotation-error")


def test_nearest_members_in_event_detail(browser, console_server: Server, field_data: dict) -> None:  # type: ignore[no-untyped-def]
    """The dispatcher console's event detail lists the nearest on-duty members and sends
    the event to one of them."""
    with console_server.client("admin") as c:
        created = c.post(
            "/v1/events",
            json={
                "source": "12345",
                "category_code": "03001",
                "description": "人员派遣测试",
                "lon": 117.2800,
                "lat": 31.8468,
            },
        )
        assert created.status_code in (200, 201), created.text
        event_id = created.json()["id"]
        expected = c.get(f"/v1/events/{event_id}/nearest-members", params={"k": 5}).json()["items"]
    assert expected and expected[0]["member_id"] == int(field_data["walker"])
    for cp in _console(browser, console_server):
        cp.page.goto(f"{console_server.base}/console/")
        cp.page.fill("#username", "admin")
        cp.page.fill("#password", PASSWORD)
        cp.page.click("#login-submit")
        cp.page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        cp.js("id => window.gridgovConsole.select(id)", event_id)
        first = cp.page.locator("#detail-people li").first
        first.wait_for(timeout=15_000)
        assert first.get_attribute("data-member") == field_data["walker"]
        assert "米" in first.inner_text()
        first.locator("button.send").click()
        cp.page.wait_for_selector("#detail-people .people-sent")
        assert "已派给" in cp.page.inner_text("#detail-people .people-sent")
    with console_server.client("admin") as c:
        sent = c.get(f"/v1/events/{event_id}/member-dispatches").json()["items"]
    assert sent[-1]["member_id"] == int(field_data["walker"]) and sent[-1]["reason"]["rank"] == 1
