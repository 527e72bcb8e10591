"""On the bundled Kubernetes node (`oomtui --demo`) the screen names pods, containers and units, not cgroup hashes.

Each test reads what the terminal shows (or the pane a person reads), for
the tree and its raw-name key, the filter, the details pane, the verdicts
and the Why pane, the kill dialog, and a snapshot saved and opened again.
"""

from __future__ import annotations

import pytest

from oomtui.samples import demo_path
from oomtui.snapshot import Snapshot, load
from oomtui.sources import open_path
from oomtui.tui.screens.confirm import KillDialog
from oomtui.tui.screens.path_prompt import PathPrompt
from tests.tui.fixtures import RecordingActor
from tests.tui.helpers import (
    cursor_row,
    decision,
    live_app,
    main,
    notifications,
    press,
    run,
    select_cgroup,
    select_process,
    snapshot_app,
    tree_lines,
)
from tests.tui.screen_text import screen_text

PODS = "/kubepods.slice/kubepods-burstable.slice"
INDEXER = f"{PODS}/kubepods-burstable-pod490de49a_34cb_4dfc_a2fe_f157bcaa8edd.slice"
JAVA = 12657  # the indexer's java: the kernel's pick on this node


@pytest.fixture(scope="module")
def node() -> Snapshot:
    return open_path(demo_path()).snapshot


def test_the_tree_names_pods_with_a_qos_badge_and_n_shows_the_raw_cgroup_names(node):
    async def scenario(pilot):
        await select_cgroup(pilot, INDEXER)
        assert "search/indexer-0 [Bu]" in cursor_row(pilot)
        shown = screen_text(pilot.app)
        assert "search/indexer-0 [Bu]" in shown
        assert "shop/orders-db-0 [G]" in shown
        assert "monitor…orter-tq8vw [Bu]" in shown, "a long name loses its middle, not its distinguishing end"
        assert "kubepods-burstable-pod490de49a" not in shown

        await press(pilot, "n")
        row = cursor_row(pilot)
        assert "kubepod…57bcaa8edd.slice" in row, "the raw name, cut in the middle"
        assert not any("search/indexer-0" in line for line in tree_lines(pilot))

        await press(pilot, "n")
        assert "search/indexer-0 [Bu]" in cursor_row(pilot)

    run(snapshot_app(node), scenario)


@pytest.mark.parametrize(("needle", "kept", "dropped"), [
    ("monitoring", "608 node_exporter", "shop/orders-db-0"),  # namespace
    ("indexer-0", "search/indexer-0 [Bu]", "shop/orders-db-0"),  # pod
    ("envoy", "└─ ▼ envoy ", "search/indexer-0"),  # container
    ("kubelet.service", "kubelet.service", "search/indexer-0"),  # unit
    ("pod490de49a", "search/indexer-0 [Bu]", "shop/orders-db-0"),  # the raw path
])
def test_the_filter_matches_workload_names_and_the_raw_path(node, needle, kept, dropped):
    async def scenario(pilot):
        await press(pilot, "slash", *needle)
        shown = screen_text(pilot.app)
        assert kept in shown
        assert f"filter {needle}" in shown
        assert not any(dropped in line for line in tree_lines(pilot))

    run(snapshot_app(node), scenario)


def test_the_details_pane_lists_every_workload_field_and_where_it_came_from(node):
    container = next(c.path for c in node.cgroups
                     if c.workload is not None and c.workload.container == "search-indexer")

    async def scenario(pilot):
        await select_cgroup(pilot, container)
        details = main(pilot).query_one("#details").text.plain
        for field in ("kind", "name", "namespace", "pod", "pod_uid", "qos", "container", "container_id",
                      "runtime", "image"):
            assert f"  {field}: " in details, field
        by_path = details.split("  from the cgroup path:\n", 1)[1]
        assert by_path.startswith("    kind: k8s-container\n    pod_uid: 490de49a-34cb-4dfc-a2fe-f157bcaa8edd\n"
                                  "    qos: Burstable\n    container_id: "), by_path
        assert "  from the kubelet's log directories (/var/log/pods, /var/log/containers):\n    name: " in details
        assert "    namespace: search\n" in details
        shown = screen_text(pilot.app)
        assert "Details — container s" in shown and "-0/search-indexer [Bu] ─" in shown, "the title keeps its end"

        await select_process(pilot, JAVA)
        details = main(pilot).query_one("#details").text.plain
        assert "workload: pod search/indexer-0 (Burstable), container search-indexer" in details

        await select_cgroup(pilot, "/")
        assert "\nworkload\n" not in main(pilot).query_one("#details").text.plain, "no workload, no section"

    run(snapshot_app(node), scenario)


def test_the_verdicts_and_the_why_pane_name_the_victims_workload(node):
    async def scenario(pilot):
        screen = main(pilot)
        assert decision(pilot, "kernel").victim_pid == JAVA
        cell = screen.verdicts.get_cell("kernel", "victim").plain
        assert cell.startswith(f"{JAVA} java search/") and cell.endswith("indexer [Bu]"), cell
        pod_cell = screen.verdicts.get_cell("kubelet-eviction", "victim").plain
        assert pod_cell == "pod search/indexer-0 [Bu]"
        shown = screen_text(pilot.app)
        assert cell in shown and pod_cell in shown

        screen.choose_policy("kernel")
        await press(pilot)
        why = screen.query_one("#ranking").text.plain
        assert "workload: pod search/indexer-0 (Burstable), container search-indexer (containerd)" in why
        assert f"{JAVA} java · search/indexer-0/search-indexer" in why, "candidates carry their workload"
        assert "workload: pod search/indexer-0" in screen_text(pilot.app)

    run(snapshot_app(node), scenario)


def test_the_kill_dialog_says_which_pod_and_containers_die(node):
    actor = RecordingActor()

    async def scenario(pilot):
        await select_cgroup(pilot, INDEXER)
        await press(pilot, "k")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog)
        question = dialog.question.plain
        assert "in pod search/indexer-0 (Burstable)\n" in question
        assert "in pod search/indexer-0 (Burstable), container search-indexer (containerd" in question
        assert "in pod search/indexer-0 (Burstable)" in screen_text(pilot.app)
        await press(pilot, "n")

    run(live_app([node], actor=actor), scenario)
    assert actor.plans == []


def test_names_survive_a_snapshot_saved_and_opened_again(node, tmp_path):
    target = tmp_path / "node.json.gz"

    async def scenario(pilot):
        screen = main(pilot)
        await press(pilot, "ctrl+s")
        prompt = pilot.app.screen
        assert isinstance(prompt, PathPrompt)
        prompt.query_one("#path").value = str(target)
        await press(pilot, "enter")
        assert load(target).cgroup(INDEXER).workload == node.cgroup(INDEXER).workload
        await press(pilot, "o")
        pilot.app.screen.query_one("#path").value = str(target)
        await press(pilot, "enter")
        assert screen.feed.describe() == "snapshot node.json.gz", notifications(pilot)
        await select_cgroup(pilot, INDEXER)
        assert "search/indexer-0 [Bu]" in cursor_row(pilot)

    run(snapshot_app(node), scenario)
