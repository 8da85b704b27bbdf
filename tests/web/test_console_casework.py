"""The console's casework in a real browser: co-tasks in the event detail (and urging one),
the matter catalogue editor (admins) and the area health report download (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from gis_core.storage import Store
from gis_core.storage.models import ResponsibleUnit
from tests.web.conftest import STREET_A, ConsolePage, Server
from tests.web.test_console import DISPATCHER_A, open_event, report

CLASS = "06005"  # a class the other console tests do not use
ENTRY = {
    "category_code": CLASS,
    "major_no": 6,
    "major_name": "市容环境类",
    "name": "测试事项",
    "handling_limit_value": 2,
    "handling_limit_unit": "working_days",
    "after_photo": True,
    "co_handling_required": True,
}


def put_catalogue(server: Server, entries: list[dict[str, Any]]) -> int:
    with server.client("admin") as client:
        r = client.put("/v1/catalogue", json={"entries": entries, "note": "浏览器测试"})
    assert r.status_code == 200, r.text
    return r.json()["version"]


def test_co_tasks_in_the_detail(dispatcher_a: ConsolePage) -> None:
    server = dispatcher_a.server
    put_catalogue(server, [ENTRY])
    ev = report(server, STREET_A, index=3, category_code=CLASS)
    with Store(server.db_url) as store, store.session(write=False) as s:
        co = s.scalar(select(ResponsibleUnit.id).where(ResponsibleUnit.code == "340111-SJJ"))
    with server.client(DISPATCHER_A) as client:
        assert client.post(f"/v1/events/{ev['id']}/actions", json={"action": "file"}).is_success
        r = client.post(
            f"/v1/events/{ev['id']}/actions", json={"action": "dispatch", "co_unit_ids": [co]}
        )
        assert r.status_code == 200, r.text
    open_event(dispatcher_a, ev["id"])
    page = dispatcher_a.page
    page.wait_for_selector("#detail-tasks")
    assert page.inner_text("#detail-tasks h3") == "主办与协办"
    rows = page.locator("#detail-tasks tr.task")
    assert rows.count() == 2
    co_row = page.locator("#detail-tasks tr.task-co")
    assert "协办" in co_row.inner_text() and "待签收" in co_row.inner_text()
    assert "主办" in page.inner_text("#task-lead")
    co_row.locator("button[data-task-action='urge']").click()
    page.wait_for_selector("#detail-notice:has-text('催办：已完成')")
    with server.client(DISPATCHER_A) as client:
        tasks = client.get(f"/v1/events/{ev['id']}/tasks").json()
    co_task = next(t for t in tasks if t["role"] == "co")
    assert co_task["urge_count"] == 1 and co_task["history"][-1]["action"] == "urge"


def test_admin_edits_the_catalogue(console: ConsolePage) -> None:
    before = put_catalogue(console.server, [ENTRY])
    console.login("admin")
    page = console.page
    page.click("#catalogue-btn")
    page.wait_for_selector("#panel table.catalogue")
    assert f"v{before}" in page.inner_text("#catalogue-status")
    row = page.locator(f"#panel tr[data-code='{CLASS}']")
    row.locator("input[data-flag='site_check']").check()
    row.locator("input[data-flag='after_photo']").uncheck()
    page.fill("#catalogue-note", "增加现场核查")
    page.click("#catalogue-save")
    page.wait_for_selector("#catalogue-status:has-text('已保存为新版本')")
    with console.server.client("admin") as client:
        cat = client.get("/v1/catalogue").json()
    assert cat["version"] == before + 1 and cat["note"] == "增加现场核查"
    entry = cat["entries"][0]
    assert entry["site_check"] is True and entry["after_photo"] is False


def test_report_download(console: ConsolePage) -> None:
    console.login("admin")
    page = console.page
    page.click("#report-btn")
    page.wait_for_selector("#report-area option", state="attached")
    page.select_option("#report-area", STREET_A)
    assert page.input_value("#report-period")  # last month by default
    with page.expect_download(timeout=60_000) as info:  # a first PDF loads its fonts
        page.click("#report-download")
    path = info.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF")
    assert info.value.suggested_filename.startswith(f"体检报告-{STREET_A}-")
    page.wait_for_selector("#report-status:has-text('已下载')")
    assert page.locator("#catalogue-btn").count() == 1  # admin sees the catalogue too


def test_dispatcher_has_no_catalogue_or_report_buttons(dispatcher_a: ConsolePage) -> None:
    assert dispatcher_a.page.locator("#catalogue-btn").count() == 0
    assert dispatcher_a.page.locator("#report-btn").count() == 0
