"""The cgroup/process tree, updated in place.

Each refresh relabels only rows whose inputs changed, adds and removes only
the nodes that came and went, and reorders children without rebuilding
them: on a 10,000-process host a clear-and-refill costs a visible pause
every tick. Children of a cgroup are created when it is first opened.
The cursor follows an identity (cgroup path, or pid with start time), not
a line number.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from oomtui.model import ROOT
from oomtui.tui import labels
from oomtui.tui.palette import Palette
from oomtui.tui.tree_model import NodeKey, TreeModel, cgroup_key

Node = TreeNode[NodeKey]


class MemoryTree(Tree[NodeKey]):
    """Cgroups with their processes; `data` of each node is its identity key."""

    class SelectionChanged(Message):
        def __init__(self, key: NodeKey) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("/"), data=cgroup_key(ROOT), id=id)
        self.guide_depth = labels.GUIDE_DEPTH
        self.show_root = True
        self.palette = Palette()
        self.model: TreeModel | None = None
        self.selected: NodeKey = cgroup_key(ROOT)
        self._node_of: dict[NodeKey, Node] = {cgroup_key(ROOT): self.root}
        self._row_of: dict[NodeKey, object] = {}
        self._opened: set[NodeKey] = {cgroup_key(ROOT)}

    # -- public ------------------------------------------------------------------

    def show(self, model: TreeModel) -> None:
        """Bring the nodes in line with `model`, then put the cursor back on the selection."""
        self.model = model
        self._sync(self.root, 0)
        for path in sorted(model.opened_by_filter(), key=lambda p: p.count("/")):
            self._open_path(path)
        if not self.root.is_expanded:
            self.root.expand()
        self._reseat()

    def select_key(self, key: NodeKey) -> bool:
        """Open the cgroups leading to `key` and put the cursor on it; False if it is not shown."""
        if self.model is None:
            return False
        path = self.model.path_to(key)
        if path is None:
            return False
        for cgroup in path:
            if not self._open_path(cgroup):
                return False
        node = self._node_of.get(key)
        if node is None:
            return False
        self.selected = key
        self._reseat()
        return True

    def relabel_all(self) -> None:
        """After a theme change: every label again, with the new colours."""
        self._row_of.clear()
        if self.model is not None:
            self.show(self.model)

    # -- syncing -----------------------------------------------------------------

    def _label(self, key: NodeKey, depth: int) -> tuple[object, Text] | None:
        assert self.model is not None
        if key[0] == "c":
            row = self.model.cgroup_row(key[1], depth)
            if row is None:
                return None
            if self._row_of.get(key) == row:
                return row, None  # type: ignore[return-value]
            return row, labels.cgroup_label(row, self.palette)
        row = self.model.process_row(key[1], depth)
        if row is None or row.process.start_time != key[2]:
            return None
        if self._row_of.get(key) == row:
            return row, None  # type: ignore[return-value]
        return row, labels.process_label(row, self.palette)

    def _relabel(self, node: Node, depth: int) -> None:
        key = node.data
        assert key is not None
        made = self._label(key, depth)
        if made is not None and made[1] is not None:
            node.set_label(made[1])
            self._row_of[key] = made[0]

    def _sync(self, node: Node, depth: int) -> None:
        key = node.data
        assert key is not None and self.model is not None
        self._relabel(node, depth)
        if key[0] != "c":
            return
        node.allow_expand = self.model.expandable(key[1])
        if key not in self._opened:
            return
        wanted = self.model.children(key[1])
        wanted_set = set(wanted)
        for child in list(node.children):
            if child.data not in wanted_set:
                self._forget(child)
                child.remove()
        have = {child.data: child for child in node.children}
        for child_key in wanted:
            if child_key not in have:
                made = self._label(child_key, depth + 1)
                if made is None:
                    continue
                row, text = made
                child = node.add(text, data=child_key, allow_expand=child_key[0] == "c")
                self._node_of[child_key] = child
                self._row_of[child_key] = row
                have[child_key] = child
        order = [have[k] for k in wanted if k in have]
        if [c.data for c in node.children] != [c.data for c in order]:
            # Tree has no reorder call; moving the existing nodes keeps their subtrees
            # and costs one rebuild of the lines instead of one per node.
            node._children[:] = order
            self._invalidate()
        for child in order:
            if child.data is not None and child.data[0] == "c":
                self._sync(child, depth + 1)
            else:
                self._relabel(child, depth + 1)

    def _forget(self, node: Node) -> None:
        for child in node.children:
            self._forget(child)
        self._node_of.pop(node.data, None)  # type: ignore[arg-type]
        self._row_of.pop(node.data, None)  # type: ignore[arg-type]
        self._opened.discard(node.data)  # type: ignore[arg-type]

    def _open_path(self, path: str) -> bool:
        """Create and expand the node of cgroup `path`; its parent must already be shown."""
        node = self._node_of.get(cgroup_key(path))
        if node is None:
            return False
        if cgroup_key(path) not in self._opened:
            self._opened.add(cgroup_key(path))
            self._sync(node, len(self.model.path_to(cgroup_key(path)) or ()))  # type: ignore[union-attr]
        if not node.is_expanded:
            node.expand()
        return True

    def _reseat(self) -> None:
        node = self._node_of.get(self.selected)
        if node is None:
            node = self._nearest_shown(self.selected)
            if node is not None and node.data is not None:
                self.selected = node.data
        if node is None:
            return
        self._tree_lines  # noqa: B018 - build the lines so the node knows its line number
        if self.cursor_node is not node:
            self.move_cursor(node)

    def _nearest_shown(self, key: NodeKey) -> Node | None:
        assert self.model is not None
        for path in reversed(self.model.path_to(key) or [ROOT]):
            node = self._node_of.get(cgroup_key(path))
            if node is not None:
                return node
        return self.root

    # -- events --------------------------------------------------------------------

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeKey]) -> None:
        key = event.node.data
        if key is not None and key not in self._opened and self.model is not None:
            self._opened.add(key)
            depth = len(self.model.path_to(key) or ())
            self._sync(event.node, depth)

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeKey]) -> None:
        key = event.node.data
        if key is None or event.node is not self.cursor_node:
            return  # a highlight that a later sync already moved past
        self.selected = key
        self.post_message(self.SelectionChanged(key))
