"""Pictures in QTI items: an ``img`` in an item body inside a content package is read from the
package, checked, and kept with the course (docs/qti.md, "Pictures").

Only PNG, JPEG and GIF files are kept, recognised by their first bytes (not by their names);
SVG is refused by name, since an SVG file can carry script.
"""

from __future__ import annotations

import hashlib

from zoped.domain.media import IMAGE_TYPES, MAX_IMAGE_BYTES, CourseMedia

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
