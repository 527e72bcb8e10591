"""`oomtui metrics` read by the real engines: Prometheus scraping it, node_exporter serving its textfile.

Everything binds 127.0.0.1 on ports the kernel hands out; every server is
ours and stopped by its pid. Prometheus' first scrape lands ~5 s after it
starts (its discovery manager batches target updates), so the budget is 15 s.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import urllib.parse

import pytest
from prometheus_client.parser import text_string_to_metric_families

from oomtui import snapshot as snapshot_file
from oomtui.evaluate import evaluate
from tests.support.servers import free_port, http_get, running, wait_until

OOMTUI = [sys.executable, "-m", "oomtui.cli"]
SAMPLE = "snapshots/systemd-server-v2.json.gz"


def needs(binary):
    return pytest.mark.skipif(shutil.which(binary) is None, reason=f"{binary} is not installed (scripts/test.sh "
                              "installs it as root with apt)")


def _exporter_ready(port):
    status, _, body = http_get(f"http://127.0.0.1:{port}/metrics")
    return status == 200 and b"oomtui_victim_info" in body


@needs("prometheus")
def test_prometheus_scrapes_the_live_host_and_answers_with_the_kernels_victim(tmp_path):
    port, prom_port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: oomtui\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    with running([*OOMTUI, "metrics", "--listen", f"127.0.0.1:{port}", "--interval", "30"],
                 tmp_path / "exporter.log"):
        wait_until(lambda: _exporter_ready(port), 15, "the exporter's first collection", tmp_path / "exporter.log")
        with running(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                      f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"], tmp_path / "prom.log"):
            api = f"http://127.0.0.1:{prom_port}/api/v1"

            def query(q):
                status, _, body = http_get(f"{api}/query?" + urllib.parse.urlencode({"query": q}))
                result = json.loads(body)["data"]["result"] if status == 200 else []
                return result or None

            assert wait_until(lambda: query('up{job="oomtui"} == 1'), 15, "the first scrape", tmp_path / "prom.log")
            victims = query('oomtui_victim_info{policy="kernel", domain="/"}')
            assert victims and victims[0]["metric"]["victim_kind"] in ("process", "cgroup", "none")
            assert query("oomtui_up == 1")
            # The dashboard's fleet table: the victim's labels joined with the bytes it would free.
            table = query('oomtui_victim_info{policy="kernel"} * on (job, instance, domain, policy) group_left '
                          "oomtui_victim_freed_bytes")
            # Prometheus drops empty labels: a domain whose policy kills nothing (an empty cgroup with a limit,
            # as a stopped container leaves) has no victim_cgroup; every other row names one.
            assert table and all("victim_cgroup" in row["metric"] or row["metric"]["victim_kind"] == "none"
                                 for row in table), table
            assert any(row["metric"]["domain"] == "/" and "victim_cgroup" in row["metric"] for row in table), table
            _, _, body = http_get(f"{api}/targets/metadata?" + urllib.parse.urlencode(
                {"match_target": '{job="oomtui"}', "metric": "oomtui_victim"}))
            assert [m["type"] for m in json.loads(body)["data"]] == ["info"]  # it was given OpenMetrics


def test_http_serves_text_or_openmetrics_by_the_accept_header(tmp_path):
    port = free_port()
    with running([*OOMTUI, "metrics", "--listen", f":{port}", "--snapshot", SAMPLE], tmp_path / "exporter.log"):
        wait_until(lambda: _exporter_ready(port), 15, "the exporter", tmp_path / "exporter.log")
        status, kind, text = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and kind.startswith("text/plain; version=0.0.4")
        assert b"# TYPE oomtui_victim_info gauge" in text
        status, kind, body = http_get(f"http://127.0.0.1:{port}/metrics", accept="application/openmetrics-text")
        assert kind.startswith("application/openmetrics-text")
        assert b"# TYPE oomtui_victim info" in body and body.endswith(b"# EOF\n")
    kernel = next(d for d in evaluate(snapshot_file.load(SAMPLE)) if d.policy == "kernel")
    assert f'oomtui_victim_pid{{domain="/",policy="kernel"}} {kernel.victim_pid}.0'.encode() in text


@needs("prometheus-node-exporter")
def test_node_exporter_serves_the_textfile(tmp_path):
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    done = subprocess.run([*OOMTUI, "metrics", "--snapshot", SAMPLE, "--once", "--textfile",
                           str(textfiles / "oomtui.prom")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    port = free_port()
    with running(["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
                  "--collector.textfile", f"--collector.textfile.directory={textfiles}"], tmp_path / "node.log"):
        body = wait_until(lambda: http_get(f"http://127.0.0.1:{port}/metrics")[2], 15, "node_exporter",
                          tmp_path / "node.log")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert families["node_textfile_scrape_error"].samples[0].value == 0
    kernel = [s for s in families["oomtui_victim_info"].samples if s.labels["policy"] == "kernel"]
    assert {s.labels["domain"] for s in kernel} >= {"/", "/system.slice/postgresql.service"}


def test_the_live_loop_rewrites_the_textfile_and_sigterm_ends_it(tmp_path):
    target = tmp_path / "oomtui.prom"
    port = free_port()

    def stamp():
        if not target.exists():
            return None
        families = {f.name: f for f in text_string_to_metric_families(target.read_text())}
        return families["oomtui_collect_timestamp_seconds"].samples[0].value

    with running([*OOMTUI, "metrics", "--textfile", str(target), "--listen", f"127.0.0.1:{port}", "--interval", "1"],
                 tmp_path / "exporter.log") as proc:
        first = wait_until(stamp, 15, "the first textfile", tmp_path / "exporter.log")
        wait_until(lambda: (stamp() or 0) > first, 15, "a rewrite", tmp_path / "exporter.log")
        assert b"oomtui_victim_info" in http_get(f"http://127.0.0.1:{port}/metrics")[2]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert "serving http://127.0.0.1:" in (tmp_path / "exporter.log").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
