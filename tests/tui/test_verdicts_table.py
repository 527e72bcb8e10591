"""The verdicts table as a user drives it: each policy's victim after an edit, only the rows that
changed drawn again, the cursor on its policy when the order changes, keys and clicks choosing."""

from __future__ import annotations

from tests.test_inforce import earlyoom, host_with
from tests.tui.helpers import decision, main, press, run, select_process, settle, snapshot_app
from tests.tui.screen_text import screen_lines


def _rows(table) -> dict[str, tuple[str, ...]]:
    keys = [key for key, _, _ in table.columns_shown]
    return {name: tuple(table.get_cell(name, key).plain for key in keys) for name in table.order}


def test_an_edit_shows_each_victim_and_draws_again_only_the_rows_that_changed():
    async def scenario(pilot):
        screen = main(pilot)
        table = screen.verdicts
        victim = decision(pilot, "kernel").victim_pid
        await select_process(pilot, victim)
        await press(pilot, *["minus"] * 10)  # oom_score_adj -1000: the kernel picks another
        moved = decision(pilot, "kernel").victim_pid
        assert moved != victim
        before, drawn = _rows(table), dict(table.draws)

        await press(pilot, "0")  # one edit: the victim comes back
        await pilot.pause()  # the paint
        assert decision(pilot, "kernel").victim_pid == victim
        after = _rows(table)
        for d in screen.evaluation.decisions:
            if d.victim_pid is not None:
                assert table.get_cell(d.policy, "victim").plain.startswith(f"{d.victim_pid} "), d.policy
        changed = {name for name in after if after[name] != before[name]}
        assert "kernel" in changed and changed != set(after), "the edit moves some victims, not all"
        top, rows = table.scroll_offset.y, table.scrollable_content_region.height - 1
        on_screen = set(table.order[top:top + rows])
        assert "kernel" in on_screen
        for name in after:
            again = table.draws[name] - drawn.get(name, 0)
            assert again == (1 if name in changed and name in on_screen else 0), (name, again)
        assert table.draws[""] == drawn[""], "the header is not drawn again"
        kernel_row = next(line for line in screen_lines(pilot.app) if "│ kernel " in f"│{line[1:]}")
        assert f" {victim} " in kernel_row, "the screen shows the victim as the table holds it"

    run(snapshot_app(), scenario)


def test_the_cursor_stays_on_its_policy_when_the_order_changes():
    async def scenario(pilot):
        screen = main(pilot)
        table = screen.verdicts
        assert table.order[:2] == ("earlyoom", "kernel")
        table.focus()
        await press(pilot, "down")
        assert table.chosen == screen.policy == "kernel"
        screen.domain = "/a"  # a limit 56 MiB away: the kernel acts before earlyoom
        screen.reevaluate()
        await settle(pilot)
        assert table.order[:2] == ("kernel", "earlyoom")
        assert table.chosen == screen.policy == "kernel" and table.cursor_row == 0

    run(snapshot_app(host_with(earlyoom(mem_min_percent="10", version="1.7"))), scenario)


def test_keys_and_clicks_choose_a_policy():
    async def scenario(pilot):
        screen = main(pilot)
        table = screen.verdicts
        table.focus()
        await press(pilot, "end")
        assert table.chosen == screen.policy == table.order[-1]
        await press(pilot, "home")
        assert table.chosen == screen.policy == table.order[0]
        await press(pilot, "down", "down", "up")
        assert screen.policy == table.order[1]
        await pilot.click("#verdicts", offset=(4, 4))  # the border, the header, then rows 0, 1 and 2
        await settle(pilot)
        assert table.chosen == screen.policy == table.order[2]
        await press(pilot, "enter")
        assert screen.policy == table.order[2]
        await press(pilot, "pagedown")
        assert screen.policy == table.order[-1], "a page further than the rows there are: the last"

    run(snapshot_app(), scenario)
