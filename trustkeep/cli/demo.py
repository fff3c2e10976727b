"""``trustkeep demo``: the main job end to end on bundled example data.

It runs real trustkeep commands in a temporary home: generate keys, build a TUF
repository with a 2-of-2 root, add the bundled example targets, show the status,
verify the chain offline from its first root, and print the daemon.json pins.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import click

from trustkeep.errors import TrustFailure

__all__ = ["COMMANDS", "demo"]

_GUN = "registry.example.com/acme/*"
_DEMO_PASSPHRASE = "trustkeep-demo-only"  # a throwaway for the temporary demo home


def _passphrase_file(base: Path) -> Path:
    """The demo keys' passphrase in a 0600 file, given as --passphrase-file (as CI would)."""
    from trustkeep.adapters.atomic import atomic_write

    path = base / "demo-passphrase"
    atomic_write(path, _DEMO_PASSPHRASE.encode("utf-8") + b"\n", mode=0o600)
    return path


def _steps(home: Path, passphrase: Path, repo: Path, examples: Path) -> list[list[str]]:
    h = ["--home", str(home), "--passphrase-file", str(passphrase)]
    keys = [
        ("root-alice", "ecdsa-p256"),
        ("root-bob", "ecdsa-p256"),
        ("targets", "ed25519"),
        ("snapshot", "ed25519"),
        ("timestamp", "ed25519"),
    ]
    steps = [[*h, "key", "generate", "--type", kt, "--name", name] for name, kt in keys]
    targets = sorted(p.name for p in examples.iterdir() if p.is_file())
    repo_init = ["repo", "init", str(repo), "--root-key", "root-alice", "--root-key", "root-bob"]
    repo_init += ["--root-threshold", "2", "--targets-key", "targets"]
    repo_init += ["--snapshot-key", "snapshot", "--timestamp-key", "timestamp"]
    repo_init += ["--expires", "root=365d,targets=90d,snapshot=7d,timestamp=1d"]
    pins = ["pin", "export", "--format", "docker", "--gun", _GUN]
    pins += ["--from", "root-alice", "--from", "root-bob"]
    steps += [
        [*h, "key", "list"],
        [*h, *repo_init],
        [*h, "targets", "add", str(repo), "--base", str(examples)]
        + [str(examples / t) for t in targets],
        [*h, "snapshot", str(repo)],
        [*h, "timestamp", str(repo)],
        [*h, "status", str(repo)],
        [*h, "verify", str(repo), "--root", str(repo / "1.root.json")],
        [*h, *pins],
    ]
    return steps


@click.command("demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's home and repository here (default: a temporary directory).",
)
def demo(workdir: Path | None) -> int:
    """Run trustkeep end to end on bundled example data, in a temporary home."""
    from trustkeep.cli import main

    base = Path(tempfile.mkdtemp(prefix="trustkeep-demo-")) if workdir is None else workdir
    base.mkdir(parents=True, exist_ok=True)
    try:
        with resources.as_file(resources.files("trustkeep") / "examples") as examples:
            home, repo = base / "home", base / "repo"
            click.echo(f"# trustkeep demo in {base} (keys use a throwaway demo passphrase)")
            passphrase = _passphrase_file(base)
            for argv in _steps(home, passphrase, repo, examples):
                click.echo(f"\n$ trustkeep {shlex.join(argv)}", err=False)
                code = main(argv)
                if code != 0:
                    raise TrustFailure(f"demo step failed with exit {code}: {argv[4:6]}")
            click.echo("\n# done: the repository verifies from its first root; pins above.")
    finally:
        if workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


COMMANDS = [demo]
