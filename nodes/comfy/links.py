"""POST link / POST unlink: the service side of linking a file to a CivitAI version by hand
(the rules are in nodes/scan/link.py). Runs on the service loop (``service.call``).

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
