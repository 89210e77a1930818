"""The ``isocnet`` console script: Django's management commands with our
settings (``isocnet migrate``, ``isocnet serve``, ``isocnet apikey create``).
``isocnet --help`` lists ours (and the few of Django's an operator needs);
``isocnet django help`` lists everything Django and its apps bring."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocnet.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - load settings now, to report a bad variable clearly
    except ImproperlyConfigured as exc:
        print(f"isocnet: configuration error: {exc}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] in ("-h", "--help", "help") and len(args) == 1):
        print(usage())
        return 0
    if args[0] == "django":  # everything Django and its apps bring
        args = args[1:] or ["help"]
    execute_from_command_line(["isocnet", *args])
    return 0


# Django's commands an operator of ISOCNET Billing uses, besides our own.
DJANGO_ESSENTIALS = ("migrate", "createsuperuser", "changepassword", "check")


def usage() -> str:
    """Our commands, each with the first line of its help."""
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    lines = ["Usage: isocnet <command> [options]   (isocnet <command> --help for its options)", ""]
    ours = sorted(name for name, app in get_commands().items() if app == "isocnet.cli")
    for title, names in (("ISOCNET Billing", ours), ("Set-up (Django)", DJANGO_ESSENTIALS)):
        lines.append(f"{title}:")
        for name in names:
            app = get_commands()[name]
            text = (load_command_class(app, name).help or "").strip().split("\n")[0]
            lines.append(f"  {name:<16} {text}")
        lines.append("")
    lines.append("Every command Django and its apps bring: isocnet django help")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
