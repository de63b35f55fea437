"""Take docs/screenshot.png: the real app answering a question with its sources.

    .venv/bin/python -m scripts.screenshot [--question TEXT] [--out docs/screenshot.png]

Starts `meditron-rag ui --seed corpora/starter` on a free port over a fresh data directory
(or --data-dir), asks the question in Debian's headless Chromium (/usr/bin/chromium, driven
by Playwright; no browser is downloaded) and saves the window, under 300 KB.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.probe import free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MAX_BYTES = 300 * 1024


def shrink(path: Path) -> None:
    """Quantise to a palette if the PNG is over the limit (a screenshot has few colours)."""
    if path.stat().st_size <= MAX_BYTES:
        return
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=128).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--question", default="At what age should colorectal cancer screening "
                                               "start, and how often is a colonoscopy repeated?")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--data-dir", type=Path, help="Default: a fresh temporary folder.")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    data = args.data_dir or Path(tempfile.mkdtemp(prefix="meditron-shot-")) / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MEDITRON_RAG_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    script = Path(sys.executable).with_name("meditron-rag")
    proc = subprocess.Popen(
        [str(script), "ui", "--seed", str(ROOT / "corpora" / "starter"), "--port", str(port),
         "--host", "127.0.0.1"], cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        if problem := wait_healthy(url, proc, 600):
            sys.exit(problem)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            expect.set_options(timeout=300_000)
            page.goto(url)
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill(args.question)
            box.press("Enter")
            expect(page.get_by_text(re.compile(r"^\[1\] ")).first).to_be_visible()
            page.wait_for_timeout(1000)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
        shrink(args.out)
        print(f"{args.out} ({args.out.stat().st_size // 1024} KB)")
    finally:
        stop(proc, 20)


if __name__ == "__main__":
    main()
