"""Step 6 of the gated apply: merge a tested branch into main and prove what landed.

- Main must still be at the version the branch was made from, else ``MainMovedError``.
- ``POST /v1/convai/agents/{id}/branches/{branch_id}/merge`` never answers 409 on the real API
  (conflicts are settled by timestamp), so nothing here relies on one. A 403 (main protected,
  the key is not an admin) becomes ``ProtectedBranchError``. A refusal because the branch equals
  main (the API may refuse such a merge, or commit nothing) is not an error.
- After the merge, main's new version must be the merge of the tested branch version directly
  on top of the tested main version: main's versions are read back (``GET
  .../versions/{id}``, bounded) to find it, else another change reached main: ``MainMovedError``
  naming the versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convai_ops.errors import ApiError, MainMovedError, PermissionDeniedError, ProtectedBranchError
from convai_ops.state import RemoteAgent

if TYPE_CHECKING:
    from convai_ops.apply import ApplyContext, Staged
    from convai_ops.spec import AgentSpec

__all__ = ["MAX_VERSIONS_WALKED", "merge_into_main"]


def merge_into_main(ctx: ApplyContext, spec: AgentSpec, staged: Staged) -> RemoteAgent:
    """Merge the staged branch into main if main is still at the tested version; return main
    as read back after the merge (``GET /v1/convai/agents/{id}``, then ``POST
    .../branches/{branch_id}/merge``). Raises ``MainMovedError`` when main moved,
    ``ProtectedBranchError`` on a 403 (main protected), or the merge call's ``ApiError``."""
    main, branch_id = staged.main, staged.branch_id
    current = RemoteAgent(main.agent_id, ctx.client.get_agent(main.agent_id))
    if current.version_id != main.version_id:
        raise MainMovedError(
            f"{spec.slug}: main moved from version {main.version_id} to {current.version_id} "
            f"while the tests ran; not merged, branch {branch_id} kept. Re-run apply"
        )
    _merge_call(ctx, spec, main, branch_id)
    return _check_merged_onto(ctx, spec, main, staged.version_id, branch_id)


def _merge_call(ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent, branch_id: str) -> None:
    """One merge request. A refusal because the branch already equals main (the API may refuse
    such a merge or commit nothing; ``merge-preview`` tells) is not an error: the branch is
    archived, as the merge would have done."""
    agent_id, target = main.agent_id, str(main.main_branch_id)
    try:
        ctx.client.merge_branch(agent_id, branch_id, target, archive_source_branch=True)
    except PermissionDeniedError as exc:
        raise ProtectedBranchError(_protected_message(ctx, spec, main, branch_id, exc)) from None
    except ApiError as exc:
        if exc.status not in (400, 409, 422) or not _identical(ctx, main, branch_id):
            raise
        ctx.client.update_branch(agent_id, branch_id, is_archived=True)
        ctx.report(spec.slug, f"branch {branch_id} equals main: nothing to merge; archived it")


def _identical(ctx: ApplyContext, main: RemoteAgent, branch_id: str) -> bool:
    """Whether ``merge-preview`` says the branch holds what main holds."""
    preview = ctx.client.merge_preview(main.agent_id, branch_id, str(main.main_branch_id))
    return bool(preview.get("source_identical_to_target"))


def _protected_message(
    ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent, branch_id: str, exc: ApiError
) -> str:
    try:
        name = f"{ctx.client.get_branch(main.agent_id, branch_id)['name']} ({branch_id})"
    except ApiError:
        name = branch_id
    return (
        f"{spec.slug}: merge into main of agent {main.agent_id} refused (HTTP {exc.status}): "
        "main is protected and this API key lacks admin permission; merge with an admin key, "
        f"or merge branch {name} by hand in the ElevenLabs dashboard. Not merged, branch kept"
    )


#: How many of main's versions ``_check_merged_onto`` reads back looking for the merge.
MAX_VERSIONS_WALKED = 20


def _check_merged_onto(
    ctx: ApplyContext, spec: AgentSpec, main: RemoteAgent, tested: str | None, branch_id: str
) -> RemoteAgent:
    """The API has no compare-and-swap on merge: between the version check and the merge
    another change can land. Walk main's versions back from its tip (``GET
    .../versions/{id}``, at most ``MAX_VERSIONS_WALKED``) to the merge of ``tested`` (the
    branch version the tests ran against); its in-branch parent must be the tested main
    version. Main unchanged means nothing was committed (the branch equalled main). Raises
    ``MainMovedError`` naming the versions otherwise; returns main as read back."""
    after = RemoteAgent(main.agent_id, ctx.client.get_agent(main.agent_id))
    if after.version_id == main.version_id:
        return after
    merge, parent, walked = _find_merge(ctx, main, str(after.version_id), tested)
    if merge is None:
        raise MainMovedError(
            f"{spec.slug}: main's version {after.version_id} does not descend from the tested "
            f"branch version {tested} (branch {branch_id}) on top of main {main.version_id}: "
            "another change reached main; re-run apply, or run `convai-ops test` on main"
        )
    if parent != main.version_id:
        raise MainMovedError(
            f"{spec.slug}: another change reached main (version {parent}) just before this "
            f"merge, so main {merge} combines it with the tested branch version {tested} "
            "untested together; re-run apply, or run `convai-ops test` on main"
        )
    if walked:
        ctx.report(spec.slug, f"note: main moved on after the merge ({', '.join(walked)})")
    return after


def _find_merge(
    ctx: ApplyContext, main: RemoteAgent, tip: str, tested: str | None
) -> tuple[str | None, str | None, list[str]]:
    """``(merge version, its in-branch parent, versions after it)`` for the version of main
    that merged ``tested``, walking back from ``tip``; ``(None, None, walked)`` when not
    found before the tested main version, the start of history or the walk's bound."""
    walked: list[str] = []
    current: str | None = tip
    while current and current != main.version_id and len(walked) < MAX_VERSIONS_WALKED:
        parents = ctx.client.get_version(main.agent_id, current).get("parents") or {}
        if tested is not None and parents.get("merged_from_version_id") == tested:
            return current, parents.get("in_branch_parent_id"), walked
        walked.append(current)
        current = parents.get("in_branch_parent_id")
    return None, None, walked
