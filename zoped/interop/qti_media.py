"""Pictures in QTI items: an ``img`` in an item body inside a content package is read from the
package, checked, and kept with the course (docs/qti.md, "Pictures").

Only PNG, JPEG and GIF files are kept, recognised by their first bytes (not by their names);
SVG is refused by name, since an SVG file can carry script.
"""

from __future__ import annotations

import hashlib

from zoped.domain.media import IMAGE_TYPES, MAX_IMAGE_BYTES, CourseMedia, image_markdown
from zoped.interop.qti_body import SKIPPED, ItemReader
from zoped.interop.qti_files import Files, resolve_href
from zoped.interop.qti_names import local

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes) -> str | None:
    """The content type of a PNG, JPEG or GIF file by its first bytes; None for anything else."""
    return next((kind for head, kind in _SIGNATURES if data.startswith(head)), None)


def looks_like_svg(name: str, data: bytes) -> bool:
    """Whether a file is (or claims to be) SVG."""
    return name.lower().endswith((".svg", ".svgz")) or b"<svg" in data[:4096].lower()


def read_image(name: str, data: bytes) -> CourseMedia | str:
    """The picture in ``data`` (the file ``name`` of a package), or why it is refused."""
    if looks_like_svg(name, data):
        return "is an SVG image: not accepted (an SVG file can carry script); use PNG, JPEG or GIF"
    if len(data) > MAX_IMAGE_BYTES:
        return f"is larger than {MAX_IMAGE_BYTES:,} bytes (the most an image may have)"
    kind = image_type(data)
    if kind is None:
        return "is not a PNG, JPEG or GIF image"
    digest = hashlib.sha256(data).hexdigest()
    return CourseMedia(f"{digest}.{IMAGE_TYPES[kind]}", kind, data)


#: Where a picture stays its alt text: in a choice, a gap text or feedback (docs/qti.md).
_NO_PICTURES = frozenset(
    {
        "simple-choice",
        "simple-associable-choice",
        "inline-choice",
        "gap-text",
        "gap-img",
        "feedback-inline",
        "feedback-block",
        "modal-feedback",
    }
)


def read_pictures(reader: ItemReader, package: Files | None, path: str) -> None:
    """Read the pictures of the item body (``img``, and ``object`` with an image type) from the
    package into ``reader.images`` (each as the Markdown image the stem shows) and
    ``reader.media``. Without a package a picture stays its alt text, with a warning; a picture
    not in the package, or not a PNG, JPEG or GIF, is a problem located at its element."""
    for element in reader.root.iter():
        name = local(element)
        if name == "img":
            src, alt = element.get("src") or "", element.get("alt") or ""
        elif name == "object" and (element.get("type") or "").lower().startswith("image/"):
            src, alt = element.get("data") or "", " ".join("".join(element.itertext()).split())
        else:
            continue
        ancestors = {local(a) for a in element.iterancestors()}
        if "item-body" not in ancestors:
            continue
        if ancestors & (SKIPPED - _NO_PICTURES):
            continue  # inside what the stem leaves out (a rubric block, an object's fallback)
        if ancestors & _NO_PICTURES:
            reader.warn(element, f"shows the image {src!r} in a choice or feedback: kept as "
                                 "its alt text")  # fmt: skip
            if name == "object":
                reader.images[element] = f"[image: {alt}]" if alt else "[image]"
            continue
        if package is None:
            reader.warn(
                element,
                f"shows the image {src!r}, read without its package: kept as its alt text "
                "(import the content package to keep the picture)",
            )
            if name == "object":
                reader.images[element] = f"[image: {alt}]" if alt else "[image]"
            continue
        target = resolve_href(path, src) if src else None
        file = package.binary(target, MAX_IMAGE_BYTES) if target else None
        if file is None:
            where = "which is a web address: put the file in the package" if "://" in src else (
                "which is not in the package")  # fmt: skip
            reader.problem(element, f"shows the image {src!r}, {where}")
            continue
        found = read_image(file.name, file.data)
        if isinstance(found, str):
            reader.problem(element, f"shows the image {src!r}, which {found}")
            continue
        reader.images[element] = image_markdown(alt, found.name)
        reader.media.append(found)
