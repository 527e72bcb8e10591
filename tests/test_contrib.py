"""What ships in contrib/: the alert rules pass their unit tests, the dashboard's queries parse and
name only metrics oomtui exports, and the systemd unit runs a command oomtui accepts."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from oomtui import snapshot as snapshot_file
from oomtui.cli import build_parser
from oomtui.metrics.exporter import Exporter
from oomtui.metrics.output import registry_of, render

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"
RULES = CONTRIB / "prometheus" / "oomtui.rules.yml"
RULE_TESTS = CONTRIB / "prometheus" / "oomtui.test.yml"
DASHBOARD = CONTRIB / "grafana" / "oomtui-dashboard.json"
UNIT = CONTRIB / "systemd" / "oomtui-metrics.service"

promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                              reason="promtool (Debian's prometheus) is not installed; scripts/test.sh installs it")


def _promtool(*args, cwd=None):
    return subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def exported_names():
    snap = snapshot_file.load("snapshots/k8s-node-v2.json.gz")
    text = render(registry_of(Exporter(lambda: snap, interval=30))).decode()
    return set(re.findall(r"^# TYPE (\S+)", text, re.M)) | set(re.findall(r"^(oomtui_\w+)", text, re.M))


@promtool
def test_the_alert_rules_pass_their_unit_tests():
    checked = _promtool("check", "rules", str(RULES))
    assert checked.returncode == 0 and "SUCCESS: 5 rules found" in checked.stdout, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


@promtool
def test_a_wrong_expectation_fails_the_rule_tests(tmp_path):
    """The unit tests can fail: expecting mysqld where postgres is the victim must."""
    shutil.copy(RULES, tmp_path / RULES.name)
    wrong = RULE_TESTS.read_text().replace("victim_comm: postgres", "victim_comm: mysqld", 1)
    (tmp_path / "wrong.test.yml").write_text(wrong)
    tested = _promtool("test", "rules", "wrong.test.yml", cwd=tmp_path)
    assert tested.returncode != 0 and "mysqld" in tested.stdout + tested.stderr


def test_the_rules_name_only_exported_metrics():
    names = exported_names()
    used = set(re.findall(r"\b(oomtui_\w+)", RULES.read_text()))
    assert used and used <= names, used - names


def _dashboard_queries():
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_the_dashboard_queries_name_only_exported_metrics():
    names = exported_names()
    used = {n for q in _dashboard_queries() for n in re.findall(r"\b(oomtui_\w+)", q)}
    assert used and used <= names, used - names


@promtool
def test_the_dashboard_queries_parse(tmp_path):
    """promtool parses each query as a recording rule, with Grafana's variables filled in."""
    fill = {"$job": ".*", "$instance": ".*", "$__rate_interval": "1m"}
    rules = []
    for i, query in enumerate(_dashboard_queries()):
        for var, value in fill.items():
            query = query.replace(var, value)
        rules.append({"record": f"dashboard:query{i}", "expr": query})
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = _promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_systemd_unit_runs_a_command_oomtui_accepts():
    exec_start = next(line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start)
    assert argv[0].endswith("/oomtui")
    args = build_parser().parse_args(argv[1:])
    assert args.command == "metrics" and args.textfile.endswith(".prom") and not args.once
