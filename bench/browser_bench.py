"""First-answer latency in a real browser on the full corpus: send → first token, send → full answer.

Usage: python bench/browser_bench.py   (needs /usr/bin/chromium; uses the project's index, building it if needed)
"""

from __future__ import annotations

import sys
from pathlib import Path

from govqa.evals.metrics import percentile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from serving import running_server
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
    with running_server() as (url, _):
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


if __name__ == "__main__":
    main()
