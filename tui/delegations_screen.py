"""Delegations: the graph as a tree (targets → roles → bins, collapsed when large) with
keys, threshold, paths; add or remove a role after a review you confirm."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Input, Static, Tree
from textual.widgets.tree import TreeNode

from trustkeep.core.ceremony import key_label
from trustkeep.core.tuf_repo.delegation import DelegationInfo

from ._common import FlowScreen, failure_text
from .messages import ActionFailed

__all__ = ["DelegationsScreen"]

_COLLAPSE_OVER = 16


def _describe(d: DelegationInfo) -> str:
    if d.succinct:
        return f"{d.role}: {d.bins} hash bins, {d.threshold} of {len(d.keyids)} key(s)"
    where = ", ".join(d.paths or d.path_hash_prefixes or ()) or "no paths"
    missing = "" if d.has_metadata else " — metadata file missing"
    return f"{d.role}: {d.threshold} of {len(d.keyids)} key(s), paths {where}{missing}"


class DelegationsScreen(FlowScreen[None]):
    CSS_PATH = "delegations.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Refresh"),
        Binding("delete", "remove", "Remove role"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.infos: dict[str, DelegationInfo] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Delegations", classes="title", markup=False)
        with Horizontal(id="deleg-body"):
            yield Tree[str]("targets", id="deleg-tree", data="targets")
            yield Static("select a role", id="deleg-details", markup=False)
        with Horizontal(id="deleg-form"):
            yield Input(id="deleg-role", placeholder="new role name")
            yield Input(id="deleg-keys", placeholder="keys (names, keyids or .pem files)")
            yield Input(id="deleg-paths", placeholder="paths, e.g. apps/*")
            yield Input(id="deleg-threshold", type="integer", placeholder="threshold")
        with Horizontal(classes="buttons"):
            yield Button("Add role…", id="deleg-add", variant="primary")
            yield Button("Remove selected…", id="deleg-remove", variant="error")
        yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    @work(thread=True, exclusive=True, group="deleg", exit_on_error=False, name="delegations")
    def action_reload(self) -> None:
        infos = self.ceremony.delegations()
        self.app.call_from_thread(self._show, infos)

    def _show(self, infos: list[DelegationInfo]) -> None:
        self.infos = {d.role: d for d in infos}
        tree = self.query_one("#deleg-tree", Tree)
        tree.clear()
        nodes: dict[str, TreeNode[str]] = {"targets": tree.root}
        children: dict[str, list[DelegationInfo]] = {}
        for d in infos:
            children.setdefault(d.delegator, []).append(d)
        pending = ["targets"]
        while pending:
            parent = pending.pop(0)
            kids = children.get(parent, [])
            for d in kids:
                if d.role in nodes:
                    continue
                nodes[d.role] = nodes[parent].add(_describe(d), data=d.role)
                pending.append(d.role)
            if len(kids) > _COLLAPSE_OVER and parent != "targets":
                nodes[parent].collapse()
            else:
                nodes[parent].expand()
        tree.focus()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        d = self.infos.get(event.node.data or "")
        if d is None:
            self.query_one("#deleg-details", Static).update("targets: the top-level targets role")
            return
        names = self.ceremony_app.service.repo.names()
        keys = "\n".join(f"  {key_label(k, names)}" for k in d.keyids)
        text = f"{_describe(d)}\ndelegated by {d.delegator}\nterminating: {d.terminating}\n"
        self.query_one("#deleg-details", Static).update(text + f"keys:\n{keys}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "deleg-remove":
            self.action_remove()
            return
        role = self.query_one("#deleg-role", Input).value.strip()
        keys = self.query_one("#deleg-keys", Input).value.replace(",", " ").split()
        paths = self.query_one("#deleg-paths", Input).value.replace(",", " ").split()
        value = self.query_one("#deleg-threshold", Input).value
        threshold = int(value) if value.isdigit() else 1
        self.review_add(role, keys, paths, threshold)

    @work(thread=True, exclusive=True, group="deleg-w", exit_on_error=False, name="add role")
    def review_add(self, role: str, keys: list[str], paths: list[str], threshold: int) -> None:
        lines = self.ceremony.delegation_review(role, keys=keys, paths=paths, threshold=threshold)

        def write() -> None:
            self.add(role, keys, paths, threshold)

        self.app.call_from_thread(self._confirm, f"Add role {role}", lines, "Add role", write)

    def _confirm(self, title: str, lines: list[str], action: str, then: object) -> None:
        from .confirm_screen import ConfirmScreen

        def done(ok: bool | None) -> None:
            if ok and callable(then):
                then()

        self.app.push_screen(ConfirmScreen(title, lines, action=action), done)

    @work(thread=True, exclusive=True, group="deleg-w", exit_on_error=False, name="add role")
    def add(self, role: str, keys: list[str], paths: list[str], threshold: int) -> None:
        result = self.ceremony.add_delegation(role, keys=keys, paths=paths, threshold=threshold)
        lines = [self.ceremony.describe_change(c, result.names) for c in result.changes]
        self.app.call_from_thread(self._written, lines)

    def action_remove(self) -> None:
        node = self.query_one("#deleg-tree", Tree).cursor_node
        role = node.data if node is not None else None
        if not role or role == "targets":
            self.query_one("#result", Static).update("select a delegated role to remove")
            return
        lines = [
            f"- delegation {self.infos[role].delegator} -> {role}",
            *(["targets gets a new version (staged until its threshold signs it)"]),
        ]

        def write() -> None:
            self.remove_role(role)

        self._confirm(f"Remove role {role}", lines, "Remove role", write)

    @work(thread=True, exclusive=True, group="deleg-w", exit_on_error=False, name="remove role")
    def remove_role(self, role: str) -> None:
        result = self.ceremony.remove_delegation(role)
        lines = [self.ceremony.describe_change(c, result.names) for c in result.changes]
        self.app.call_from_thread(self._written, lines)

    def _written(self, lines: list[str]) -> None:
        self.query_one("#result", Static).update("written:\n" + "\n".join(lines))
        self.ceremony_app.note(f"delegations changed: {'; '.join(lines)}")
        self.action_reload()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.query_one("#result", Static).update(failure_text(message, outcome="; nothing written"))
