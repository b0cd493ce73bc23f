"""Entry point: ``thresher COMMAND ...``. Bad input exits 2 with a one-paragraph message."""

from __future__ import annotations

import argparse
import sys

from thresher.errors import ThresherError


def build_parser() -> argparse.ArgumentParser:
    from thresher import __version__
    from thresher.cli import audit, check, evaluate, policy, runs, serve, tune
    from thresher.cli import plot, report

    parser = argparse.ArgumentParser(
        prog="thresher",
        description="Turn a classifier's scores into decisions a team can defend.",
    )
    parser.add_argument("--version", action="version", version=f"thresher {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    evaluate.add_parser(sub)
    tune.add_parser(sub)
    policy.add_parser(sub)
    report.add_parser(sub)
    plot.add_parser(sub)
    check.add_parser(sub)
    runs.add_parser(sub)
    serve.add_parser(sub)
    audit.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ThresherError as exc:
        from thresher.cli.output import err_console

        err_console.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
