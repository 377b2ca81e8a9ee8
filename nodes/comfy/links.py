"""POST link / unlink / preview: the service side of linking a file to a CivitAI version by
hand (rules: nodes/scan/beside/link.py) and of saving one preview beside a model (the details
view's button; rules: nodes/scan/beside/previews.py). Runs on the service loop (``service.call``).

Files are addressed by folder and name, like every route: the name is checked and resolved
inside the folder's directories (names.resolve) before anything opens the file.
"""

from . import names


async def link(service, folder, name, url) -> dict:
    """``{"record", "warning"}``; BadName/ModelNotFound for the file, BadLink (400) for the
    URL or id, LinkFailed (502) when CivitAI cannot answer."""
    from ..scan import BadLink, link_file

    names.resolve(service.folder_paths, folder, name)
    if not isinstance(url, str):
        raise BadLink("url must be a CivitAI model URL or an AIR (a string).")
    scanner = await service._scanner()
    record, warning = await link_file(scanner, folder, name, url)
    return {"record": service._public(record), "warning": warning}


async def unlink(service, folder, name) -> dict:
    """The record without its manual link (``not_checked`` until the next lookup)."""
    from ..scan import unlink_file

    names.resolve(service.folder_paths, folder, name)
    store, _, _ = await service._ready()
    return service._public(unlink_file(store, folder, name))


async def preview(service, folder, name) -> dict:
    """Save ``<stem>.preview.<ext>`` beside one identified model: ``{"result", "record"}``
    (result "written", "exists" or "no_image"); BadLink (400) for a file not identified,
    LinkFailed (502) when the download fails."""
    from ..scan import BadLink, LinkFailed, nsfw_limit, save_preview

    path = names.resolve(service.folder_paths, folder, name)
    store, _, client = await service._ready()
    record = store.get_record(folder, name)
    if not record or record.get("status") != "identified":
        raise BadLink(f"{folder}/{name} is not identified yet; identify it first.")
    limit = nsfw_limit(service.settings.preview_nsfw)
    try:
        result = await save_preview(client, path, record.get("civitai_info"), limit)
    except (ValueError, OSError) as exc:
        raise LinkFailed(service.redact(str(exc))) from exc
    return {"result": result, "record": service._public(record)}
