"""Shared-subscription filters, the device id under ``$share``, and the consumer's options
checked before anything connects."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from gis_core.cli import integrations as integrations_cli
from gis_core.integrations.mqtt import DEFAULT_TOPIC, device_from_topic, shared


def test_shared_filters_and_device_ids() -> None:
    assert shared([DEFAULT_TOPIC], None) == [DEFAULT_TOPIC]
    filters = shared([DEFAULT_TOPIC, "site/+/up"], "ingest")
    assert filters == ["$share/ingest/gridgov/devices/+/readings", "$share/ingest/site/+/up"]
    for flt in ([DEFAULT_TOPIC, "site/+/up"], filters):
        assert device_from_topic("gridgov/devices/WL-7/readings", flt) == "WL-7"
        assert device_from_topic("site/CAM-2/up", flt) == "CAM-2"
        assert device_from_topic("other/CAM-2/up", flt) is None
    for bad in ("", "a/b", "a+", "#"):
        with pytest.raises(ValueError, match="share group"):
            shared([DEFAULT_TOPIC], bad)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--share", "a/b"], "--share"),
        (["--share", ""], "--share"),
        (["--protocol", "4"], "--protocol"),
        (["--receive-maximum", "5"], "--receive-maximum"),
    ],
)
def test_bad_consumer_options_exit_before_connecting(args: list[str], says: str) -> None:
    cli = typer.Typer()
    integrations_cli.register(cli)
    done = CliRunner().invoke(
        cli, ["ingest", "mqtt", "--broker", "mqtt://127.0.0.1:1", "--url", "sqlite://", *args]
    )
    assert done.exit_code == 2, done.output
    assert says in done.output and "Traceback" not in done.output


def test_serve_passes_the_share_group_to_its_consumer(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gridgov serve --mqtt ... --mqtt-share G --mqtt-client-id ID`: each node one member."""
    from gis_core.cli import app as cli
    from gis_core.cli import register_commands
    from gis_core.integrations import runtime
    from gis_core.storage import Store

    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    Store(url).upgrade()
    seen: dict[str, object] = {}

    class Recorder:
        def __init__(self, store: object, **kwargs: object) -> None:
            seen.update(kwargs)
            raise SystemExit(0)  # recorded: do not serve

    monkeypatch.setattr(runtime, "Background", Recorder)
    register_commands()
    base = ["serve", "--url", url, "--mqtt", "mqtt://127.0.0.1:1883"]
    done = CliRunner().invoke(cli, [*base, "--mqtt-share", "nodes", "--mqtt-client-id", "n2"])
    assert done.exit_code == 0, done.output
    assert seen["share"] == "nodes" and seen["client_id"] == "n2"
    for bad in (["--mqtt-share", "a/b"], ["--mqtt-share", ""]):
        done = CliRunner().invoke(cli, [*base, *bad])
        assert done.exit_code == 2 and "--mqtt-share" in done.output, done.output
    done = CliRunner().invoke(cli, ["serve", "--url", url, "--mqtt-share", "nodes"])
    assert done.exit_code == 2 and "--mqtt" in done.output
