"""Verify: a directory or archive against an anchor; the chain as a tree with marks,
the findings beside it; Enter on a finding jumps to its role in the tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Input, OptionList, Static, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode

from trustkeep.core.verify.report import Finding, Report, RoleResult

from ._common import FlowScreen, failure_text
from .messages import ActionFailed

__all__ = ["VerifyScreen"]

_MAX_CHILDREN = 50


def _role_label(r: RoleResult, bad: set[str]) -> Text:
    ok = r.valid and r.role not in bad
    mark = "✓" if ok else "✗"
    sigs = f"{r.signatures}/{r.threshold}" if r.threshold is not None else f"{r.signatures}"
    text = Text(f"{mark} {r.role} v{r.version} — {sigs} signatures, expires {r.expires}")
    text.stylize("green" if ok else "bold red", 0, 1)
    return text


class VerifyScreen(FlowScreen[None]):
    CSS_PATH = "verify.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "run", "Verify"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[str, TreeNode[str]] = {}
        self.report: Report | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Verify metadata offline", classes="title", markup=False)
        with Horizontal(id="verify-form"):
            yield Input(id="directory", placeholder="directory or .tar/.tar.gz")
            yield Input(id="root", placeholder="trusted root.json (anchor)")
            yield Input(id="pins", placeholder="or pins file")
            yield Input(id="gun", placeholder="GUN (Notary)")
            yield Button("Verify", id="run", variant="primary")
        yield Static("", id="verdict", markup=False)
        with Horizontal(id="verify-out"):
            yield Tree[str]("chain", id="chain")
            yield OptionList(id="findings", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#chain", Tree).border_title = "chain"
        self.query_one("#findings", OptionList).border_title = "findings"
        self.query_one("#directory", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_run()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def action_run(self) -> None:
        fields = ("directory", "root", "pins", "gun")
        values = {k: self.query_one(f"#{k}", Input).value for k in fields}
        self.query_one("#verdict", Static).update("verifying…")
        self.run_verify(values)

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False, name="verify")
    def run_verify(self, values: dict[str, str]) -> None:
        result = self.ceremony_app.home.verify(
            values["directory"], root=values["root"], pins=values["pins"], gun=values["gun"]
        )
        self.app.call_from_thread(self._show, result.report)

    def _show(self, report: Report) -> None:
        errors = len(report.errors)
        warnings = len(report.findings) - errors
        anchor = report.anchor.kind + (f" {report.anchor.source}" if report.anchor.source else "")
        verdict = "VALID" if report.valid else "NOT VALID"
        counts = f"{errors} error(s), {warnings} warning(s)"
        self.query_one("#verdict", Static).update(
            f"{verdict} — {report.format}, anchor: {anchor}; {counts}"
        )
        bad = {f.role for f in report.errors if f.role}
        self._tree(report.roles, bad)
        findings = self.query_one("#findings", OptionList)
        findings.clear_options()
        for i, f in enumerate(report.findings):
            findings.add_option(Option(self._finding_text(f), id=str(i)))
        self.report = report
        (findings if report.findings else self.query_one("#chain", Tree)).focus()

    @staticmethod
    def _finding_text(f: Finding) -> Text:
        style = "bold red" if f.severity == "error" else "yellow"
        text = Text(f"{f.severity} {f.code} [{f.role or '—'}] ", style=style)
        text.append(f.message, style="")
        return text

    def _tree(self, roles: Sequence[RoleResult], bad: set[str]) -> None:
        tree = self.query_one("#chain", Tree)
        tree.clear()
        tree.root.expand()
        self.nodes = {}
        parents: dict[str, TreeNode[str]] = {}
        roots = [r for r in roles if r.role == "root"]
        if roots:
            node = tree.root.add("root versions", data="root", expand=True)
            for r in roots:
                self.nodes["root"] = node.add_leaf(_role_label(r, bad), data="root")
        children: dict[str | None, list[RoleResult]] = {}
        for r in roles:
            if r.role != "root":
                children.setdefault(r.delegated_by, []).append(r)
        for r in children.get(None, []) + children.get("root", []):
            parents[r.role] = self.nodes[r.role] = tree.root.add(
                _role_label(r, bad), data=r.role, expand=True
            )
        pending = list(parents)
        while pending:
            name = pending.pop(0)
            kids = children.get(name, [])
            parent = parents[name]
            if len(kids) > _MAX_CHILDREN:  # hundreds of bins: collapsed under their parent
                parent.collapse()
            for r in kids:
                if r.role in self.nodes:
                    continue
                parents[r.role] = self.nodes[r.role] = parent.add(_role_label(r, bad), data=r.role)
                pending.append(r.role)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.report is None:
            return
        role = self.report.findings[int(event.option.id or 0)].role
        node = self.nodes.get(role or "")
        if node is None:
            return
        tree = self.query_one("#chain", Tree)
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        tree.move_cursor(node)
        tree.focus()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.query_one("#verdict", Static).update(failure_text(message))
