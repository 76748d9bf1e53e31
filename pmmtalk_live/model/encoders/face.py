"""The reference face the pseudo-visual branch animates: the user's image, or one the project draws.

Wav2Lip was trained on tight face crops (brows to chin, cheeks at the edges) at 96x96, so both sources
end as uint8 RGB (96, 96, 3) framed that way; the mouth lies in the lower half, which the generator
repaints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import PmmtalkError

FACE_SIZE = 96
"""Side of the face crop the Wav2Lip generator takes, in pixels."""


class ReferenceFaceError(PmmtalkError):
    """A reference face image that cannot be used: missing, not an image, too small."""


def reference_face_from(path: str | Path | None) -> np.ndarray:
    """The face image at ``path`` cropped to 96x96, or the default face when ``path`` is None."""
    return default_face() if path is None else load_reference_face(path)


def default_face() -> np.ndarray:
    """A neutral frontal face with a closed mouth, drawn (not photographed): uint8 RGB (96, 96, 3).

    Drawn at 4x and downsampled, so the edges are smooth; the same pixels on every call.
    """
    from PIL import Image, ImageDraw

    scale = 4

    def box(x0, y0, x1, y1):
        return [x0 * scale, y0 * scale, x1 * scale, y1 * scale]

    image = Image.new("RGB", (FACE_SIZE * scale,) * 2, (70, 78, 92))
    draw = ImageDraw.Draw(image)
    skin, shade = (222, 170, 138), (196, 142, 112)
    draw.ellipse(box(2, -30, 94, 98), fill=(58, 40, 30))           # hair behind the head
    draw.ellipse(box(6, -14, 90, 94), fill=shade)                  # jaw shadow
    draw.ellipse(box(8, -16, 88, 90), fill=skin)                   # face
    draw.rectangle(box(6, -2, 90, 8), fill=(58, 40, 30))           # fringe
    for cx in (30, 66):
        draw.arc(box(cx - 11, 18, cx + 11, 30), 200, 340, fill=(70, 48, 36), width=3 * scale)   # brow
        draw.ellipse(box(cx - 9, 29, cx + 9, 38), fill=(236, 230, 224))                        # eye white
        draw.ellipse(box(cx - 4, 29, cx + 4, 38), fill=(84, 58, 40))                           # iris
        draw.ellipse(box(cx - 2, 31.5, cx + 2, 35.5), fill=(20, 14, 12))                        # pupil
        draw.arc(box(cx - 9, 28, cx + 9, 38), 180, 360, fill=(40, 26, 20), width=scale)         # upper lid
    draw.line(box(48, 38, 48, 54), fill=shade, width=2 * scale)                              # nose ridge
    draw.ellipse(box(41, 53, 55, 60), fill=shade)                                            # nose tip
    for cx in (44, 52):
        draw.ellipse(box(cx - 2, 57, cx + 2, 60), fill=(120, 72, 58))                          # nostrils
    draw.ellipse(box(36, 68, 60, 78), fill=(176, 92, 88))                                    # lips
    draw.line(box(37, 73, 59, 73), fill=(104, 46, 44), width=scale)                          # lips closed
    draw.ellipse(box(42, 82, 54, 86), fill=shade)                                            # chin shadow
    small = image.resize((FACE_SIZE, FACE_SIZE), Image.LANCZOS)
    return np.asarray(small, dtype=np.uint8).copy()


def load_reference_face(path: str | Path) -> np.ndarray:
    """The face in the image at ``path``, cropped square and resized: uint8 RGB (96, 96, 3).

    With OpenCV installed, its shipped Haar cascade finds the largest frontal face and the crop frames it
    like Wav2Lip's training faces (brows to chin, a little extra below for the chin); without OpenCV,
    or when no face is found, the centre square is used, so give a tight head shot then.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path).expanduser()
    if not path.is_file():
        raise ReferenceFaceError(f"reference face image not found: {path}")
    try:
        with Image.open(path) as opened:
            rgb = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ReferenceFaceError(f"{path}: not a readable image ({str(error).splitlines()[0][:100]})") from None
    height, width = rgb.shape[:2]
    if min(height, width) < 32:
        raise ReferenceFaceError(f"{path}: image is {width}x{height}; a face needs at least 32x32 pixels")
    left, top, side = _face_square(rgb) or _centre_square(width, height)
    crop = Image.fromarray(rgb[top:top + side, left:left + side])
    return np.asarray(crop.resize((FACE_SIZE, FACE_SIZE), Image.LANCZOS), dtype=np.uint8).copy()


def _centre_square(width: int, height: int) -> tuple[int, int, int]:
    side = min(width, height)
    return (width - side) // 2, (height - side) // 2, side


def _face_square(rgb: np.ndarray) -> tuple[int, int, int] | None:
    """(left, top, side) of a square around the largest detected face, inside the image; None if none."""
    try:
        import cv2
    except ImportError:
        return None
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(32, 32))
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    # Haar boxes stop near the lower lip; Wav2Lip's crops reach below the chin.
    height, width = grey.shape
    side = min(int(max(w, h * 1.15)), width, height)
    left = int(np.clip(x + w / 2 - side / 2, 0, width - side))
    top = int(np.clip(y, 0, height - side))
    return left, top, side
