"""From a decoded image to clean sRGB pixels: orientation applied, colour converted out
of any embedded ICC profile, mode normalised to RGB or RGBA, transparency made honest.

Nothing here writes a file; ``app.media.sanitizers.images`` builds a fresh image from
the array these functions return, so no ``info`` of the upload can follow the pixels.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms, ImageOps

_ICC_MODES = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}  # profile colour space -> mode
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_WHITE = (255, 255, 255, 255)
_PROBE_LEVELS = 32


def upright(image: Image.Image) -> tuple[Image.Image, str | None]:
    """The image turned the way a viewer shows it (EXIF orientation applied), and a
    note when an unreadable orientation had to be ignored."""
    try:
        return ImageOps.exif_transpose(image), None
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return image, "The photo's orientation could not be read; it is kept as stored."


def to_srgb(image: Image.Image, icc: object) -> tuple[Image.Image, list[str]]:
    """An RGB or RGBA image in sRGB (possibly ``image`` itself: never modify the result).

    The ICC profile ``icc`` (the upload's, as bytes) is applied to the pixels with the
    perceptual intent and then forgotten; one that cannot be read or does not fit the
    pixels is ignored, with a note. Returns the image and the notes."""
    notes: list[str] = []
    colour, alpha = _split_alpha(image)
    converted: Image.Image | None = None
    if isinstance(icc, bytes) and icc:
        converted = _apply_profile(colour, icc)
        if converted is None:
            notes.append("The colour profile could not be applied; colours may look different.")
    if converted is not None:
        rgb = converted
    else:
        rgb = colour if colour.mode == "RGB" else colour.convert("RGB")
    if alpha is None:
        return rgb, notes
    return Image.merge("RGBA", (*rgb.split(), alpha)), notes


def _split_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """The colour part (mode L, RGB or CMYK where possible) and the alpha band, if any."""
    mode = image.mode
    if mode in _SIXTEEN_BIT:
        wide = np.clip(np.asarray(image).astype(np.int64), 0, 65535)
        narrow = ((wide * 255 + 32767) // 65535).astype(np.uint8)  # 16 to 8 bits, rounded
        return Image.fromarray(narrow, "L"), None
    if mode in ("P", "L", "RGB", "1") and image.has_transparency_data:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("La", "LA"):
        image = image.convert("LA")
        return image.getchannel("L"), image.getchannel("A")
    if mode in ("RGBa", "RGBA", "PA"):
        image = image.convert("RGBA")
        return image.convert("RGB"), image.getchannel("A")
    if mode in ("L", "RGB", "CMYK"):
        return image, None
    return image.convert("RGB"), None


def _apply_profile(colour: Image.Image, icc: bytes) -> Image.Image | None:
    """``colour`` converted from the profile ``icc`` to sRGB, or None if impossible."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space.strip()
        wanted = _ICC_MODES.get(space)
        if wanted is None or (colour.mode != wanted and (colour.mode, wanted) != ("L", "RGB")):
            return None  # a profile that does not describe these pixels: mislabelled
        source = colour if colour.mode == wanted else colour.convert(wanted)
        transform = ImageCms.buildTransform(profile, _srgb(), wanted, "RGB")
        if wanted == "RGB" and _is_identity(transform):
            return source  # an sRGB profile (most cameras): converting would change nothing
        result = ImageCms.applyTransform(source, transform)
    except (OSError, ValueError, ImageCms.PyCMSError):
        return None
    return result if isinstance(result, Image.Image) else None


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.cache
def _probe() -> tuple[Image.Image, np.ndarray]:
    """32 levels per channel of RGB (32,768 colours), as an image and an int array."""
    levels = np.linspace(0, 255, _PROBE_LEVELS).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    colours = np.ascontiguousarray(grid.reshape(1, -1, 3))
    return Image.fromarray(colours, "RGB"), colours.astype(np.int16)


def _is_identity(transform: ImageCms.ImageCmsTransform) -> bool:
    """Whether a transform moves no probe colour by more than one level (a profile
    that is sRGB in all but name); applying it to 12 MP costs about 0.4 s."""
    image, colours = _probe()
    moved = ImageCms.applyTransform(image, transform)
    if not isinstance(moved, Image.Image):
        return False
    return int(np.abs(np.asarray(moved, dtype=np.int16) - colours).max()) <= 1


def settle_alpha(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """RGB, or RGBA only where ``keep_alpha`` and some pixel is not fully opaque.

    Without ``keep_alpha`` (JPEG output) transparency is composited over white. With it,
    colour is premultiplied by alpha and back, so a fully transparent pixel keeps no
    colour and a nearly transparent one keeps almost none: an "erased" face left in the
    colour channels under zero alpha does not survive.
    """
    if image.mode != "RGBA":
        return image if image.mode == "RGB" else image.convert("RGB")
    if not keep_alpha:
        backdrop = Image.new("RGBA", image.size, _WHITE)
        return Image.alpha_composite(backdrop, image).convert("RGB")
    low, _high = image.getchannel("A").getextrema()
    if isinstance(low, int | float) and low >= 255:
        return image.convert("RGB")
    return image.convert("RGBa").convert("RGBA")


__all__ = ["settle_alpha", "to_srgb", "upright"]
