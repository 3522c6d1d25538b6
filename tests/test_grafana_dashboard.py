"""deploy/grafana-dashboard.json, deploy/prometheus.yml, deploy/grafana/ and the monitoring
services of deploy/compose.yaml, checked without Docker (docs/deploy.md, "Prometheus and
Grafana"). The dashboard imports as is: unique panel ids, a place on the grid for each, one
data source variable used everywhere. Every PromQL expression in it names only series that a
real server's `/metrics` shows, spelled exactly as the scrape spells them (`_total`, `_bucket`),
and adds the processes up; every family of CONTRACT §5 and of docs/metrics.md is on a panel.
Prometheus scrapes the compose app services at /metrics with the token from a file; Grafana's
provisioning points at that Prometheus and at the dashboard's file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from devtools.factories import add_machines
from devtools.live_server import LiveServer
from tests.test_metrics import CONTRACT_FAMILIES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
DS_REF = {"type": "prometheus", "uid": "${datasource}"}
# Grafana's own variables, usable in any query.
GRAFANA_VARIABLES = {"__rate_interval", "__interval", "__range"}
# PromQL words that are neither series nor functions.
PROMQL_WORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
# What an expression may start with: an aggregation over every process (or a quantile of one).
AGGREGATIONS = ("sum", "min", "max", "count", "avg", "histogram_quantile")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def load(path: Path) -> Any:
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return load(DASHBOARD)


def all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every query of every panel."""
    return [
        (panel["title"], target["expr"])
        for panel in all_panels(dashboard)
        for target in panel.get("targets", [])
    ]


def series_names(expr: str) -> set[str]:
    """The series an expression reads: the identifiers that are no function, keyword, label
    name or Grafana variable."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals (label values)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges, with their $__rate_interval
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w$.])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group(0).lower() not in PROMQL_WORDS:
            names.add(match.group(0))
    return names


def scrape_names(text: str) -> tuple[set[str], dict[str, str]]:
    """The sample names of a scrape, and each family's type."""
    families = list(text_string_to_metric_families(text))
    return (
        {sample.name for family in families for sample in family.samples},
        {family.name: family.type for family in families},
    )


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[set[str], dict[str, str]]]:
    """What a real server shows at /metrics, once a request has been timed."""
    live = LiveServer(tmp_path_factory.mktemp("grafana"))
    add_machines(live.db, 1)
    live.start()
    try:
        assert live.get("/machines").status_code == 200  # an HTTP histogram series
        answer = requests.get(f"{live.url}/metrics", headers=live.headers("admin"), timeout=10)
        assert answer.status_code == 200, answer.text
        yield scrape_names(answer.text)
    finally:
        live.stop()


