"""Kernel reports as people really paste them: cut, numbered, ratelimited, garbled, interleaved, padded."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from oomtui import oomlog, sources
from oomtui.errors import UserError
from oomtui.oomlog import find_reports, parse_report, read_log
from tests.support.limited import run_limited
from tests.test_oomlog_wrappers import FIXTURES, bare_messages

ROOT = Path(__file__).resolve().parent.parent
V61 = (FIXTURES / "v61_global_dmesg.txt").read_text().splitlines()
PAGE = 4096


def from_line(lines: list[str], needle: str) -> list[str]:
    return lines[next(i for i, x in enumerate(lines) if needle in x):]


def test_a_paste_that_starts_at_mem_info_keeps_the_memory_totals():
    result = parse_report("\n".join(from_line(V61, "Mem-Info:")))
    s = result.snapshot
    assert s.oom_event.killed_pid == 473206 and len(s.processes) == 3
    assert s.host.mem_total == (4115400 - 97082) * PAGE and s.host.swap_total == 25165820 * 1024
    assert s.oom_event.total_pages == 4115400 - 97082 + 25165820 // 4
    assert "no 'invoked oom-killer' header (ratelimited or cut): allocation details are missing" in result.warnings


def test_a_paste_that_starts_at_the_memory_totals():
    s = parse_report("\n".join(from_line(V61, "Total swap ="))).snapshot
    assert s.host.mem_total == (4115400 - 97082) * PAGE and s.oom_event.killed_pid == 473206


@pytest.mark.parametrize("needle", ["Tasks state", "[  pid  ]"])
def test_a_paste_that_starts_at_the_task_table(needle):
    s = parse_report("\n".join(from_line(V61, needle))).snapshot
    assert [p.pid for p in s.processes] == [412, 980, 473206] and s.oom_event.killed_pid == 473206
    assert s.host.mem_total is None  # the paste does not show it


def test_a_stray_show_mem_is_not_a_report():
    """sysrq-m prints Mem-Info with no OOM: only the real report counts."""
    show_mem = [x for x in V61 if "Mem-Info" in x or "pages RAM" in x or "Total swap" in x]
    assert len(find_reports("\n".join(show_mem + V61 + show_mem))) == 1


@pytest.mark.parametrize("start", [1, 57])
def test_cat_n_numbers(start):
    numbered = "\n".join(f"{i + start:6d}\t{line}" for i, line in enumerate(V61))
    assert parse_report(numbered).snapshot.oom_event.killed_pid == 473206
    cut = "\n".join(f"{i + start:6d}\t{line}" for i, line in enumerate(from_line(V61, "Mem-Info:")))
    s = parse_report(cut).snapshot
    assert s.oom_event.killed_pid == 473206 and s.host.mem_total == (4115400 - 97082) * PAGE


def test_victim_named_only_by_the_reaper_when_ratelimiting_ate_the_kill_lines():
    lines = [x for x in V61 if "oom-kill:" not in x and "Killed process" not in x]
    lines.insert(1, "[ 9003.111110] oom_kill_process: 7 callbacks suppressed")
    result = parse_report("\n".join(lines))
    assert result.snapshot.oom_event.killed_pid == 473206
    assert result.snapshot.oom_event.killed_comm == "doxygen"
    assert "no kill line: the victim (473206) is named only by the oom_reaper line" in result.warnings


def test_victim_named_only_by_kill_process_or_sacrifice_child():
    lines = (FIXTURES / "v310_global_rhel7.txt").read_text().splitlines()
    lines = [x for x in lines if "Killed process" not in x]
    result = parse_report("\n".join(lines))
    assert result.snapshot.oom_event.killed_pid == 2188 and result.snapshot.oom_event.killed_comm == "mysqld"
    assert ("no Killed process line: the victim is the process selected (2188); the kernel may have killed one of "
            "its children instead") in result.warnings


def test_a_carriage_return_in_a_name_keeps_every_row():
    lines = [x.replace(" firefox", " fire\rfox") for x in V61]
    s = parse_report("\n".join(lines)).snapshot
    assert [(p.pid, p.comm) for p in s.processes] == [(412, "systemd-udevd"), (980, "fire\rfox"), (473206, "doxygen")]


def test_crlf_line_ends_still_read():
    assert parse_report("\r\n".join(V61)).snapshot.oom_event.killed_pid == 473206


def test_a_negative_pid_loses_only_its_own_row():
    lines = [x.replace("[    412]     0   412", "[    -12]     0   -12") for x in V61]
    result = parse_report("\n".join(lines))
    assert [p.pid for p in result.snapshot.processes] == [980, 473206]
    assert "1 task table row(s) could not be read and are missing (task -12: pid below 1)" in result.warnings


def test_a_tgid_below_1_loses_its_row_too():
    result = parse_report("\n".join(x.replace("[    412]     0   412", "[    412]     0     0") for x in V61))
    assert [p.pid for p in result.snapshot.processes] == [980, 473206]
    assert "1 task table row(s) could not be read and are missing (task 412: pid below 1)" in result.warnings


def test_a_task_with_an_empty_name_keeps_its_row():
    """prctl(PR_SET_NAME, "") leaves comm empty: the row ends after its last number."""
    result = parse_report("\n".join(x.replace(" -1000 systemd-udevd", " -1000 ") for x in V61))
    assert [(p.pid, p.comm) for p in result.snapshot.processes] == [(412, ""), (980, "firefox"), (473206, "doxygen")]
    assert result.warnings == []


@pytest.mark.parametrize(("old", "new", "why"), [
    ("    52000   700000", "   -52000   700000", "task 980: rss -52000 is not a size"),
    ("    52000   700000", " 999999999999999999   700000", "task 980: rss 999999999999999999 is not a size"),
])
def test_negative_and_absurd_sizes_are_not_memory(old, new, why):
    result = parse_report("\n".join(x.replace(old, new) for x in V61))
    s = result.snapshot
    assert [p.pid for p in s.processes] == [412, 473206]
    assert all(0 <= p.footprint < 1 << 50 for p in s.processes)
    assert any(why in w for w in result.warnings)


def test_an_absurd_kill_line_gives_unknown_sizes_not_negative_ones():
    lines = [x for x in V61 if "[ 473206]" not in x]
    lines = [x.replace("anon-rss:9234320kB", "anon-rss:99999999999999999999kB") for x in lines]
    result = parse_report("\n".join(lines))
    victim = result.snapshot.process(473206)
    assert victim is not None and victim.rss_anon is None
    assert any("impossible values" in w for w in result.warnings)


def test_zero_pages_ram_is_unknown_memory_not_negative():
    lines = [x.replace("4115400 pages RAM", "0 pages RAM") for x in V61]
    result = parse_report("\n".join(lines))
    assert result.snapshot.host.mem_total is None and result.snapshot.oom_event.total_pages is None
    assert "the report shows 0 pages RAM and 97082 reserved: the memory total is unknown" in result.warnings


def test_zero_pages_ram_without_a_reserved_line_names_none_reserved():
    lines = [x.replace("4115400 pages RAM", "0 pages RAM") for x in V61 if "pages reserved" not in x]
    result = parse_report("\n".join(lines))
    assert result.snapshot.host.mem_total is None
    assert "the report shows 0 pages RAM and 0 reserved: the memory total is unknown" in result.warnings


def test_one_page_of_ram_without_a_reserved_line_is_kept():
    """The sanity check refuses only RAM not above what is reserved: none reserved, one page is a total."""
    lines = [x.replace("4115400 pages RAM", "1 pages RAM") for x in V61 if "pages reserved" not in x]
    result = parse_report("\n".join(lines))
    assert result.snapshot.host.mem_total == PAGE
    assert result.snapshot.oom_event.total_pages == 1 + 25165820 // 4
    assert not any("pages RAM" in w for w in result.warnings)


def test_nr_pmds_column_of_4_8_to_4_14():
    report = [
        "[  100.000001] sed invoked oom-killer: gfp_mask=0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD), nodemask=0, "
        "order=0, oom_score_adj=0",
        "[  100.000002] CPU: 0 PID: 29481 Comm: sed Not tainted 4.9.0-8-amd64 #1 Debian 4.9.130-2",
        "[  100.000003] Mem-Info:",
        "[  100.000004] Node 0 DMA: 1*4kB (U) 0*8kB = 4kB",
        "[  100.000005] Total swap = 0kB",
        "[  100.000006] 262014 pages RAM",
        "[  100.000007] 4014 pages reserved",
        "[  100.000008] [ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name",
        "[  100.000009] [  501]     0   501    10000      200      20       3        0         -1000 sshd",
        "[  100.000010] [ 2188]    27  2188   832504   218062     459       7        0             0 mysqld",
        "[  100.000011] Out of memory: Kill process 2188 (mysqld) score 832 or sacrifice child",
        "[  100.000012] Killed process 2188 (mysqld) total-vm:3330016kB, anon-rss:864176kB, file-rss:8072kB, "
        "shmem-rss:0kB",
    ]
    result = parse_report("\n".join(report))
    mysqld = result.snapshot.process(2188)
    assert mysqld is not None and mysqld.pgtables == (459 + 7) * PAGE
    assert result.snapshot.process(501).pgtables == (20 + 3) * PAGE
    assert result.era.minimum == (4, 8) and result.era.maximum == (4, 14)


def _caller_lines(caller: str, victim: int, rows: list[tuple[int, int]], stamp: float) -> list[str]:
    out = [f"{caller} {'app' if victim % 2 else 'db'} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
           "oom_score_adj=0",
           f"{caller} Tasks state (memory values in pages):",
           f"{caller} [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"]
    out += [f"{caller} [{pid:7d}]     0 {pid:5d}   100000 {rss:8d}    65536        0             0 p{pid}"
            for pid, rss in rows]
    out.append(f"{caller} oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
               f"oom_memcg=/c{victim},task_memcg=/c{victim},task=p{victim},pid={victim},uid=0")
    out.append(f"{caller} Memory cgroup out of memory: Killed process {victim} (p{victim}) total-vm:400000kB, "
               f"anon-rss:4000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:64kB oom_score_adj:0")
    return [f"[{stamp + i / 1e6:12.6f}]{line}" for i, line in enumerate(out)]


def _interleave(a: list[str], b: list[str]) -> list[str]:
    out: list[str] = []
    for i in range(max(len(a), len(b))):
        out += a[i:i + 1] + b[i:i + 1]
    return out


def test_two_reports_printed_at_once_are_told_apart_by_the_printk_caller():
    a = _caller_lines("[   T101]", 101, [(101, 5000), (102, 10)], 50.0)
    b = _caller_lines("[   T202]", 202, [(201, 7), (202, 9000), (203, 8)], 50.0)
    infos = find_reports("\n".join(_interleave(a, b)))
    assert [(i.domain, i.victim_pid) for i in infos] == [("/c101", 101), ("/c202", 202)]
    first, second = (parse_report("\n".join(_interleave(a, b)), i).snapshot for i in (0, 1))
    assert [p.pid for p in first.processes] == [101, 102]
    assert [p.pid for p in second.processes] == [201, 202, 203]


def test_two_hosts_merged_in_one_log_are_told_apart():
    a = [f"Nov 25 22:41:12 alpha kernel: {x.split('] ', 1)[1]}" for x in _caller_lines("", 101, [(101, 5)], 1.0)]
    b = [f"Nov 25 22:41:12 beta kernel: {x.split('] ', 1)[1]}" for x in _caller_lines("", 202, [(202, 6)], 1.0)]
    text = "\n".join(_interleave(a, b))
    assert [(i.victim_pid, parse_report(text, i.index).snapshot.host.hostname) for i in find_reports(text)] == [
        (101, "alpha"), (202, "beta")]


def test_nul_padding_after_a_crash_does_not_reject_the_log(tmp_path):
    """A crash leaves zero-filled blocks in syslog files, even in their first 4 KiB."""
    log = tmp_path / "syslog"
    syslog = [f"Nov 25 22:41:12 h kernel: {m}" for m in bare_messages()]
    log.write_bytes(b"\x00" * 8192 + "\n".join(syslog[:20]).encode() + b"\x00" * 5000 + b"\n"
                    + "\n".join(syslog[20:]).encode() + b"\n")
    for opened in (parse_report(read_log(log)).snapshot, sources.open_path(log).snapshot):
        assert opened.oom_event.killed_pid == 473206 and len(opened.processes) == 3


def test_binary_data_is_still_refused(tmp_path):
    blob = tmp_path / "core"
    blob.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(UserError, match="binary data"):
        read_log(blob)


def test_a_log_with_too_many_lines_names_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(oomlog, "MAX_LOG_LINES", 100)
    log = tmp_path / "kern.log"
    log.write_text("\n".join(["x"] * 150 + V61))
    with pytest.raises(UserError, match=r"more than 100 lines; cut out the part with the OOM report"):
        read_log(log)


def test_an_overlong_line_is_cut_not_held(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("\n".join(["y" * (1 << 20), *V61]))
    lines = read_log(log)
    assert len(lines[0]) == oomlog.MAX_LINE and parse_report(lines).snapshot.oom_event.killed_pid == 473206


def _log_bombs(tmp_path: Path) -> list[Path]:
    """Logs built to cost the most: the most lines of the smallest kind, one report of nothing but rows."""
    lines = oomlog.MAX_LOG_LINES - 100
    short = tmp_path / "short.log.gz"
    with gzip.open(short, "wb", compresslevel=1) as f:
        f.write("\n".join(V61).encode() + b"\n" + b"x\n" * lines)
    rows = tmp_path / "rows.log"
    header = "\n".join(V61[:28]).encode() + b"\n"
    row = "[ 9003.111160] [{:7d}]     0 {:5d}    12345      900    94208        0         -1000 \U0001f600name{}\n"
    with open(rows, "wb") as f:
        f.write(header)
        f.write("".join(row.format(i, i, "x" * 60) for i in range(1, lines - 40)).encode())
    return [short, rows]


@pytest.mark.kernel
def test_log_bombs_stay_small_under_a_400_mb_limit(memcg, tmp_path):
    """The largest logs the limits let in, imported inside a 400 MB memory cgroup: done, peak under 300 MB."""
    for log in _log_bombs(tmp_path):
        child, peak = run_limited(memcg, 400 << 20, ["import-oom", str(log), "--list"])
        assert child.returncode == 0, (log.name, child.returncode, child.stderr[-500:])
        assert peak < 300 << 20, (log.name, peak >> 20)


def test_an_import_lists_every_ancestor_parent_first_and_loads(tmp_path):
    from oomtui import snapshot

    s = parse_report("\n".join(V61)).snapshot  # names /user.slice/user-504.slice/session-3.scope
    paths = [c.path for c in s.cgroups]
    assert paths[:4] == ["/", "/user.slice", "/user.slice/user-504.slice", "/user.slice/user-504.slice/session-3.scope"]
    assert s.cgroup("/user.slice").memory_current is None and s.cgroup("/user.slice").stat == {}
    out = tmp_path / "imported.json"
    snapshot.save(s, out)
    assert [c.path for c in snapshot.load(out).cgroups] == paths


def test_absurd_memory_totals_are_unknown():
    lines = [x.replace("4115400 pages RAM", "99999999999999999 pages RAM")
             .replace("Total swap = 25165820kB", "Total swap = 99999999999999999999kB") for x in V61]
    result = parse_report("\n".join(lines))
    h = result.snapshot.host
    assert h.mem_total is None and h.swap_total is None and result.snapshot.oom_event.total_pages is None


def test_a_message_another_cpu_printed_into_the_task_table_loses_no_rows():
    lines = [*V61]
    at = next(i for i, x in enumerate(lines) if "firefox" in x)
    lines.insert(at, "[ 9003.111161] e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex")
    assert [p.pid for p in parse_report("\n".join(lines)).snapshot.processes] == [412, 980, 473206]


def test_a_uid_from_2_31_up_printed_negative_is_the_unsigned_uid():
    result = parse_report("\n".join(x.replace("[    980]  1000   980", "[    980] -294967296   980") for x in V61))
    assert result.snapshot.process(980).uid == 4_000_000_000
    assert result.warnings == []


@pytest.mark.parametrize(("pages", "kept"), [(1 << 40, True), ((1 << 40) + 1, False)])
def test_a_size_of_4_pib_is_the_most_a_row_may_show(pages, kept):
    result = parse_report("\n".join(x.replace("    52000   700000", f" {pages}   700000") for x in V61))
    assert (980 in {p.pid for p in result.snapshot.processes}) is kept


@pytest.mark.parametrize(("pages", "kept"), [(1 << 40, True), ((1 << 40) + 1, False)])
def test_4_pib_of_ram_is_the_most_a_report_may_show(pages, kept):
    result = parse_report("\n".join(x.replace("4115400 pages RAM", f"{pages} pages RAM") for x in V61))
    assert result.snapshot.host.mem_total == ((pages - 97082) * PAGE if kept else None)


def test_rows_past_the_limit_are_counted_not_read(monkeypatch):
    from oomtui.oomlog import parse

    monkeypatch.setattr(parse, "MAX_ROWS", 2)
    result = parse_report("\n".join(V61))
    assert [p.pid for p in result.snapshot.processes] == [412, 980, 473206]  # the victim from its kill line
    assert "the task table has more than 2 rows; only the first 2 are read" in result.warnings
    assert result.snapshot.oom_event.killed_pid == 473206


@pytest.mark.parametrize(("kb", "swap"), [(1 << 42, 1 << 52), ((1 << 42) + 1, None)])
def test_4_pib_of_swap_is_the_most_a_report_may_show(kb, swap):
    s = parse_report("\n".join(x.replace("Total swap = 25165820kB", f"Total swap = {kb}kB") for x in V61)).snapshot
    assert s.host.swap_total == swap


@pytest.mark.parametrize(("adj", "kept"), [(-1000, True), (1000, True), (-1001, False), (1001, False)])
def test_an_oom_score_adj_out_of_range_loses_its_row(adj, kept):
    result = parse_report("\n".join(x.replace("10000             0 firefox", f"10000         {adj} firefox")
                                    for x in V61))
    assert (980 in {p.pid for p in result.snapshot.processes}) is kept
    assert (f"task 980: oom_score_adj {adj} is out of range; row skipped" in result.warnings) is not kept
    if kept:
        assert result.snapshot.process(980).oom_score_adj == adj


@pytest.mark.parametrize(("count", "more"), [(3, ""), (4, "; …")])
def test_bad_rows_are_counted_and_the_first_three_named(count, more):
    bad = [f"[ 9003.11116{i}] [    {i}00]     0   {i}00    12345      9x0    94208        0             0 bad{i}"
           for i in range(1, count + 1)]
    at = next(i for i, x in enumerate(V61) if "[    412]" in x)
    result = parse_report("\n".join([*V61[:at], *bad, *V61[at:]]))
    assert (f"{count} task table row(s) could not be read and are missing (task 100: a column is not a number; "
            f"task 200: a column is not a number; task 300: a column is not a number{more})") in result.warnings


def test_a_report_cut_at_the_line_limit_says_so(monkeypatch):
    from oomtui.oomlog import report

    monkeypatch.setattr(report, "MAX_REPORT_LINES", 30)
    result = parse_report("\n".join(V61))
    assert "the report has more than 30 lines; the rest is left out" in result.warnings


def test_the_global_budget_needs_both_ram_and_swap_totals():
    no_swap = parse_report("\n".join(x for x in V61 if "Total swap" not in x)).snapshot
    assert (no_swap.host.mem_total, no_swap.host.swap_total) == ((4115400 - 97082) * PAGE, None)
    assert no_swap.oom_event.total_pages is None
    no_reserved = parse_report("\n".join(x for x in V61 if "pages reserved" not in x)).snapshot
    assert no_reserved.host.mem_total == 4115400 * PAGE
    assert no_reserved.oom_event.total_pages == 4115400 + 25165820 // 4


def test_as_many_pages_reserved_as_ram_is_unknown_memory():
    result = parse_report("\n".join(x.replace("97082 pages reserved", "4115400 pages reserved") for x in V61))
    assert result.snapshot.host.mem_total is None
    assert "the report shows 4115400 pages RAM and 4115400 reserved: the memory total is unknown" in result.warnings
