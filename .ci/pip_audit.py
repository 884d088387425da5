"""pip-audit over the pinned requirements (`make deps-audit`, run by `make test`), where PyPI's vulnerability data can
be reached; otherwise skipped, saying why. Time-boxed: the static checks run before the suite.

pip-audit asks PyPI's JSON API for each pinned version (https://pypi.org/pypi/<name>/<version>/json, whose
"vulnerabilities" list comes from the Python Packaging Advisory Database). A machine that reaches only a package
mirror, or no network, gets no such answer: pip-audit would then fail on every package ("not found on PyPI"), which
says nothing about the packages. So this script first asks for one pinned version; if that answer does not come
with vulnerability data, the audit is skipped with the reason printed, and the run goes on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Both files: pip-audit without pip does not follow dev.txt's `-r base.txt`.
REQUIREMENTS = [ROOT / "requirements" / "base.txt", ROOT / "requirements" / "dev.txt"]
PROBE_TIMEOUT = 5
AUDIT_TIMEOUT = 30


def pinned_django() -> str:
    match = re.search(r"^Django==(\S+)", (ROOT / "requirements" / "base.txt").read_text(), re.MULTILINE)
    if match is None:
        raise SystemExit("requirements/base.txt must pin Django (Django==x.y.z).")
    return match.group(1)


def vulnerability_data_problem() -> str | None:
    """Why PyPI's vulnerability data cannot be read from here, or None when it can."""
    url = f"https://pypi.org/pypi/Django/{pinned_django()}/json"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        return f"{url} answers HTTP {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return f"{url} cannot be reached ({getattr(error, 'reason', error)})"
    except ValueError:
        return f"{url} does not answer JSON"
    if "vulnerabilities" not in answer:
        return f"{url} answers without vulnerability data"
    return None


def main() -> int:
    problem = vulnerability_data_problem()
    if problem:
        print(f"pip-audit skipped: PyPI's vulnerability data is out of reach here: {problem}.")
        return 0
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        *(option for path in REQUIREMENTS for option in ("--requirement", str(path))),
        # Every requirement is pinned (==): audit those versions as they are, without resolving them again in a
        # throw-away virtualenv (minutes, and a package download).
        "--no-deps",
        "--disable-pip",
        "--strict",
        "--progress-spinner",
        "off",
        "--timeout",
        str(PROBE_TIMEOUT * 2),
    ]
    try:
        audit = subprocess.run(command, cwd=ROOT, timeout=AUDIT_TIMEOUT, check=False)  # noqa: S603 (our own arguments)
    except subprocess.TimeoutExpired:
        print(f"pip-audit skipped: no answer within {AUDIT_TIMEOUT} s.")
        return 0
    return audit.returncode


if __name__ == "__main__":
    sys.exit(main())
