"""The fan-out bench's flags: which servers run, in which order, and what it refuses."""

from __future__ import annotations

import pytest

from bench.fanout import parse_args
from bench.fanout_servers import OursServer, ReferenceServer


def names(argv: list[str]) -> list[str]:
    return [kind.name for kind in parse_args(argv).kinds]


def test_servers_run_in_the_order_given() -> None:
    assert parse_args([]).kinds == [OursServer, ReferenceServer]
    assert parse_args(["--servers", "reference,mill-dash"]).kinds == [ReferenceServer, OursServer]
    assert parse_args(["--servers", "reference"]).kinds == [ReferenceServer]


def test_every_variant_of_ours_keeps_its_place_in_the_order() -> None:
    order = names(["--servers", "reference,mill-dash", "--metrics", "on,off"])
    assert order[0] == "reference"
    assert order[1:] == names(["--servers", "mill-dash", "--metrics", "on,off"])
    assert len(order) == 3


@pytest.mark.parametrize("servers", ["", "nginx", "mill-dash,refrence", " , "])
def test_an_unknown_or_empty_server_list_is_refused(
    servers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        parse_args(["--servers", servers])
    assert stop.value.code == 2
    assert "--servers must name mill-dash and/or reference" in capsys.readouterr().err


def test_a_server_named_twice_runs_once() -> None:
    assert parse_args(["--servers", "reference,reference,mill-dash"]).kinds == [
        ReferenceServer,
        OursServer,
    ]
