"""The `govqa` entry point: the app's commands plus `eval`, which lives with the eval suite
so that the app never imports it."""

from __future__ import annotations

from govqa.app.cli import app
from govqa.app.cli import main as app_main
from govqa.evals.cli import register

register(app)


def main() -> None:
    app_main()


if __name__ == "__main__":
    main()
