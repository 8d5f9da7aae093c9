"""What a succeeded job offers for download: its script, build.json and preview.

Only regular files inside the job's own folder are offered, whatever the stored
result says, and a file is served only by the name its listing gives: no path is
ever built from a request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AebridgeError
from .job import Job, JobStatus

__all__ = ["ArtifactNotFoundError", "artifact_file", "artifacts"]


class ArtifactNotFoundError(AebridgeError):
    """A job has no artifact of the name asked for."""

    code = "not_found"


def artifacts(job: Job) -> list[dict[str, Any]]:
    """The files a finished job offers for download: its script, build.json, preview.

    Args:
        job: a job; only a succeeded job has artifacts.

    Returns:
        ``[{"name", "kind", "size"}]`` with ``name`` relative to the job's folder.
    """
    if job.status is not JobStatus.SUCCEEDED or not job.result:
        return []
    out_dir = Path(job.out_dir)
    found: list[dict[str, Any]] = []
    for kind in ("script", "build_json", "preview"):
        value = job.result.get(kind)
        names = value if isinstance(value, list) else [value]
        for name in names:
            if not isinstance(name, str) or not name:
                continue
            path = out_dir / name
            files = (
                sorted(p for p in path.rglob("*") if p.is_file())
                if path.is_dir()
                else [path]
            )
            for file in files:
                # Only regular files inside the job's folder, whatever the result
                # says: a symlink or an absolute path never becomes a download.
                inside = file.resolve().is_relative_to(out_dir.resolve())
                if inside and file.is_file() and not file.is_symlink():
                    found.append(
                        {
                            "name": file.relative_to(out_dir).as_posix(),
                            "kind": kind,
                            "size": file.stat().st_size,
                        }
                    )
    return found


def artifact_file(job: Job, name: str) -> Path:
    """The file of the artifact ``name`` (a name :func:`artifacts` lists).

    Raises:
        ArtifactNotFoundError: the job lists no artifact of that name.
    """
    # Only names from the listing are served: the request never builds a path.
    listed = {item["name"] for item in artifacts(job)}
    if name not in listed:
        raise ArtifactNotFoundError(
            f"job {job.id} has no artifact of that name; "
            f"GET /v1/jobs/{job.id}/artifacts lists them"
        )
    return Path(job.out_dir) / name