def documented_families() -> set[str]:
    """The families of docs/metrics.md's table ("## Families")."""
    doc = (ROOT / "docs" / "metrics.md").read_text()
    section = doc.split("## Families", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(milldash_\w+)`", section, flags=re.MULTILINE))


def covers(names: set[str], family: str) -> bool:
    """Whether a family (as the parser names it, or with `_total`) is among these series."""
    base = family.removesuffix("_total")
    return bool(names & {family, base, f"{base}_total", *(base + s for s in HISTOGRAM_SUFFIXES)})


# -- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_imports_as_is(dashboard: dict[str, Any]) -> None:
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"] == "milldash" and dashboard["title"] == "Mill Dash"
    assert dashboard.get("id") is None  # Grafana gives it one
    assert "__inputs" not in dashboard  # no import-time inputs: provisioning cannot fill them
    panels = all_panels(dashboard)
    ids = [panel["id"] for panel in panels]
    assert all(isinstance(i, int) for i in ids) and len(ids) == len(set(ids)), ids
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        assert panel["type"] in ("row", "timeseries", "stat"), panel["title"]
        assert panel["title"].strip()
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid) and all(isinstance(grid[k], int) for k in grid)
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        for x in range(grid["x"], grid["x"] + grid["w"]):  # no two panels on one cell
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, (panel["title"], cells.get((x, y)))
                cells[(x, y)] = panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


def test_one_data_source_variable_everywhere(dashboard: dict[str, Any]) -> None:
    variables = dashboard["templating"]["list"]
    sources = [v for v in variables if v["type"] == "datasource"]
    assert len(sources) == 1
    assert sources[0]["name"] == "datasource" and sources[0]["query"] == "prometheus"
    assert "${DS_" not in DASHBOARD.read_text()
    for panel in all_panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DS_REF, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DS_REF, panel["title"]
    for variable in variables:
        if variable["type"] == "query":
            assert variable["datasource"] == DS_REF, variable["name"]
    defined = {v["name"] for v in variables} | GRAFANA_VARIABLES
    for title, expr in queries(dashboard):
        used = set(re.findall(r"\$\{?(\w+)", expr))
        assert used <= defined, (title, used - defined)


def test_every_query_reads_series_a_real_server_shows(
    dashboard: dict[str, Any], scraped: tuple[set[str], dict[str, str]]
) -> None:
    samples, _types = scraped
    for title, expr in queries(dashboard):
        names = series_names(expr)
        assert names, (title, expr)
        assert names <= samples, (title, sorted(names - samples))
        assert all(name.startswith("milldash_") for name in names), (title, names)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else ""
        metric = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query or variable["definition"])
        assert metric is not None, variable
        assert metric.group(1) in samples, variable["name"]


def test_every_query_adds_up_the_processes(dashboard: dict[str, Any]) -> None:
    """Prometheus labels every process by `instance`: each query aggregates over them (a
    quantile over the buckets summed by `le`)."""
    for title, expr in queries(dashboard):
        outer = re.match(r"\s*(\w+)\s*(?:by\s*\([^)]*\)\s*)?\(", expr)
        assert outer is not None and outer.group(1) in AGGREGATIONS, (title, expr)
        if outer.group(1) == "histogram_quantile":
            assert re.search(r"sum by \((le|le, \w+)\)", expr), (title, expr)
            assert "_bucket" in expr and "rate(" in expr, (title, expr)
        for name in series_names(expr):
            if name.endswith("_total"):  # counters only ever as a rate or an increase
                assert re.search(rf"(rate|increase)\({name}\b", expr), (title, expr)


def test_every_family_is_on_a_panel(
    dashboard: dict[str, Any], scraped: tuple[set[str], dict[str, str]]
) -> None:
    used = {name for _title, expr in queries(dashboard) for name in series_names(expr)}
    families = set(CONTRACT_FAMILIES) | documented_families()
    assert len(documented_families()) >= len(CONTRACT_FAMILIES)
    missing = sorted(f for f in families if not covers(used, f))
    assert not missing, missing
    _samples, types = scraped
    for family, kind in CONTRACT_FAMILIES.items():
        assert types[family] == kind, family


def test_the_up_stats_turn_red_on_zero(dashboard: dict[str, Any]) -> None:
    for part in ("database", "broker"):
        stats = [
            panel
            for panel in all_panels(dashboard)
            if panel["type"] == "stat"
            and any(f'part="{part}"' in t["expr"] for t in panel["targets"])
            and "milldash_up" in panel["targets"][0]["expr"]
            and panel["targets"][0]["expr"].startswith("min(")
        ]
        assert len(stats) == 1, part
        steps = stats[0]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps[0] == {"color": "red", "value": None}
        assert steps[1]["value"] == 1 and steps[1]["color"] == "green"


def test_series_names_reads_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, route) (rate(milldash_x_bucket{status=~"5..", '
        'instance=~"$instance"}[$__rate_interval]))) or vector(0)'
    )
    assert series_names(expr) == {"milldash_x_bucket"}
    assert series_names("sum(a_total) / ignoring(x) sum(b)") == {"a_total", "b"}


# -- Prometheus, Grafana and compose ----------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(DEPLOY / "compose.yaml")


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Mill Dash services: those built from deploy/Dockerfile."""
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Bind mounts of a service: container path -> path relative to deploy/."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            out[target] = source[2:]
    return out


def test_compose_runs_prometheus_and_grafana(compose: dict[str, Any]) -> None:
    services = compose["services"]
    apps = app_services(compose)
    assert set(apps) == {"app1", "app2"}
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert prometheus["image"].startswith("prom/prometheus:")
    assert grafana["image"].startswith("grafana/grafana:")
    for service in (prometheus, grafana):
        assert service["profiles"] == ["monitoring"]
    config = next(a.split("=", 1)[1] for a in prometheus["command"] if "--config.file=" in a)
    assert mounts(prometheus)[config] == "prometheus.yml"
    assert mounts(grafana)["/etc/grafana/provisioning"] == "grafana/provisioning"
    dashboard_mount = next(t for t, s in mounts(grafana).items() if s == DASHBOARD.name)
    assert dashboard_mount.endswith(".json")
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == dashboard_mount
    for service in (prometheus, grafana):
        for source in mounts(service).values():
            assert (DEPLOY / source).exists(), source
    # The token: a file, handed to Prometheus as a secret, never in git.
    (secret,) = prometheus["secrets"]
    assert compose["secrets"][secret]["file"] == "./metrics.token"
    assert "deploy/metrics.token" in (ROOT / ".gitignore").read_text().split()
    assert set(prometheus["depends_on"]) == set(apps)
    assert set(grafana["depends_on"]) == {"prometheus"}
    assert {"prometheus-data", "grafana-data"} <= set(compose["volumes"])


def seconds(duration: str) -> int:
    """A Prometheus duration such as `15s` or `1m`, in seconds."""
    match = re.fullmatch(r"(\d+)(s|m|h)", duration)
    assert match is not None, duration
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def test_prometheus_scrapes_each_app_service_with_the_token_file(
    compose: dict[str, Any],
) -> None:
    config = load(DEPLOY / "prometheus.yml")
    (job,) = config["scrape_configs"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert job.get("scheme", "http") == "http"
    auth = job["authorization"]
    assert auth.get("type", "Bearer") == "Bearer" and "credentials" not in auth
    (secret,) = compose["services"]["prometheus"]["secrets"]
    assert auth["credentials_file"] == f"/run/secrets/{secret}"
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    apps = app_services(compose)
    assert targets == {
        f"{name}:{app['environment']['MILLDASH_PORT']}" for name, app in apps.items()
    }
    # Each app must answer Prometheus's Host header (`app1:8050`): its name is allowed.
    for app in apps.values():
        allowed = app["environment"]["MILLDASH_ALLOWED_HOSTS"].split(",")
        assert {t.split(":")[0] for t in targets} <= set(allowed), allowed
    timing = config["global"]
    assert seconds(timing["scrape_timeout"]) <= seconds(timing["scrape_interval"])


def test_grafana_provisioning_points_at_prometheus_and_the_dashboard(
    compose: dict[str, Any],
) -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    (source,) = load(provisioning / "datasources" / "prometheus.yaml")["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"] == "http://prometheus:9090"  # the compose service, Prometheus's port
    assert "prometheus" in compose["services"]
    (provider,) = load(provisioning / "dashboards" / "milldash.yaml")["providers"]
    assert provider["type"] == "file"
    dashboard_mount = next(
        t for t, s in mounts(compose["services"]["grafana"]).items() if s == DASHBOARD.name
    )
    assert Path(dashboard_mount).parent == Path(provider["options"]["path"])


def test_every_file_under_deploy_is_documented() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for path in sorted(p for p in DEPLOY.rglob("*") if p.is_file()):
        rel = path.relative_to(DEPLOY).as_posix()
        if rel == "metrics.token":  # made on the host, never in the repository
            continue
        assert f"deploy/{rel}" in doc or f"`{rel}`" in doc, rel
