"""``alignlab keys …``: API keys of the service (hashed at rest, shown once)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from alignlab.cli._store import default_store

__all__ = ["keys_app"]

console = Console()
keys_app = typer.Typer(no_args_is_help=True, help="API keys of the service (hashed at rest, shown once).")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="annotator, moderator or admin.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
) -> None:
    """Create a key; its secret is printed once and never stored."""
    from alignlab.monitor import create_key

    created = create_key(default_store(), role=role, name=name)
    console.print(f"key id {created.key.id} ({created.key.role}); copy the secret now, it is not shown again:")
    typer.echo(created.token)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids, names, roles; never secrets)."""
    from alignlab.monitor import list_keys

    table = Table(title="API keys")
    for col in ("id", "name", "role", "created", "revoked"):
        table.add_column(col)
    for k in list_keys(default_store()):
        table.add_row(
            k.id,
            k.name,
            k.role,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id from `alignlab keys list`.")]) -> None:
    """Revoke a key and end its page sessions (running servers stop accepting it within a second)."""
    from alignlab.monitor import revoke_key

    console.print(f"revoked {revoke_key(default_store(), key_id).id}; its page sessions are ended")
