"""Page tables in a kernel report's task table, in each column layout the kernels used.

4.8 to 4.14 print the PMD pages in a column of their own (nr_pmds) beside the
PTE pages (nr_ptes); both are page tables the victim frees, so both count.
"""

from __future__ import annotations

from oomtui.oomlog import parse_report

PAGE = 4096

REPORT_4_9 = """\
[ 812.000001] sed invoked oom-killer: gfp_mask=0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD), order=0, oom_score_adj=0
[ 812.000002] CPU: 1 PID: 29481 Comm: sed Not tainted 4.9.0-8-amd64 #1 Debian 4.9.110-1
[ 812.000003] Mem-Info:
[ 812.000004] Free swap  = 0kB
[ 812.000005] Total swap = 0kB
[ 812.000006] 262014 pages RAM
[ 812.000007] 0 pages HighMem/MovableOnly
[ 812.000008] 4014 pages reserved
[ 812.000009] [ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name
[ 812.000010] [  501]     0   501    10000      200      20       3        0         -1000 sshd
[ 812.000011] [ 2188]    27  2188   832504   218062     459       5        0             0 mysqld
[ 812.000012] [29481] 12345 29481    29214       58      14       3        0             0 sed
[ 812.000013] Out of memory: Kill process 2188 (mysqld) score 832 or sacrifice child
[ 812.000014] Killed process 2188 (mysqld) total-vm:3330016kB, anon-rss:864176kB, file-rss:8072kB, shmem-rss:0kB
"""


def test_nr_pmds_counts_as_page_tables_beside_nr_ptes():
    s = parse_report(REPORT_4_9).snapshot
    assert s.oom_event.killed_pid == 2188
    assert s.process(2188).pgtables == (459 + 5) * PAGE
    assert s.process(29481).pgtables == (14 + 3) * PAGE
    assert s.process(2188).rss_total == 218062 * PAGE
