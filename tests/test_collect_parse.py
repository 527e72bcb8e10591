"""The pure parsers of kernel text, on the odd inputs real kernels and hostile names produce."""

from oomtui.collect import parse
from oomtui.collect.score import oom_score

STATUS = (b"Name:\tx\nUid:\t1000\t1001\t1002\t1003\nVmRSS:\t 300 kB\nRssAnon:\t 100 kB\nRssFile:\t 150 kB\n"
          b"RssShmem:\t 50 kB\nVmData:\t 9 kB\nVmStk:\t 1 kB\nVmExe:\t 2 kB\nVmLib:\t 3 kB\nVmPTE:\t 44 kB\n"
          b"VmSwap:\t 7 kB\nHugetlbPages:\t 0 kB\nCoreDumping:\t0\n")


def test_status_memory_and_uid():
    assert parse.status_fields(STATUS) == (1000, 100 * 1024, 150 * 1024, 50 * 1024, 7 * 1024, 44 * 1024)


def test_status_memory_in_another_order():
    lines = STATUS.split(b"\n")
    shuffled = b"\n".join([lines[0], lines[5], lines[4], *lines[1:4], *lines[6:]])
    assert parse.status_fields(shuffled) == parse.status_fields(STATUS)


def test_status_of_a_kernel_thread_has_no_memory():
    assert parse.status_fields(b"Name:\tkthreadd\nUid:\t0\t0\t0\t0\nThreads:\t1\n") == (0, *(None,) * 5)


def test_proc_stat_with_a_hostile_comm():
    raw = b"42 (a) b) (c\n) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1 1 1 1"
    st = parse.proc_stat(raw)
    assert st == parse.ProcStat(comm=b"a) b) (c\n", ppid=7, flags=4194560, starttime=12345)
    assert parse.proc_stat(b"42 (x") is None
    assert parse.proc_stat(b"42 (x) S 1") is None


def test_limits_flags_and_keyed_files():
    assert parse.limit(b"max\n") is None
    assert parse.limit(b"9223372036854771712\n") is None
    assert parse.limit(b"1073741824\n") == 1 << 30
    assert parse.flag(b"1\n") is True and parse.flag(b"junk") is None
    assert parse.flat_keyed(b"oom 1\noom_kill 2\nweird\nx y\n") == {"oom": 1, "oom_kill": 2}


def test_pressure_some_only_and_broken():
    p = parse.pressure(b"some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n")
    assert p.some.avg300 == 3.0 and p.full is None
    assert parse.pressure(b"some avg10=x\n").some is None
    assert parse.pressure(b"") is None


def test_cmdline_and_cgroup_lines():
    assert parse.cmdline(b"a\0\0b\0") == ("a", "", "b")
    assert parse.cmdline(b"\xff\0") == ("\\xff",)
    assert parse.cmdline(b"\xc3\0\xa9\0caf\xc3\xa9\0") == ("\\xc3", "\\xa9", "caf\u00e9")  # split pair stays split
    lines = b"12:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/init.scope\n"
    assert parse.proc_cgroup(lines, v1_memory=True) == "/docker/abc"
    assert parse.proc_cgroup(lines, v1_memory=False) == "/init.scope"
    assert parse.proc_cgroup(b"0::/a/../b/\n", v1_memory=False) == "/a/b"
    assert parse.proc_cgroup(b"", v1_memory=False) is None


def test_status_of_an_older_kernel_with_vmpmd():
    old = STATUS.replace(b"VmPTE:\t 44 kB\n", b"VmPTE:\t 44 kB\nVmPMD:\t 12 kB\n")
    assert parse.status_fields(old) == parse.status_fields(STATUS)


def test_status_lines_a_warm_sample_compares():
    status = b"Name:\tweb\nUmask:\t0022\nPPid:\t77\nSigQ:\t3/95000\nThreads:\t1\n"
    assert parse.without_sigq(status) == b"Name:\tweb\nUmask:\t0022\nPPid:\t77\nThreads:\t1\n"
    assert parse.without_sigq(status.replace(b"3/95000", b"9/95000")) == parse.without_sigq(status)
    assert parse.without_sigq(b"Name:\tx\nSigQ:\t0/1") == b"Name:\tx"  # cut short
    assert parse.status_ppid(status) == 77 and parse.status_ppid(b"Name:\tx\n") is None
    assert parse.status_name(status) == b"Name:\tweb"
    assert parse.kernel_version(b"6.18.44-fc-v1300\n") == (6, 18)
    assert parse.kernel_version(b"junk") is None and parse.kernel_version(None) is None


def test_oom_score_formula_worked_examples():
    """kernel-oom.md §1.9 and §1.12: 5.9+'s formula in signed C arithmetic."""
    total = 2029656  # "2097022 pages RAM", 67366 reserved, no swap
    assert oom_score(1995298 + 3919, 1000, total) == (1000 + 4028217 * 1000 // total) * 2 // 3 == 1989
    assert oom_score(289 + 12, 0, total) == 666  # a small task: 1000 * 2 / 3
    # badness 1000 - 500 × 2029 = -1013500; C truncates -499.35 to -499 (Python's // would give -500)
    assert oom_score(1000, -500, total) == (1000 - 499) * 2 // 3 == 334
    assert oom_score(10**6, -1000, total) == 0  # never chosen
    assert oom_score(10**6, 0, total, kernel_thread=True) == 0
