"""QR codes of short URLs, as SVG (no image library needed in the page).

Wallets scan poorly past version 10 (57x57 modules), so the QR code holds only the short URL
``/i/<id>``; the invitation itself stays on the server.
"""

from __future__ import annotations

import qrcode
import qrcode.image.svg

MAX_VERSION = 10


def qr_svg(data: str) -> str:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        image_factory=qrcode.image.svg.SvgPathImage,
        border=2,
    )
    code.add_data(data)
    code.make(fit=True)
    if code.version > MAX_VERSION:  # a long public URL: better no QR code than an unscannable one
        raise ValueError(f"QR code version {code.version} > {MAX_VERSION} for {len(data)} chars")
    return code.make_image().to_string(encoding="unicode")


def qr_version(data: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    return code.version
