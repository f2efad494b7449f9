"""First-answer latency in a real browser on the full corpus: send → first token, send → full answer.

Usage: python bench/browser_bench.py   (needs /usr/bin/chromium; uses the project's index, building it if needed)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from govqa.evals.metrics import percentile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_web_browser import CHROMIUM, CHROMIUM_ARGS, _ask

QUESTIONS = [
    "When did China's Interim Measures for the Management of Generative AI Services take effect?",
    "生成式人工智能服务管理暂行办法由哪些部门联合发布？",
    "What does California SB 53 require of frontier AI developers?",
    "DeepSeek 的安全框架有哪些缺失？",
    "Which companies signed the EU GPAI code of practice?",
    "欧盟人工智能法的罚款上限是多少？",
]


def main() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "govqa.app.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("govqa serve did not come up") from None
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#govqa-question textarea")
            first, full = [], []
            for turn, question in enumerate(QUESTIONS, start=1):
                timing = _ask(page, question, turn)
                first.append(timing["first_token_ms"])
                full.append(timing["full_answer_ms"])
            browser.close()
        print(f"browser, full corpus, {len(QUESTIONS)} questions (EN+ZH):")
        print(f"  send → first token: p50 {percentile(first, 50):.0f} ms, max {max(first):.0f} ms")
        print(f"  send → full answer: p50 {percentile(full, 50):.0f} ms, max {max(full):.0f} ms")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
