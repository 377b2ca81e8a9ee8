"""The CLI's scan report (JSON or CSV, written atomically) and its end-of-scan summary text."""

import csv
import io
import json
import os
import tempfile

from .progress import human_bytes

CSV_COLUMNS = (
    "folder", "name", "path", "category", "size", "status", "error", "checked_at",
    "model_name", "version_name", "type", "base_model", "model_id", "version_id", "url",
    "matched_by", "trained_words", "update_version", "update_url",
    "SHA256", "AutoV1", "AutoV2", "AutoV3", "CRC32", "BLAKE3",
    "detected_kind", "detected_base_model", "suggested_category", "warnings",
)  # fmt: skip
INFO_COLUMNS = ("model_name", "version_name", "type", "base_model", "model_id", "version_id",
                "url", "matched_by")  # fmt: skip


def report_text(records: list[dict], summary: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"models": records, "summary": summary}, indent=2, ensure_ascii=False)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        info = r.get("civitai_info") or {}
        row = {k: r.get(k) for k in ("folder", "name", "path", "category", "size", "status",
                                     "error", "checked_at")}  # fmt: skip
        row.update({k: info.get(k) for k in INFO_COLUMNS})
        row["trained_words"] = ", ".join(info.get("trained_words") or [])
        update = r.get("update") or {}
        row["update_version"], row["update_url"] = update.get("version_name"), update.get("url")
        row.update(r.get("hashes") or {})
        detected = r.get("detected") or {}
        row["detected_kind"] = detected.get("kind")
        row["detected_base_model"] = detected.get("base_model")
        row["suggested_category"] = r.get("suggested_category")
        row["warnings"] = "; ".join(r.get("warnings") or [])
        writer.writerow(row)
    for s in summary.get("skipped") or []:  # not files (pipes, loops...): no record, a reason
        writer.writerow({"path": s["path"], "status": "skipped", "error": s["reason"]})
    return out.getvalue()


def write_atomically(path: str, text: str) -> None:
    """temp file in the same directory + rename: a reader never sees half a report."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".scan-report-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def summary_text(summary: dict) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_status"].items() if n) or "none"
    lines = [
        f"Scan {'cancelled' if summary['cancelled'] else 'done'}: {summary['files_total']} "
        f"model files ({counts}).",
    ]
    for category, by_status in sorted(summary["by_category"].items()):
        inner = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
        lines.append(f"  {category:<20} {inner}")
    lk = summary["lookups"]
    lines.append(
        f"Hashed {summary['files_hashed']} files ({human_bytes(summary['bytes_hashed'])}); "
        f"{summary['calls']} API calls; {lk['identified']} identified now "
        f"({lk['autov3_identified']} by AutoV3), {summary['from_sidecars']} from sidecars; "
        f"{summary['duration_seconds']:.1f} s."
    )
    if summary.get("previews"):
        lines.append(f"{summary['previews']} preview(s) saved beside their models.")
    if summary.get("updates"):
        lines.append(f"{summary['updates']} file(s) with a newer version for their base model.")
    if summary["missing"]:
        lines.append(f"{summary['missing']} file(s) no longer on disk (kept, marked missing).")
    for s in summary["skipped"]:
        lines.append(f"skipped {s['path']}: {s['reason']}")
    for e in summary["errors"]:
        lines.append(f"error   {e['folder']}/{e['name']}: {e['error']}")
    return "\n".join(lines)
