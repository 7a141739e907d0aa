"""Pictures a course's items show: image files kept with the course (docs/qti.md, "Pictures").

An image is named by its content, ``SHA256.EXT``, so the same picture has the same name in every
item and course, and a stem shows it as the Markdown image ``![alt](/media/SHA256.EXT)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Where pictures are served; a stem's image points here.
MEDIA_ROUTE = "/media/"
#: The image types kept, by content type, with the extension of their names.
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
#: A picture's name: its SHA-256 and the extension of its type.
MEDIA_NAME = re.compile(r"[0-9a-f]{64}\.(?:png|jpg|gif)")
#: A Markdown image that shows a course's picture (the alt text, the name).
MEDIA_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\(/media/([0-9a-f]{64}\.(?:png|jpg|gif))\)")
#: The largest picture kept, in bytes.
MAX_IMAGE_BYTES = 2 * 1024 * 1024
#: The most pictures one import may bring.
MAX_IMAGES = 200


@dataclass(frozen=True)
class CourseMedia:
    """One picture kept with a course.

    Attributes:
        name: ``SHA256.EXT`` (see :data:`MEDIA_NAME`).
        content_type: ``image/png``, ``image/jpeg`` or ``image/gif``.
        content: the file's bytes.
    """

    name: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        """The SHA-256 of the content, in hex (the name's first part)."""
        return self.name.split(".", 1)[0]


def image_markdown(alt: str, name: str) -> str:
    """The Markdown image a stem carries for a picture: its alt text on one line, brackets made
    parentheses (so the alt text cannot end the image early)."""
    text = " ".join(alt.split()).replace("[", "(").replace("]", ")")
    return f"![{text}]({MEDIA_ROUTE}{name})"
