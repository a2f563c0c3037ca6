#!/usr/bin/env bash
# Renders a ttfa HTML report in headless Chromium (Debian's `chromium`) and writes a PNG of the
# whole page: how docs/report.png, the README's picture, is made.
#   scripts/report-screenshot.sh report.html docs/report.png [width]
set -euo pipefail
html=${1:?usage: report-screenshot.sh REPORT.html OUT.png [WIDTH]}
png=${2:?usage: report-screenshot.sh REPORT.html OUT.png [WIDTH]}
width=${3:-820}
if ! command -v chromium >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get install -y -q chromium >/dev/null
fi
# A window taller than any report; the empty part below the footer is cut off afterwards.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="${width},6000" --screenshot="$png" "file://$(realpath "$html")" 2>/dev/null
# Trim the empty page below the footer (Pillow from Debian's python3-pil, so Debian's own python3).
/usr/bin/python3 -c 'import PIL' 2>/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"; $sudo apt-get install -y -q python3-pil >/dev/null; }
/usr/bin/python3 - "$png" <<'PY'
import sys
from PIL import Image, ImageChops
path = sys.argv[1]
image = Image.open(path).convert("RGB")
box = ImageChops.difference(image, Image.new("RGB", image.size, (255, 255, 255))).getbbox()
if box:
    image = image.crop((0, 0, image.width, min(image.height, box[3] + 24)))
image.save(path, optimize=True)
print(f"{path}: {image.width}x{image.height}")
PY
