"""Delegations: the graph as a tree (targets → roles → bins, large groups collapsed and
filled only when opened) with each role's keys, threshold, paths, version, expiry and
signatures; add or remove a role, a key, a threshold or hashed bins, each after a review
from the service that you confirm. A filter narrows the tree by role name or state."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, ProgressBar, Static, Tree
from textual.widgets.tree import TreeNode

from trustkeep.core.tuf_repo.delegation import BinStyle, DelegationInfo
from trustkeep.service.ceremony_delegations import DelegationReview, DelegationView
from trustkeep.service.repo import WriteResult

from ._common import FlowScreen, failure_text
from .delegation_form import Field, FormScreen
from .messages import ActionFailed
from .widgets import FilterField

__all__ = ["DelegationsScreen"]

#: a role with more children than this shows them in collapsed groups
_COLLAPSE_OVER = 16
#: the filter waits this long after the last keystroke before narrowing the tree
_KEYS_HINT = "names, keyids or .pem files, comma-separated"


def _describe(d: DelegationInfo, state: str) -> str:
    """The node label: short (the details pane says the rest)."""
    bins = f" {d.bins} bins" if d.succinct else ""
    return f"{d.role}{bins} {d.threshold}/{len(d.keyids)} [{state}]"


def _split(text: str) -> list[str]:
    return text.replace(",", " ").split()


def _number(text: str, default: int | None) -> int | None:
    return int(text) if text.strip().isdigit() else default


class DelegationsScreen(FlowScreen[None]):
    CSS_PATH = "delegations.tcss"
    AUTO_FOCUS = "#deleg-tree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", show=False),
        Binding("a", "add_role", "Role"),
        Binding("k", "add_key", "+Key"),
        Binding("x", "remove_key", "-Key"),
        Binding("t", "threshold", "Thresh"),
        Binding("b", "bins", "Bins"),
        Binding("delete", "remove", "Remove"),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.dv: DelegationView | None = None
        #: node id -> the roles a collapsed group adds when first opened
        self._lazy: dict[int, list[str]] = {}
        self._children: dict[str, list[DelegationInfo]] = {}
        #: how many times the tree was built (the filter builds it once per pause in typing)
        self.builds = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterField(
            id="deleg-filter",
            placeholder="filter: role name or state (/ to focus)",
            focus_on_enter="#deleg-tree",
        )
        with Horizontal(id="deleg-body"):
            yield Tree[str](Text("targets"), id="deleg-tree", data="targets")
            with VerticalScroll(id="deleg-side"):
                yield Static("select a role", id="deleg-details", markup=False)
        yield ProgressBar(id="deleg-progress", show_eta=False)
        yield Static(
            "a: add a role · k / x: add / remove a key · t: threshold · b: hashed bins",
            id="result",
            markup=False,
        )
        yield Footer(show_command_palette=False)  # ctrl+p still opens it: room for the keys

    def on_mount(self) -> None:
        self.query_one("#deleg-progress", ProgressBar).display = False
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(
            self._load, thread=True, exclusive=True, group="deleg", exit_on_error=False,
            name="delegations",
        )  # fmt: skip

    def _load(self) -> None:
        view = self.ceremony.delegation.view()
        self.app.call_from_thread(self._loaded, view)

    def _loaded(self, view: DelegationView) -> None:
        self.dv = view
        self._children = {}
        for d in view.infos:
            self._children.setdefault(d.delegator, []).append(d)
        self._build()
        self.query_one("#deleg-tree", Tree).focus()

    # -- the tree ----------------------------------------------------------------------

    def _needle(self) -> str:
        return self.query_one("#deleg-filter", Input).value.strip()

    def _build(self) -> None:
        if self.dv is None:
            return
        self.builds += 1
        tree: Tree[str] = self.query_one("#deleg-tree", Tree)
        tree.clear()
        self._lazy.clear()
        needle = self._needle()
        if needle:
            hits = [r for r in self.dv.roles() if self.dv.matches(r, needle)]
            tree.root.set_label(Text(f"targets — {len(hits)} role(s) match {needle!r}"))
            for role in hits:
                tree.root.add_leaf(Text(f"{role} [{self.dv.state(role)}]"), data=role)
        else:
            tree.root.set_label(Text(f"targets — {len(self.dv.roles())} delegated role(s)"))
            self._fill_children(tree.root, "targets")
        tree.root.expand()
        self._show_details(tree.cursor_node)

    def _fill_children(self, node: TreeNode[str], parent: str) -> None:
        kids = self._children.get(parent, [])
        groups: dict[str, list[DelegationInfo]] = {}
        if len(kids) > _COLLAPSE_OVER:
            for d in kids:
                groups.setdefault(d.role.rsplit("-", 1)[0], []).append(d)
        for d in kids:
            prefix = d.role.rsplit("-", 1)[0]
            members = groups.get(prefix, [])
            if len(members) > _COLLAPSE_OVER:
                if members[0] is d:
                    group = node.add(Text(f"{prefix}-* ({len(members)} roles)"), data="")
                    self._lazy[group.id] = [m.role for m in members]
                    group.allow_expand = True
                continue
            self._add_role(node, d)

    def _add_role(self, node: TreeNode[str], d: DelegationInfo) -> None:
        assert self.dv is not None
        child = node.add(Text(_describe(d, self.dv.state(d.role))), data=d.role)
        if d.succinct:
            self._lazy[child.id] = list(self.dv.members[d.role])
            child.allow_expand = True
        elif self._children.get(d.role):
            self._fill_children(child, d.role)
            child.expand()
        else:
            child.allow_expand = False

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        members = self._lazy.pop(event.node.id, None)
        if members is None or self.dv is None:
            return
        infos = {d.role: d for d in self.dv.infos}
        for role in members:
            if role in infos and not infos[role].succinct:
                self._add_role(event.node, infos[role])
            else:
                event.node.add_leaf(Text(f"{role} [{self.dv.state(role)}]"), data=role)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        self._show_details(event.node)

    def _show_details(self, node: TreeNode[str] | None) -> None:
        if self.dv is None:
            return
        role = node.data if node is not None and node.data else "targets"
        self.query_one("#deleg-details", Static).update("\n".join(self.dv.details(role)))

    # -- the filter: one build per pause in typing, nothing reloaded -------------------

    def on_filter_field_settled(self, event: FilterField.Settled) -> None:
        event.stop()
        self._build()

    def action_filter(self) -> None:
        self.query_one("#deleg-filter", Input).focus()

    # -- changes: form, review (service), confirm, write (worker) ----------------------

    def _selected(self, *, group: bool) -> str | None:
        """The delegated role under the cursor; a succinct bin stands for its group."""
        node = self.query_one("#deleg-tree", Tree).cursor_node
        role: str | None = str(node.data) if node is not None and node.data else None
        if self.dv is None or not role or role == "targets":
            self._say("select a delegated role first")
            return None
        if group:
            for name, members in self.dv.members.items():
                if role in members:
                    return name
        return role

    def _say(self, text: str) -> None:
        self.query_one("#result", Static).update(text)

    def _ask(self, title: str, fields: list[Field], then: Callable[[dict[str, str]], None]) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                then(values)

        self.app.push_screen(FormScreen(title, fields), done)

    def _review_then_write(
        self,
        name: str,
        review: Callable[[], DelegationReview],
        write: Callable[[DelegationReview], WriteResult],
    ) -> None:
        """Review in a worker (the service's lines), confirm, then write in a worker."""

        def run_review() -> None:
            self.app.call_from_thread(self._confirm, name, review(), write)

        self.run_worker(
            run_review, thread=True, exclusive=True, group="deleg-w", exit_on_error=False,
            name=name,
        )  # fmt: skip

    def _confirm(
        self, name: str, review: DelegationReview, write: Callable[[DelegationReview], WriteResult]
    ) -> None:
        from .confirm_screen import ConfirmScreen

        def done(ok: bool | None) -> None:
            if not ok:
                self._say(f"{name}: cancelled, nothing written")
                return
            self.busy = True
            self._say(f"{name}: writing…")

            def run_write() -> None:
                result = write(review)
                self.app.call_from_thread(self._written, result)

            self.run_worker(
                run_write, thread=True, exclusive=True, group="deleg-w", exit_on_error=False,
                name=name,
            )  # fmt: skip

        self.app.push_screen(
            ConfirmScreen(name[:1].upper() + name[1:], review.lines, action=name), done
        )

    def _written(self, result: WriteResult) -> None:
        self.busy = False
        self.query_one("#deleg-progress", ProgressBar).display = False
        changes = [self.ceremony.describe_change(c, result.names) for c in result.changes]
        shown = changes[:4] + ([f"… and {len(changes) - 4} more"] if len(changes) > 4 else [])
        where = "published" if result.published else "staged: sign from the signing queue (g)"
        self._say(f"written ({where}):\n" + "\n".join(shown))
        self.ceremony_app.note(f"delegations changed: {'; '.join(changes[:4])}")
        self.action_reload()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        self.query_one("#deleg-progress", ProgressBar).display = False
        self._say(failure_text(message, outcome="; nothing written"))

    # -- the actions -------------------------------------------------------------------

    def action_add_role(self) -> None:
        fields: list[Field] = [
            ("role", "Role", "new role name, e.g. apps", "text"),
            ("keys", "Keys", _KEYS_HINT, "text"),
            ("paths", "Paths", "path patterns, e.g. apps/*, tools/*", "text"),
            ("threshold", "Threshold", "signatures needed (default 1)", "integer"),
            ("delegator", "From", "the delegating role (default targets)", "text"),
        ]

        def then(v: dict[str, str]) -> None:
            role, keys, paths = v["role"], _split(v["keys"]), _split(v["paths"])
            threshold = _number(v["threshold"], 1) or 1
            delegator = v["delegator"] or "targets"
            flow = self.ceremony.delegation
            self._review_then_write(
                "add role",
                lambda: flow.review_add(
                    role, keys=keys, paths=paths, threshold=threshold, delegator=delegator
                ),
                lambda r: flow.add(
                    role,
                    keys=keys,
                    paths=paths,
                    threshold=threshold,
                    delegator=delegator,
                    reviewed=r,
                ),
            )

        self._ask("Add a delegated role", fields, then)

    def _keys_change(self, title: str, fields: list[Field], name: str, build: Callable) -> None:  # type: ignore[type-arg]
        role = self._selected(group=True)
        if role is None:
            return

        def then(v: dict[str, str]) -> None:
            kwargs = build(v)
            flow = self.ceremony.delegation
            self._review_then_write(
                name,
                lambda: flow.review_keys(role, **kwargs),
                lambda r: flow.change_keys(role, **kwargs, reviewed=r),
            )

        self._ask(f"{title} — {role}", fields, then)

    def action_add_key(self) -> None:
        fields: list[Field] = [
            ("keys", "Keys", _KEYS_HINT, "text"),
            ("threshold", "Threshold", "new threshold (empty: kept)", "integer"),
        ]
        self._keys_change(
            "Add keys",
            fields,
            "add key",
            lambda v: {"add": _split(v["keys"]), "threshold": _number(v["threshold"], None)},
        )

    def action_remove_key(self) -> None:
        fields: list[Field] = [
            ("keys", "Keys", "names or keyid prefixes to revoke", "text"),
            ("threshold", "Threshold", "new threshold (empty: kept)", "integer"),
        ]
        self._keys_change(
            "Remove keys",
            fields,
            "remove key",
            lambda v: {"remove": _split(v["keys"]), "threshold": _number(v["threshold"], None)},
        )

    def action_threshold(self) -> None:
        fields: list[Field] = [("threshold", "Threshold", "signatures needed", "integer")]
        self._keys_change(
            "Change the threshold",
            fields,
            "change threshold",
            lambda v: {"threshold": _number(v["threshold"], 0)},
        )

    def action_bins(self) -> None:
        fields: list[Field] = [
            ("count", "Bins", "a power of two, 16 to 65536 (default 16)", "integer"),
            ("keys", "Keys", _KEYS_HINT, "text"),
            ("threshold", "Threshold", "signatures needed per bin (default 1)", "integer"),
            (
                "style",
                "Style",
                "succinct (TAP 15, default) or classic (beside other roles)",
                "text",
            ),
            ("delegator", "From", "the delegating role (default targets)", "text"),
        ]

        def then(v: dict[str, str]) -> None:
            count = _number(v["count"], 16) or 16
            keys, threshold = _split(v["keys"]), _number(v["threshold"], 1) or 1
            typed = v["style"].lower() or "succinct"
            if typed not in ("succinct", "classic"):
                self._say(f"bins style {typed!r}: type succinct or classic; nothing written")
                return
            style: BinStyle = "classic" if typed == "classic" else "succinct"
            delegator = v["delegator"] or "targets"
            flow = self.ceremony.delegation
            self.query_one("#deleg-progress", ProgressBar).update(total=None, progress=0)

            def progress(task: str, done: int, total: int) -> None:
                self.app.call_from_thread(self._progress, task, done, total)

            self._review_then_write(
                "make hashed bins",
                lambda: flow.review_bins(
                    count=count, keys=keys, threshold=threshold, style=style, delegator=delegator
                ),
                lambda r: flow.bins(
                    count=count,
                    keys=keys,
                    threshold=threshold,
                    style=style,
                    delegator=delegator,
                    progress=progress,
                    reviewed=r,
                ),
            )

        self._ask("Delegate every path of a role to hashed bins", fields, then)

    def _progress(self, task: str, done: int, total: int) -> None:
        bar = self.query_one("#deleg-progress", ProgressBar)
        bar.display = True
        bar.update(total=total, progress=done)
        self._say(f"make hashed bins: {task} {done} of {total}…")

    def action_remove(self) -> None:
        role = self._selected(group=True)  # a bin: all the bins (the review says so)
        if role is None:
            return
        flow = self.ceremony.delegation
        self._review_then_write(
            "remove role", lambda: flow.review_remove(role), lambda r: flow.remove(role, reviewed=r)
        )
