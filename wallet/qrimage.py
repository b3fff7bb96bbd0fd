"""Reading the text of a QR code from a picture (PNG or JPEG): what a phone camera does.

zxing-cpp (a self-contained wheel) finds and decodes the code; Pillow opens the image. Both run
on untrusted uploads, so the bytes and the pixel count are bounded before decoding (Pillow's
decompression-bomb check is made an error here, not a warning).
"""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_PIXELS = 25_000_000  # a 5000 x 5000 photo; screenshots and camera shots are well below
FORMATS = ("PNG", "JPEG")


class QRImageError(ValueError):
    """The picture is not a readable PNG/JPEG with a QR code in it."""


def decode_qr(data: bytes) -> str:
    """The text of the (first) QR code in the picture."""
    if not data:
        raise QRImageError("the image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise QRImageError(f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise QRImageError("the image has too many pixels")
            image.load()
    except QRImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise QRImageError("not a PNG or JPEG image") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise QRImageError(f"the image cannot be read: {exc}") from None
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    codes = [
        code
        for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        if code.valid and code.text
    ]
    if not codes:
        raise QRImageError("no QR code found in the image")
    return codes[0].text
